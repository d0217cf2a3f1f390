package server_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGlanceTaskCLI creates a legacy import task with Debian's
// python3-glanceclient (`glance task-create`), follows it with
// `task-show` and `task-list`, and checks the image it made. It runs when
// GLINT_TEST_GLANCE_CLI names the glance command.
func TestGlanceTaskCLI(t *testing.T) {
	cli := glanceCLI(t)
	dir := t.TempDir()
	qemuFile(t, dir, "src.qcow2", "64M")
	webURL, port := serveDir(t, dir)
	g := glanceServe(t, cli, fmt.Sprintf("import:\n  web_download:\n    allowed_networks: [127.0.0.1/32]\n    allowed_ports: [80, 443, %s]\n", port))
	glance := g.glance
	input := `{"import_from": "` + webURL + `/src.qcow2", "import_from_format": "qcow2", "image_properties": {"name": "from-task", "disk_format": "qcow2", "container_format": "bare"}}`
	out := glance("task-create", "--type", "import", "--input", input)
	if !strings.Contains(out, "| pending") {
		t.Fatalf("task-create:\n%s", out)
	}
	id := idOf(t, out)
	deadline := time.Now().Add(60 * time.Second)
	for {
		out = glance("task-show", id)
		if strings.Contains(out, "| success") || strings.Contains(out, "| failure") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task-show:\n%s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	result := regexp.MustCompile(`\|\s*result\s*\|\s*(\{.*\})\s*\|`).FindStringSubmatch(out)
	if !strings.Contains(out, "| success") || result == nil {
		t.Fatalf("task-show:\n%s", out)
	}
	var r struct {
		ImageID string `json:"image_id"`
	}
	if err := json.Unmarshal([]byte(result[1]), &r); err != nil || r.ImageID == "" {
		t.Fatalf("task result %q: %v", result[1], err)
	}
	img := glance("image-show", r.ImageID)
	for _, want := range []string{"| from-task", "| active", "| qcow2", "| 67108864"} {
		if !strings.Contains(img, want) {
			t.Errorf("image-show lacks %q:\n%s", want, img)
		}
	}
	if list := glance("task-list", "--type", "import", "--status", "success"); !strings.Contains(list, id) {
		t.Errorf("task-list:\n%s", list)
	}
	// glanceclient validates --input as JSON itself; glint refuses a file
	// source with Glance's message.
	out, err := g.glanceErr("task-create", "--type", "import", "--input",
		`{"import_from": "file:///etc/passwd", "import_from_format": "raw", "image_properties": {}}`)
	if err == nil || !strings.Contains(out, "File based imports are not allowed") {
		t.Errorf("task-create from a file: %v\n%s", err, out)
	}
}
