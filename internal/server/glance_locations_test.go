package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGlanceCLIDirectURL: with show_image_direct_url and
// show_multiple_locations on, Debian's real `glance image-show` (which
// checks records against glint's image schema) shows the image's
// direct_url and locations. GLINT_TEST_GLANCE_CLI names the command.
func TestGlanceCLIDirectURL(t *testing.T) {
	g := glanceServe(t, glanceCLI(t), "show_image_direct_url: true\nshow_multiple_locations: true\n")
	file := filepath.Join(t.TempDir(), "disk.raw")
	if err := os.WriteFile(file, []byte(strings.Repeat("glint", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	id := idOf(t, g.glance("image-create", "--name", "located", "--disk-format", "raw", "--container-format", "bare", "--file", file))
	out := g.glance("image-show", id)
	url := "file://" + filepath.Join(g.data, "images", "blobs", id)
	for _, want := range []string{"direct_url" + url + "disk_format", `locations[{"url":"` + url + `","metadata":{}}]`} {
		if !strings.Contains(compact(out), want) {
			t.Errorf("glance image-show lacks %q:\n%s", want, out)
		}
	}
}
