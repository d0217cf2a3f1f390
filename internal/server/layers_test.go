package server_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps the picture README draws: the domain packages know no
// transport, and the configuration and command tree name no storage driver
// themselves (server assembles the drivers). A new import that breaks it
// fails here, not in a later review.
func TestLayers(t *testing.T) {
	deps := func(t *testing.T, pkg, format string) []string {
		out, err := exec.Command("go", "list", "-deps", "-f", format, pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	const mod = "github.com/glint-image/glint/internal/"
	for _, p := range []string{"image", "metadef", "task", "caller", "policy", "checksum"} {
		for _, d := range deps(t, mod+p, "{{.ImportPath}}") {
			if d == "net/http" {
				t.Errorf("%s depends on net/http: the domain knows no transport", p)
			}
		}
	}
	drivers := map[string]bool{mod + "blob/filesystem": true, mod + "blob/s3": true, mod + "blob/rbd": true}
	for _, p := range []string{"config", "cli"} {
		out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, mod+p).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", p, err)
		}
		for _, imp := range strings.Fields(string(out)) {
			if drivers[imp] {
				t.Errorf("%s imports the driver %s: drivers are assembled in server", p, imp)
			}
		}
	}
	for _, d := range deps(t, mod+"config", "{{.ImportPath}}") {
		if drivers[d] {
			t.Errorf("config depends on the driver %s", d)
		}
	}
}
