//go:build ceph

package api_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob/rbd"
	"github.com/glint-image/glint/internal/config"
)

// rbdConfig is the cluster .ci/ceph.sh starts; skips without it.
func rbdConfig(t testing.TB) rbd.Config {
	t.Helper()
	conf := os.Getenv("GLINT_TEST_CEPH_CONF")
	if conf == "" {
		t.Skip("GLINT_TEST_CEPH_CONF not set (source .ci/ceph.sh for a throwaway cluster)")
	}
	return rbd.Config{ConfFile: conf, Keyring: os.Getenv("GLINT_TEST_CEPH_KEYRING"),
		User: os.Getenv("GLINT_TEST_CEPH_USER"), Pool: os.Getenv("GLINT_TEST_CEPH_POOL"), ChunkSizeMiB: 1}
}

// rbdCLI runs Ceph's rbd command as the test client.
func rbdCLI(c rbd.Config, args ...string) ([]byte, error) {
	base := []string{"--conf", c.ConfFile, "--id", c.User, "--keyring", c.Keyring, "--pool", c.Pool}
	var stderr bytes.Buffer
	cmd := exec.Command("rbd", append(base, args...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: stderr.Bytes()}
	}
	return out, nil
}

// rbdStores: an RBD store (the default), a file store and, when the S3
// test server is configured (CI), an S3 store.
func rbdStores(t testing.TB, c rbd.Config) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Stores = []config.Store{
			{ID: "ceph", Type: "rbd", RBD: c},
			{ID: "files", Type: "file", Path: filepath.Join(cfg.DataDir, "files")},
		}
		if ep := os.Getenv("GLINT_TEST_S3_ENDPOINT"); ep != "" {
			cfg.Stores = append(cfg.Stores, config.Store{ID: "objects", Type: "s3", S3: config.S3{Endpoint: ep,
				Bucket: s3Bucket, Prefix: "rbd-" + strings.ToLower(rand.Text())[:12] + "/", PathStyle: true, CreateBucket: true,
				AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}})
		}
		cfg.DefaultStore = "ceph"
	}
}

func randomDisk(n int) []byte {
	p := make([]byte, n)
	rand.Read(p)
	return p
}

func md5Hex(p []byte) string {
	s := md5.Sum(p)
	return hex.EncodeToString(s[:])
}

// TestRBDStoreTransfers: upload, stage and import, copy-image in both
// directions between RBD and file (and S3), all_stores, downloads from
// each, and deletion of every copy.
func TestRBDStoreTransfers(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, rbdStores(t, c))
	others := "files"
	if os.Getenv("GLINT_TEST_S3_ENDPOINT") != "" {
		others = "files,objects"
	}
	octet := map[string]string{"Content-Type": "application/octet-stream"}

	// Upload to RBD (the default store): an RBD image named by the image
	// id with a protected snapshot.
	up := randomDisk(3<<20 + 4321)
	id := e.createImage(t, `{"name":"up","disk_format":"raw","container_format":"bare"}`)
	if resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file", octet, string(up)); resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	img := e.imageJSON(t, id)
	if img["status"] != "active" || img["stores"] != "ceph" || img["checksum"] != md5Hex(up) {
		t.Fatalf("after upload: %v", img)
	}
	info, err := rbdCLI(c, "info", id+"@snap")
	if err != nil || !strings.Contains(string(info), "protected: True") {
		t.Fatalf("rbd info %s@snap: %s %v", id, info, err)
	}
	if resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 || got != string(up) {
		t.Fatalf("download from RBD: %d, %d bytes", resp.StatusCode, len(got))
	}

	// copy-image RBD -> the others, then download from each copy.
	if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"},"all_stores":true}`); code != 202 {
		t.Fatalf("copy-image to all stores: %d %s", code, body)
	}
	img = e.waitImage(t, id, importEnded)
	if img["stores"] != "ceph,"+others || img["os_glance_failed_import"] != "" {
		t.Fatalf("after copy-image from RBD: %v (task %v)", img, e.waitTaskAs(t, "admin", id))
	}

	// Upload to the file store, copy-image to RBD.
	second := randomDisk(2<<20 + 17)
	id2 := e.createImage(t, `{"name":"to-rbd","disk_format":"raw","container_format":"bare"}`)
	if resp, body := e.do("owner", "PUT", "/v2/images/"+id2+"/file",
		map[string]string{"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "files"}, string(second)); resp.StatusCode != 204 {
		t.Fatalf("upload to files: %d %s", resp.StatusCode, body)
	}
	if code, body := e.importImage(t, "admin", id2, `{"method":{"name":"copy-image"},"stores":["ceph"]}`); code != 202 {
		t.Fatalf("copy-image to RBD: %d %s", code, body)
	}
	if img := e.waitImage(t, id2, importEnded); img["stores"] != "files,ceph" {
		t.Fatalf("after copy-image to RBD: %v (task %v)", img, e.waitTaskAs(t, "admin", id2))
	}
	if out, err := rbdCLI(c, "export", id2+"@snap", "-"); err != nil || !bytes.Equal(out, second) {
		t.Fatalf("rbd export of the copy: %d bytes, %v", len(out), err)
	}

	// Stage, then glance-direct import to every store.
	staged := randomDisk(1<<20 + 99)
	id3 := e.createImage(t, `{"name":"staged","disk_format":"raw","container_format":"bare"}`)
	e.stage(t, id3, staged)
	if code, body := e.importImage(t, "owner", id3, `{"method":{"name":"glance-direct"},"all_stores":true}`); code != 202 {
		t.Fatalf("glance-direct import: %d %s", code, body)
	}
	if img := e.waitImage(t, id3, importEnded); img["status"] != "active" || img["stores"] != "ceph,"+others || img["checksum"] != md5Hex(staged) {
		t.Fatalf("after glance-direct to all stores: %v (task %v)", img, e.waitTask(t, id3))
	}
	if resp, got := e.do("owner", "GET", "/v2/images/"+id3+"/file", nil, ""); resp.StatusCode != 200 || got != string(staged) {
		t.Fatalf("download of the imported image: %d, %d bytes", resp.StatusCode, len(got))
	}

	// Deleting removes every copy, the RBD image and its snapshot too.
	for _, id := range []string{id, id2, id3} {
		if resp, body := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
			t.Fatalf("delete %s: %d %s", id, resp.StatusCode, body)
		}
		if _, err := rbdCLI(c, "info", id); err == nil {
			t.Errorf("RBD image %s left after delete", id)
		}
	}
	if n := countFiles(t, filepath.Join(e.dir, "files", "blobs")); n != 0 {
		t.Errorf("%d files left in the file store", n)
	}
}

