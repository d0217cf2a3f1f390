package server_test

import (
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGlanceCLIDirectURL: with show_image_direct_url and
// show_multiple_locations on, Debian's real `glance image-show` (which
// checks records against glint's image schema) shows the image's
// direct_url and locations. GLINT_TEST_GLANCE_CLI names the command.
func TestGlanceCLIDirectURL(t *testing.T) {
	cli := os.Getenv("GLINT_TEST_GLANCE_CLI")
	if cli == "" {
		t.Skip("GLINT_TEST_GLANCE_CLI is not set; set it to the glance command to run this test")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	data := filepath.Join(dir, "data")
	conf := filepath.Join(dir, "glint.yaml")
	if err := os.WriteFile(conf, []byte("show_image_direct_url: true\nshow_multiple_locations: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	password := rand.Text()
	p := launch(t, addr, []string{"GLINT_BOOTSTRAP_PASSWORD=" + password}, "serve", "--config", conf, "--data-dir", data, "--listen", addr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		if resp, err := http.Get(p.url + "/versions"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("glint did not answer:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	env := []string{"OS_AUTH_URL=http://" + addr + "/identity/v3", "OS_USERNAME=admin", "OS_PASSWORD=" + password,
		"OS_PROJECT_NAME=admin", "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_IDENTITY_API_VERSION=3"}
	file := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(file, []byte(strings.Repeat("glint", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := oscErr(cli, env, "image-create", "--name", "located", "--disk-format", "raw", "--container-format", "bare", "--file", file)
	if err != nil {
		t.Fatalf("glance image-create: %v\n%s", err, out)
	}
	id := ""
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, "|"); len(f) > 2 && strings.TrimSpace(f[1]) == "id" {
			id = strings.TrimSpace(f[2])
		}
	}
	if id == "" {
		t.Fatalf("no id in:\n%s", out)
	}
	out, err = oscErr(cli, env, "image-show", id)
	if err != nil {
		t.Fatalf("glance image-show: %v\n%s", err, out)
	}
	// The table wraps long values: compare with the cells' text run
	// together.
	compact := strings.NewReplacer(" ", "", "|", "", "\n", "").Replace(out)
	url := "file://" + filepath.Join(data, "images", "blobs", id)
	for _, want := range []string{"direct_url" + url + "disk_format", `locations[{"url":"` + url + `","metadata":{}}]`} {
		if !strings.Contains(compact, want) {
			t.Errorf("glance image-show lacks %q:\n%s", want, out)
		}
	}
}
