//go:build ceph

package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/testenv"
)

// TestRBDGlanceCLILocations drives a real `glint serve` built with the
// RBD store with Debian's python3-glanceclient: image-show gives the
// rbd:// direct_url, location-add turns a queued image active from an
// RBD image made outside glint, location-update and location-delete
// follow Glance's rules. Needs GLINT_TEST_GLANCE_CLI and the cluster of
// .ci/ceph.sh (GLINT_TEST_CEPH_*).
func TestRBDGlanceCLILocations(t *testing.T) {
	cli := glanceCLI(t)
	cephConf := os.Getenv("GLINT_TEST_CEPH_CONF")
	if cephConf == "" {
		testenv.Missing(t, "GLINT_TEST_CEPH_CONF is not set (.ci/ceph.sh starts a cluster and sets GLINT_TEST_CEPH_*)")
	}
	keyring, user, pool := os.Getenv("GLINT_TEST_CEPH_KEYRING"), os.Getenv("GLINT_TEST_CEPH_USER"), os.Getenv("GLINT_TEST_CEPH_POOL")
	rbdCmd := func(args ...string) (string, error) {
		cmd := exec.Command("rbd", append([]string{"--conf", cephConf, "--id", user, "--keyring", keyring, "--pool", pool}, args...)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	var fsid string
	conf, _ := os.ReadFile(cephConf)
	for _, line := range strings.Split(string(conf), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsid" {
			fsid = strings.TrimSpace(v)
		}
	}

	dir := t.TempDir()
	g := glanceServe(t, cli, fmt.Sprintf(`show_image_direct_url: true
show_multiple_locations: true
default_store: ceph
stores:
- id: ceph
  type: rbd
  rbd: {pool: %s, user: %s, ceph_conf: %s, keyring: %s}
- id: files
  type: file
  path: %s
`, pool, user, cephConf, keyring, filepath.Join(dir, "files")))
	glance := g.glance

	// Upload to RBD: direct_url is the snapshot Nova clones.
	file := filepath.Join(dir, "disk.raw")
	data := make([]byte, 1<<20+7)
	rand.Read(data)
	os.WriteFile(file, data, 0o600)
	up := idOf(t, glance("image-create", "--name", "up", "--disk-format", "raw", "--container-format", "bare", "--file", file))
	if show := compact(glance("image-show", up)); !strings.Contains(show, "direct_url"+"rbd://"+fsid+"/"+pool+"/"+up+"/snap") {
		t.Errorf("image-show lacks the rbd direct_url:\n%s", show)
	}

	// location-add: an RBD image made outside glint, onto a queued image.
	ext := "cli-" + strings.ToLower(rand.Text())[:10]
	for _, args := range [][]string{{"import", file, ext}, {"snap", "create", ext + "@snap"}, {"snap", "protect", ext + "@snap"}} {
		if out, err := rbdCmd(args...); err != nil {
			t.Fatalf("rbd %v: %v %s", args, err, out)
		}
	}
	url := "rbd://" + fsid + "/" + pool + "/" + ext + "/snap"
	// Created over the API: glance image-create with no tty on stdin
	// uploads stdin (nothing), which would make the image active.
	queued := createQueued(t, g.url, g.password)
	if out, err := g.glanceErr("location-add", "--url", "rbd://"+fsid+"/"+pool+"/no-such-image/snap", queued); err == nil ||
		!strings.Contains(out, "names no image") {
		t.Errorf("location-add of a missing RBD image: %v\n%s", err, out)
	}
	glance("location-add", "--url", url, "--metadata", `{"store": "ceph"}`, queued)
	show := compact(glance("image-show", queued))
	for _, want := range []string{"statusactive", "size1048583", "direct_url" + url, `locations[{"url":"` + url + `","metadata":{"store":"ceph"}}]`} {
		if !strings.Contains(show, want) {
			t.Errorf("image-show after location-add lacks %s:\n%s", want, show)
		}
	}
	// location-update replaces the location's metadata, which is kept
	// and shown beside the store.
	glance("location-update", "--url", url, "--metadata", `{"k": "v"}`, queued)
	if show := compact(glance("image-show", queued)); !strings.Contains(show, `"metadata":{"k":"v","store":"ceph"}`) {
		t.Errorf("image-show after location-update lacks the metadata:\n%s", show)
	}
	// location-delete of the only location: refused (403).
	if out, err := g.glanceErr("location-delete", "--url", url, queued); err == nil || !strings.Contains(out, "Cannot remove last location") {
		t.Errorf("location-delete of the last location: %v\n%s", err, out)
	}
	// With a second copy (copy-image to files), that copy can go.
	glance("image-import", "--import-method", "copy-image", "--stores", "files", queued)
	var fileURL string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && fileURL == ""; time.Sleep(200 * time.Millisecond) {
		if s := compact(glance("image-show", queued)); strings.Contains(s, `"url":"file://`) {
			i := strings.Index(s, `"url":"file://`) + len(`"url":"`)
			fileURL = s[i : i+strings.Index(s[i:], `"`)]
		}
	}
	if fileURL == "" {
		t.Fatal("copy-image to files did not finish")
	}
	glance("location-delete", "--url", fileURL, queued)
	if show := compact(glance("image-show", queued)); strings.Contains(show, "file://") || !strings.Contains(show, "storesceph") {
		t.Errorf("image-show after location-delete:\n%s", show)
	}
	glance("image-delete", queued)
	glance("image-delete", up)
	if out, err := rbdCmd("info", ext); err == nil {
		t.Errorf("the RBD image is left after image-delete:\n%s", out)
	}
}

// createQueued creates a queued image as admin over the API and returns
// its id.
func createQueued(t *testing.T, base, password string) string {
	t.Helper()
	token := adminToken(t, base, password)
	req, _ := http.NewRequest("POST", base+"/v2/images", strings.NewReader(`{"name":"located","disk_format":"raw","container_format":"bare"}`))
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var img struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&img); err != nil || resp.StatusCode != 201 || img.ID == "" {
		t.Fatalf("creating a queued image: %d %v", resp.StatusCode, err)
	}
	return img.ID
}