// TestRBDDeleteWithClone: while a clone of the image's snapshot exists
// (a Nova disk), DELETE answers 409 as Glance does and nothing changes;
// once the clone is gone the image deletes.
func TestRBDDeleteWithClone(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		rbdStores(t, c)(cfg)
		cfg.ShowImageDirectURL = true
	})
	data := randomDisk(2<<20 + 5)
	id := e.createImage(t, `{"name":"base","disk_format":"raw","container_format":"bare"}`)
	if resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(data)); resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	// direct_url names the snapshot Nova clones, on this cluster.
	conf, _ := os.ReadFile(c.ConfFile)
	var fsid string
	for _, line := range strings.Split(string(conf), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsid" {
			fsid = strings.TrimSpace(v)
		}
	}
	if got, want := e.imageJSON(t, id)["direct_url"], "rbd://"+fsid+"/"+c.Pool+"/"+id+"/snap"; fsid == "" || got != want {
		t.Errorf("direct_url = %v, want %s", got, want)
	}
	disk := id + "-disk"
	if out, err := rbdCLI(c, "clone", c.Pool+"/"+id+"@snap", c.Pool+"/"+disk); err != nil {
		t.Fatalf("rbd clone: %s %v", out, err)
	}
	t.Cleanup(func() { rbdCLI(c, "rm", disk) })

	resp, body := e.do("owner", "DELETE", "/v2/images/"+id, map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 409 || !strings.Contains(body, "could not be deleted because it is in use") {
		t.Fatalf("delete with a clone: %d %s", resp.StatusCode, body)
	}
	img := e.imageJSON(t, id)
	if img["status"] != "active" || img["checksum"] != md5Hex(data) {
		t.Fatalf("image after the refused delete: %v", img)
	}
	if resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 || got != string(data) {
		t.Fatal("download after the refused delete")
	}
	if out, err := rbdCLI(c, "export", disk, "-"); err != nil || !bytes.Equal(out, data) {
		t.Fatal("the clone changed")
	}

	if out, err := rbdCLI(c, "rm", disk); err != nil {
		t.Fatalf("rbd rm: %s %v", out, err)
	}
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete without clones: %d %s", resp.StatusCode, body)
	}
	if _, err := rbdCLI(c, "info", id); err == nil {
		t.Error("RBD image left after delete")
	}
}

