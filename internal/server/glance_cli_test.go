package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlanceMetadefCLI drives a real `glint serve` (built-in identity)
// with the real `glance md-*` commands of Debian's python3-glanceclient:
// glint's shipped definitions and definitions loaded from files in
// Glance's format with `glint admin metadefs load` are listed and shown,
// paged and prefixed, as glanceclient expects (it validates answers
// against glint's /v2/schemas/metadefs/namespace), and `glint admin
// metadefs export` writes them back while the server runs. It runs when
// GLINT_TEST_GLANCE_CLI names the glance command (.ci/run installs it and
// sets it).
func TestGlanceMetadefCLI(t *testing.T) {
	dir := t.TempDir()
	g := glanceServe(t, glanceCLI(t), "", func(data string) {
		if out, err := exec.Command(glintBinary, "admin", "metadefs", "load", "--data-dir", data, "../metadef/testdata/glance").CombinedOutput(); err != nil {
			t.Fatalf("glint admin metadefs load: %v\n%s", err, out)
		} else if strings.Count(string(out), "created") != 3 {
			t.Fatalf("glint admin metadefs load:\n%s", out)
		}
	})
	glance := g.glance
	wantIn := func(what, out string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q:\n%s", what, w, out)
			}
		}
	}

	// The list pages through glint's next links (20 per page by default;
	// 3 here), shipped namespaces and loaded ones together.
	list := glance("md-namespace-list", "--page-size", "3")
	wantIn("md-namespace-list", list, "| OS::Compute::Watchdog", "| OS::Compute::LibvirtImage", "| SCS::Image::Metadata",
		"| Example::Compute::Pinning", "| Example::Software::Exported")
	if n := strings.Count(list, "| OS::") + strings.Count(list, "| SCS::") + strings.Count(list, "| Example::"); n != 18 {
		t.Errorf("md-namespace-list shows %d namespaces, want 18 (15 shipped, 3 loaded):\n%s", n, list)
	}
	flavor := glance("md-namespace-list", "--resource-types", "OS::Nova::Flavor")
	wantIn("md-namespace-list --resource-types", flavor, "OS::Compute::Watchdog", "OS::Compute::CPUPinning", "Example::Compute::Pinning")
	if strings.Contains(flavor, "OS::Compute::LibvirtImage") {
		t.Errorf("an image-only namespace is listed for flavors:\n%s", flavor)
	}

	show := glance("md-namespace-show", "OS::Compute::Watchdog")
	wantIn("md-namespace-show", show, "Watchdog Behavior", `["watchdog_action"]`,
		`["OS::Glance::Image", "OS::Cinder::Volume", "OS::Nova::Flavor"]`, "| protected                  | True")
	prefixed := glance("md-namespace-show", "--resource-type", "OS::Glance::Image", "Example::Compute::Pinning")
	wantIn("md-namespace-show --resource-type", prefixed, `"hw_cpu_policy"`, `"hw_cpu_cores"`, "Example pinning")
	wantIn("md-namespace-show of an exported file", glance("md-namespace-show", "Example::Software::Exported"),
		`["Database", "Cache"]`, "| visibility                 | private")
	wantIn("md-property-show", glance("md-property-show", "Example::Compute::Pinning", "cpu_cores"), "| maximum  | 64", "| default  | 1")

	// Export while the server runs.
	out, err := exec.Command(glintBinary, "admin", "metadefs", "export", "--data-dir", g.data, filepath.Join(dir, "export")).CombinedOutput()
	if err != nil || strings.Count(string(out), "wrote ") != 18 {
		t.Fatalf("glint admin metadefs export: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "export", "OS-Compute-Watchdog.json")); err != nil || !strings.Contains(string(b), `"watchdog_action"`) {
		t.Errorf("exported watchdog: %v %s", err, b)
	}
}
