package imagecli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/cli"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// TestRegistered runs `glint image` through the program's own entry
// point, with real OS_* variables, and checks the exit codes.
func TestRegistered(t *testing.T) {
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "pw")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ts := servertest.Start(t, cfg)
	for k, v := range map[string]string{"OS_AUTH_URL": ts.URL + "/identity/v3", "OS_USERNAME": "admin", "OS_PASSWORD": "pw",
		"OS_PROJECT_NAME": "admin", "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default",
		"OS_CLOUD": "", "OS_CLIENT_CONFIG_FILE": "", "OS_TOKEN": "", "OS_ENDPOINT": "", "HOME": t.TempDir()} {
		t.Setenv(k, v)
	}
	var out, errw bytes.Buffer
	if code := cli.Main([]string{"image", "create", "via-main", "-f", "value", "-c", "name"}, &out, &errw); code != 0 ||
		out.String() != "via-main\n" {
		t.Fatalf("create: exit %d, %q %q", code, out.String(), errw.String())
	}
	out.Reset()
	if code := cli.Main([]string{"image", "show", "nope"}, &out, &errw); code != 1 ||
		!strings.Contains(errw.String(), "glint: No Image found for nope") {
		t.Fatalf("show nope: exit %d, %q", code, errw.String())
	}
}