// TestRBDLocationsPatch: Glance's JSON-patch on /locations over an RBD
// store. A queued image becomes active when an RBD image of this
// cluster and pool (with its snap snapshot) is added as its location;
// bad locations are refused with nothing changed; the last location
// cannot be removed, another can (and its data goes).
func TestRBDLocationsPatch(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		rbdStores(t, c)(cfg)
		cfg.ShowImageDirectURL, cfg.ShowMultipleLocations = true, true
	})
	conf, _ := os.ReadFile(c.ConfFile)
	var fsid string
	for _, line := range strings.Split(string(conf), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsid" {
			fsid = strings.TrimSpace(v)
		}
	}
	patch := func(id, ops string) (int, string) {
		t.Helper()
		resp, body := e.do("owner", "PATCH", "/v2/images/"+id,
			map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch", "Accept": "application/json"}, ops)
		return resp.StatusCode, body
	}

	// An RBD image made outside glint, as an operator would: imported,
	// with a protected snapshot named snap.
	data := randomDisk(1<<20 + 333)
	file := filepath.Join(t.TempDir(), "disk.raw")
	os.WriteFile(file, data, 0o600)
	ext := "ext-" + strings.ToLower(rand.Text())[:10]
	for _, args := range [][]string{{"import", file, ext}, {"snap", "create", ext + "@snap"}, {"snap", "protect", ext + "@snap"}} {
		if out, err := rbdCLI(c, args...); err != nil {
			t.Fatalf("rbd %v: %s %v", args, out, err)
		}
	}
	t.Cleanup(func() {
		rbdCLI(c, "snap", "unprotect", ext+"@snap")
		rbdCLI(c, "snap", "rm", ext+"@snap")
		rbdCLI(c, "rm", ext)
	})
	url := "rbd://" + fsid + "/" + c.Pool + "/" + ext + "/snap"
	id := e.createImage(t, `{"name":"located","disk_format":"raw","container_format":"bare"}`)

	for _, bad := range []struct {
		ops    string
		status int
		text   string
	}{
		{`[{"op":"add","path":"/locations/-","value":{"url":"rbd://00000000-0000-0000-0000-000000000000/` + c.Pool + `/` + ext + `/snap","metadata":{}}}]`, 400, "another Ceph cluster"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"rbd://` + fsid + `/` + c.Pool + `/missing-image/snap","metadata":{}}}]`, 400, "names no image"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"rbd://` + fsid + `/other-pool/` + ext + `/snap","metadata":{}}}]`, 400, "pool other-pool"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"ftp://example.com/x.img","metadata":{}}}]`, 400, "no configured store takes ftp:// URLs"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"file:///etc/passwd","metadata":{}}}]`, 400, "no configured store takes file:// URLs"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"` + url + `"}}]`, 400, "'metadata' is a required property"},
		{`[{"op":"add","path":"/locations","value":{"url":"` + url + `","metadata":{}}}]`, 400, "Invalid JSON pointer for this resource: '/locations'"},
		{`[{"op":"add","path":"/locations/x","value":{"url":"` + url + `","metadata":{}}}]`, 400, "Invalid position for adding a location."},
		{`[{"op":"add","path":"/locations/-","value":{"url":"` + url + `","metadata":{},"validation_data":{"os_hash_algo":"sha256","os_hash_value":"00"}}}]`, 409, "os_hash_algo must be sha512, not sha256"},
		{`[{"op":"add","path":"/locations/-","value":{"url":"` + url + `","metadata":{},"validation_data":{"os_hash_algo":"sha512","os_hash_value":"00"}}}]`, 409, "is not the correct size for sha512"},
		{`[{"op":"replace","path":"/locations","value":[]}]`, 403, "Cannot set locations to empty list."},
		{`[{"op":"remove","path":"/locations/0"}]`, 409, "It's not allowed to remove locations if image status is queued."},
	} {
		code, body := patch(id, bad.ops)
		if code != bad.status || !strings.Contains(body, bad.text) {
			t.Errorf("%s: %d %s, want %d %q", bad.ops, code, body, bad.status, bad.text)
		}
	}
	if img := e.imageJSON(t, id); img["status"] != "queued" || len(img["locations"].([]any)) != 0 {
		t.Fatalf("a refused patch changed the image: %v", img)
	}

	// The good one: queued -> active, with the store's size and the
	// validation data given.
	sha := sha512.Sum512(data)
	code, body := patch(id, `[{"op":"add","path":"/locations/-","value":{"url":"`+url+`","metadata":{"store":"ceph"},`+
		`"validation_data":{"checksum":"`+md5Hex(data)+`","os_hash_algo":"sha512","os_hash_value":"`+hex.EncodeToString(sha[:])+`"}}}]`)
	if code != 200 {
		t.Fatalf("add location: %d %s", code, body)
	}
	img := e.imageJSON(t, id)
	if img["status"] != "active" || img["size"] != float64(len(data)) || img["checksum"] != md5Hex(data) ||
		img["direct_url"] != url || img["stores"] != "ceph" {
		t.Fatalf("after adding the location: %v", img)
	}
	if resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 || got != string(data) {
		t.Fatalf("download through the added location: %d, %d bytes", resp.StatusCode, len(got))
	}
	// Another store's location of the same image is a duplicate here.
	if code, body := patch(id, `[{"op":"add","path":"/locations/-","value":{"url":"`+url+`","metadata":{}}}]`); code != 400 || !strings.Contains(body, "already exists") {
		t.Errorf("duplicate: %d %s", code, body)
	}
	// Replace with the same set changes nothing; with another, refused.
	if code, body := patch(id, `[{"op":"replace","path":"/locations","value":[{"url":"`+url+`","metadata":{"store":"ceph"}}]}]`); code != 200 {
		t.Errorf("replace with the same locations: %d %s", code, body)
	}
	if code, body := patch(id, `[{"op":"replace","path":"/locations","value":[{"url":"rbd://x/y/z/snap","metadata":{}}]}]`); code != 400 || !strings.Contains(body, "Original locations is not empty") {
		t.Errorf("replace with other locations: %d %s", code, body)
	}
	if code, body := patch(id, `[{"op":"remove","path":"/locations/0"}]`); code != 403 || !strings.Contains(body, "Cannot remove last location in the image.") {
		t.Errorf("remove the last location: %d %s", code, body)
	}

	// Copy it to the file store, then remove that location: the copy goes.
	if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"},"stores":["files"]}`); code != 202 {
		t.Fatalf("copy-image: %d %s", code, body)
	}
	if img := e.waitImage(t, id, importEnded); img["stores"] != "ceph,files" || len(img["locations"].([]any)) != 2 {
		t.Fatalf("after copy-image: %v", img)
	}
	if code, body := patch(id, `[{"op":"remove","path":"/locations/1"}]`); code != 200 {
		t.Fatalf("remove the file location: %d %s", code, body)
	}
	if img := e.imageJSON(t, id); img["stores"] != "ceph" || len(img["locations"].([]any)) != 1 {
		t.Fatalf("after removing a location: %v", img)
	}
	if n := countFiles(t, filepath.Join(e.dir, "files", "blobs")); n != 0 {
		t.Errorf("%d files left in the file store after removing its location", n)
	}

	// Deleting the image deletes the RBD image it was given, as Glance does.
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if _, err := rbdCLI(c, "info", ext); err == nil {
		t.Error("the RBD image is left after the delete")
	}
}

