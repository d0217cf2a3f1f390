package manager_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/cli"
)

// TestManageRegistered runs glint manage through the program's entry
// point: --check-only needs no cloud, and bad files exit 1 with every
// problem on stderr.
func TestManageRegistered(t *testing.T) {
	var out, errw bytes.Buffer
	if code := cli.Main([]string{"manage", "--check-only", "--images", "../../../shared/data/image-definitions"}, &out, &errw); code != 0 ||
		!strings.Contains(out.String(), "19 definition(s) in 5 file(s) are valid.") {
		t.Fatalf("exit %d: %s %s", code, out.String(), errw.String())
	}
	dir := t.TempDir()
	os.WriteFile(dir+"/bad.yml", []byte("images:\n  - name: x\n    enable: maybe\n"), 0o600)
	out.Reset()
	errw.Reset()
	if code := cli.Main([]string{"manage", "--check-only", "--images", dir}, &out, &errw); code != 1 ||
		!strings.Contains(errw.String(), dir+"/bad.yml:3:13: images[0].enable: must be a boolean") ||
		!strings.Contains(errw.String(), dir+"/bad.yml:2:5: images[0].format: is required but missing") {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	out.Reset()
	if code := cli.Main([]string{"manage", "--check-only", "--images", dir, "--output", "json"}, &out, &errw); code != 1 ||
		!strings.Contains(out.String(), `"key": "images[0].enable"`) {
		t.Fatalf("json: exit %d: %s", code, out.String())
	}
}