// TestRBDLocationsServiceAPI: POST /v2/images/{id}/locations (Glance
// 2024.2) for the service role: the data is read and hashed, a hash that
// does not match leaves the image queued, a matching one makes it active
// with its checksums; GET lists the location.
func TestRBDLocationsServiceAPI(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, rbdStores(t, c))
	conf, _ := os.ReadFile(c.ConfFile)
	var fsid string
	for _, line := range strings.Split(string(conf), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "fsid" {
			fsid = strings.TrimSpace(v)
		}
	}
	data := randomDisk(512<<10 + 3)
	file := filepath.Join(t.TempDir(), "disk.raw")
	os.WriteFile(file, data, 0o600)
	ext := "svc-" + strings.ToLower(rand.Text())[:10]
	for _, args := range [][]string{{"import", file, ext}, {"snap", "create", ext + "@snap"}, {"snap", "protect", ext + "@snap"}} {
		if out, err := rbdCLI(c, args...); err != nil {
			t.Fatalf("rbd %v: %s %v", args, out, err)
		}
	}
	t.Cleanup(func() {
		rbdCLI(c, "snap", "unprotect", ext+"@snap")
		rbdCLI(c, "snap", "rm", ext+"@snap")
		rbdCLI(c, "rm", ext)
	})
	url := "rbd://" + fsid + "/" + c.Pool + "/" + ext + "/snap"
	id := e.createImage(t, `{"name":"svc","disk_format":"raw","container_format":"bare"}`)
	post := func(roles, body string) (int, string) {
		resp, out := e.do("owner", "POST", "/v2/images/"+id+"/locations",
			map[string]string{"Content-Type": "application/json", "Accept": "application/json", "X-Roles": roles}, body)
		return resp.StatusCode, out
	}
	sum := sha256.Sum256(data)
	good := `{"url":"` + url + `","validation_data":{"os_hash_algo":"sha256","os_hash_value":"` + hex.EncodeToString(sum[:]) + `"}}`
	if code, body := post("member", good); code != 403 || !strings.Contains(body, "http store must be enabled") {
		t.Errorf("POST as a member: %d %s", code, body)
	}
	wrong := strings.Repeat("ab", 32)
	if code, body := post("member,service", `{"url":"`+url+`","validation_data":{"os_hash_algo":"sha256","os_hash_value":"`+wrong+`"}}`); code != 409 || !strings.Contains(body, "does not match") {
		t.Errorf("POST with a wrong hash: %d %s", code, body)
	}
	if code, body := post("member,service", `{"url":"rbd://`+fsid+`/`+c.Pool+`/nothing-here/snap"}`); code != 400 || !strings.Contains(body, "names no image") {
		t.Errorf("POST of a missing RBD image: %d %s", code, body)
	}
	if img := e.imageJSON(t, id); img["status"] != "queued" {
		t.Fatalf("a refused POST changed the image: %v", img)
	}
	if code, body := post("member,service", good); code != 202 {
		t.Fatalf("POST: %d %s", code, body)
	}
	sha := sha512.Sum512(data)
	if img := e.imageJSON(t, id); img["status"] != "active" || img["checksum"] != md5Hex(data) || img["os_hash_value"] != hex.EncodeToString(sha[:]) {
		t.Fatalf("after POST: %v", img)
	}
	if code, body := post("member,service", good); code != 409 {
		t.Errorf("POST to an active image: %d %s", code, body)
	}
	resp, body := e.do("owner", "GET", "/v2/images/"+id+"/locations", map[string]string{"X-Roles": "service"}, "")
	if resp.StatusCode != 200 || body != `[{"url":"`+url+`","metadata":{"store":"ceph"}}]` {
		t.Errorf("GET locations: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
}

// TestRBDUploadSizedOnce: an upload that declares its size (here
// x-openstack-image-size on a chunked body) has its RBD image sized to
// it at the first chunk, where one of unknown size grows from one chunk;
// both end as exactly the bytes sent.
func TestRBDUploadSizedOnce(t *testing.T) {
	c := rbdConfig(t)
	e := newEnvConfig(t, rbdStores(t, c))
	const chunk = 1 << 20 // rbdConfig's chunk size
	disk := randomDisk(3<<20 + 4321)
	for _, declared := range []bool{true, false} {
		id := e.createImage(t, `{"name":"sized","disk_format":"raw","container_format":"bare"}`)
		hdr := map[string]string{"Content-Type": "application/octet-stream"}
		want := int64(chunk)
		if declared {
			hdr["X-Openstack-Image-Size"] = strconv.Itoa(len(disk))
			want = int64(len(disk))
		}
		pr, pw := io.Pipe()
		done := make(chan int, 1)
		go func() {
			resp, _ := e.doReader("owner", "PUT", "/v2/images/"+id+"/file", hdr, pr)
			done <- resp.StatusCode
		}()
		if _, err := pw.Write(disk[:chunk+1]); err != nil {
			t.Fatal(err)
		}
		// The first chunk is in the image once it has a size.
		var size int64
		for deadline := time.Now().Add(10 * time.Second); size == 0 && time.Now().Before(deadline); {
			size = rbdTempSize(t, c, id)
			time.Sleep(20 * time.Millisecond)
		}
		if size != want {
			t.Errorf("declared %v: image size %d after the first chunk, want %d", declared, size, want)
		}
		pw.Write(disk[chunk+1:])
		pw.Close()
		if code := <-done; code != 204 {
			t.Fatalf("declared %v: upload answered %d", declared, code)
		}
		if out, err := rbdCLI(c, "export", id+"@snap", "-"); err != nil || !bytes.Equal(out, disk) {
			t.Errorf("declared %v: rbd export: %d bytes, %v; want the %d sent", declared, len(out), err, len(disk))
		}
	}
}

// rbdTempSize is the size of the temporary image an upload to id fills,
// 0 while there is none.
func rbdTempSize(t *testing.T, c rbd.Config, id string) int64 {
	t.Helper()
	out, err := rbdCLI(c, "ls", "--long", "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var images []struct {
		Image string
		Size  int64
	}
	if err := json.Unmarshal(out, &images); err != nil {
		t.Fatal(err)
	}
	for _, img := range images {
		if strings.HasPrefix(img.Image, id+"+") {
			return img.Size
		}
	}
	return 0
}
