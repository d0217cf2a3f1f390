package api_test

import (
	"crypto/md5"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// twoStores configures file stores fast (default), cheap and broken;
// broken's directory is replaced by a file once glint runs, so every
// write to it fails.
func twoStores(dir string) func(*config.Config) {
	return func(cfg *config.Config) {
		cfg.Stores = []config.Store{
			{ID: "fast", Type: "file", Path: filepath.Join(dir, "fast")},
			{ID: "cheap", Type: "file", Path: filepath.Join(dir, "cheap")},
			{ID: "broken", Type: "file", Path: filepath.Join(dir, "broken")},
		}
		cfg.DefaultStore = "fast"
	}
}

func breakStore(t *testing.T, dir string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, "broken")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken"), []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func blobsIn(t *testing.T, dir, store string) int {
	t.Helper()
	return countFiles(t, filepath.Join(dir, store, "blobs"))
}

func TestCopyImage(t *testing.T) {
	dir := t.TempDir()
	e := newEnvConfig(t, twoStores(dir))
	breakStore(t, dir)
	data := qemuImage(t, t.TempDir(), "a.qcow2", "-f", "qcow2", "1G")
	id := e.createImage(t, `{"name":"c","disk_format":"qcow2","container_format":"bare"}`)
	resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(data))
	if resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	if code, _ := e.importImage(t, "owner", id, `{"method":{"name":"copy-image"},"stores":["cheap"]}`); code != 403 {
		t.Fatalf("copy-image as the owner: %d", code)
	}
	for body, want := range map[string]string{
		`{"method":{"name":"copy-image"},"stores":["fast"]}`:                    "400:Image is already present at store 'fast'",
		`{"method":{"name":"copy-image"},"stores":["nope"]}`:                    "409:Unknown scheme 'nope' found in URI",
		`{"method":{"name":"copy-image"},"stores":["cheap"],"all_stores":true}`: "400:All_stores parameter can't be used with x-image-meta-store header or stores parameter",
	} {
		code, out := e.importImage(t, "admin", id, body)
		if strconv.Itoa(code)+":"+strings.SplitN(want, ":", 2)[1] != want || !strings.Contains(out, strings.SplitN(want, ":", 2)[1]) {
			t.Errorf("%s: %d %s, want %s", body, code, out, want)
		}
	}
	if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"},"stores":["cheap"]}`); code != 202 {
		t.Fatalf("copy-image: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	if tk := e.waitTaskAs(t, "admin", id); tk["status"] != "success" {
		t.Fatalf("copy task: %v", tk)
	}
	// The copy is the admin's task: the image owner does not see it.
	if tasks := e.imageTasks(t, id); len(tasks) != 0 {
		t.Fatalf("the owner sees the admin's task: %v", tasks)
	}
	sum := md5.Sum(data)
	if img["status"] != "active" || img["stores"] != "fast,cheap" || img["checksum"] != hex.EncodeToString(sum[:]) ||
		img["os_glance_importing_to_stores"] != "" || img["os_glance_failed_import"] != "" {
		t.Fatalf("after copy-image: %v", img)
	}
	if blobsIn(t, dir, "fast") != 1 || blobsIn(t, dir, "cheap") != 1 {
		t.Fatal("the copy is not in both stores")
	}
	// All stores, with the working ones holding the data already: the
	// broken one fails, the image keeps its two copies.
	if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"},"all_stores":true,"all_stores_must_succeed":false}`); code != 202 {
		t.Fatalf("copy-image to all stores: %d %s", code, body)
	}
	img = e.waitImage(t, id, importEnded)
	if tk := e.waitTaskAs(t, "admin", id); img["stores"] != "fast,cheap" || img["os_glance_failed_import"] != "broken" {
		t.Fatalf("copy to the broken store: %v (task %v)", img, tk)
	}
	// Downloads and deletes see every copy.
	if resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 || got != string(data) {
		t.Fatal("download of a copied image")
	}
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatal("delete")
	}
	if blobsIn(t, dir, "fast") != 0 || blobsIn(t, dir, "cheap") != 0 {
		t.Fatal("copies left after delete")
	}
}

func TestImportToSeveralStores(t *testing.T) {
	dir := t.TempDir()
	srv := newImageServer(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		twoStores(dir)(cfg)
		allowLoopback(srv)(cfg)
	})
	breakStore(t, dir)
	uri := srv.put("disk.raw", []byte(strings.Repeat("data", 5000)))

	// All stores must succeed: one is broken, so nothing is kept.
	id := e.createImage(t, `{"name":"all","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.webDownload(t, id, uri, `},"all_stores":true,"x":{"y":1`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	e.waitTask(t, id)
	if img["status"] != "queued" || img["os_glance_failed_import"] != "broken,cheap,fast" || img["os_glance_importing_to_stores"] != "" {
		t.Fatalf("all stores must succeed, one broken: %v", img)
	}
	if blobsIn(t, dir, "fast") != 0 || blobsIn(t, dir, "cheap") != 0 {
		t.Fatal("data kept after a failed import")
	}
	// Or not: the working stores keep it.
	id = e.createImage(t, `{"name":"some","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.webDownload(t, id, uri, `},"stores":["cheap","broken","fast"],"all_stores_must_succeed":false,"x":{"y":1`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	img = e.waitImage(t, id, importEnded)
	e.waitTask(t, id)
	if img["status"] != "active" || img["stores"] != "cheap,fast" || img["os_glance_failed_import"] != "broken" {
		t.Fatalf("some stores may fail: %v", img)
	}
	// X-Image-Meta-Store names the one store.
	id = e.createImage(t, `{"name":"header","disk_format":"raw","container_format":"bare"}`)
	resp, body := e.do("owner", "POST", "/v2/images/"+id+"/import", map[string]string{"Content-Type": "application/json", "X-Image-Meta-Store": "cheap"},
		`{"method":{"name":"web-download","uri":"`+uri+`"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("import with X-Image-Meta-Store: %d %s", resp.StatusCode, body)
	}
	if img := e.waitImage(t, id, importEnded); img["stores"] != "cheap" {
		t.Fatalf("X-Image-Meta-Store: %v", img)
	}
}

// TestGlanceDownload imports an image from another region's Image API: a
// second glint on loopback, behind a proxy that admits only the caller's
// token, as another region's Keystone would.
func TestGlanceDownload(t *testing.T) {
	remote := newEnv(t)
	data := qemuImage(t, t.TempDir(), "a.qcow2", "-f", "qcow2", "1G")
	rid := remote.createImage(t, `{"name":"src","disk_format":"qcow2","container_format":"bare","hw_disk_bus":"virtio","os_distro":"cirros","secret":"no"}`)
	remote.do("owner", "PUT", "/v2/images/"+rid+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(data))
	queued := remote.createImage(t, `{"name":"empty","disk_format":"raw","container_format":"bare"}`)

	target, _ := url.Parse(remote.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	region := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Auth-Token") != "token-of-a" {
			http.Error(w, "bad token", http.StatusUnauthorized)
			return
		}
		r.Header.Set("X-Project-Id", "proj-a")
		r.Header.Set("X-Roles", "member")
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(region.Close)
	port, _ := strconv.Atoi(region.URL[strings.LastIndex(region.URL, ":")+1:])

	e := newEnvConfig(t, func(cfg *config.Config) {
		cfg.Import.Methods = append(cfg.Import.Methods, "glance-download")
		cfg.Import.GlanceDownload.Regions = map[string]map[string]string{"RegionTwo": {"public": region.URL}}
		cfg.Import.WebDownload.AllowedNetworks = []string{"127.0.0.1/32"}
		cfg.Import.WebDownload.AllowedPorts = append(cfg.Import.WebDownload.AllowedPorts, port)
	})
	download := func(id, remoteID, extra, token string) (int, string) {
		resp, body := e.do("owner", "POST", "/v2/images/"+id+"/import",
			map[string]string{"Content-Type": "application/json", "Accept": "application/json", "X-Auth-Token": token},
			`{"method":{"name":"glance-download","glance_image_id":"`+remoteID+`","glance_region":"RegionTwo"`+extra+`}}`)
		return resp.StatusCode, body
	}
	id := e.createImage(t, `{"name":"copy","disk_format":"raw","container_format":"bare"}`)
	if code, body := download(id, rid, "", "token-of-a"); code != 202 {
		t.Fatalf("glance-download: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	tk := e.waitTask(t, id)
	sum := md5.Sum(data)
	if img["status"] != "active" || img["disk_format"] != "qcow2" || img["virtual_size"] != float64(1<<30) ||
		img["checksum"] != hex.EncodeToString(sum[:]) || img["hw_disk_bus"] != "virtio" || img["os_distro"] != "cirros" || img["secret"] != nil {
		t.Fatalf("after glance-download: %v (task %v)", img, tk)
	}
	method := tk["input"].(map[string]any)["import_req"].(map[string]any)["method"].(map[string]any)
	if method["glance_service_interface"] != "public" {
		t.Fatalf("task input: %v", method)
	}
	if strings.Contains(strings.ToLower(tk["input"].(map[string]any)["import_req"].(map[string]any)["method"].(map[string]any)["glance_region"].(string)), "token") {
		t.Fatal("the token reached the task")
	}

	// Tempest's test_image_glance_download_import_bad_endpoint: an
	// unknown region and interface are the task's failure, not the
	// request's.
	badRegion := func(id string) (int, string) {
		resp, body := e.do("owner", "POST", "/v2/images/"+id+"/import",
			map[string]string{"Content-Type": "application/json", "X-Auth-Token": "token-of-a"},
			`{"method":{"name":"glance-download","glance_image_id":"`+rid+`","glance_region":"not a region","glance_service_interface":"not an interface"}}`)
		return resp.StatusCode, body
	}
	bad := e.createImage(t, `{"name":"bad","disk_format":"raw","container_format":"bare","hw_cpu_cores":"1","os_distro":"windows"}`)
	if code, body := badRegion(bad); code != 202 {
		t.Fatalf("glance-download to an unknown region: %d %s", code, body)
	}
	e.waitImage(t, bad, importEnded)
	if tk := e.waitTask(t, bad); tk["status"] != "failure" || tk["message"] != "No image service endpoint in region not a region with interface not an interface is configured for glance-download" {
		t.Errorf("unknown region: task %v", tk)
	}
	if img := e.imageJSON(t, bad); img["status"] != "queued" || img["hw_cpu_cores"] != "1" || img["os_distro"] != "windows" {
		t.Errorf("unknown region: image %v", img)
	}

	for _, c := range []struct{ remoteID, extra, token, want string }{
		{rid, `,"glance_service_interface":"internal"`, "token-of-a", "task:No image service endpoint in region RegionTwo with interface internal"},
		{"6a1d2a4e-3f0b-4d55-9d7e-2b8f0c1e9a77", "", "token-of-a", "task:Remote image 6a1d2a4e-3f0b-4d55-9d7e-2b8f0c1e9a77 could not be read in region RegionTwo"},
		{"not-a-uuid", "", "token-of-a", "400:Remote image id does not look like a UUID: not-a-uuid"},
		{queued, "", "token-of-a", "task:Source image status should be active instead of queued"},
		{rid, "", "someone-else", "task:401 Unauthorized"},
	} {
		id := e.createImage(t, `{"name":"x","disk_format":"raw","container_format":"bare","hw_cpu_cores":"1","os_distro":"windows"}`)
		code, body := download(id, c.remoteID, c.extra, c.token)
		kind, want, _ := strings.Cut(c.want, ":")
		if kind != "task" {
			if strconv.Itoa(code) != kind || !strings.Contains(body, want) {
				t.Errorf("%v: %d %s", c, code, body)
			}
			continue
		}
		if code != 202 {
			t.Fatalf("%v: %d %s", c, code, body)
		}
		e.waitImage(t, id, importEnded)
		if tk := e.waitTask(t, id); tk["status"] != "failure" || !strings.Contains(tk["message"].(string), want) {
			t.Errorf("%v: task %v", c, tk)
		}
		if img := e.imageJSON(t, id); img["status"] != "queued" || img["disk_format"] != "raw" || img["hw_cpu_cores"] != "1" || img["os_distro"] != "windows" {
			t.Errorf("%v: image %v", c, img)
		}
	}
}

// TestCopyImageSharesData: copy-image into a store that already holds
// identical data (another image's upload there) refers to it instead of
// writing another copy; a copy that fails after one store recorded its
// reference (all_stores_must_succeed, a broken store) drops that
// reference too, so the data goes with its last real user.
func TestCopyImageSharesData(t *testing.T) {
	dir := t.TempDir()
	e := newEnvConfig(t, twoStores(dir))
	breakStore(t, dir)
	data := qemuImage(t, t.TempDir(), "a.qcow2", "-f", "qcow2", "1G")
	upload := func(store string) string {
		id := e.createImage(t, `{"name":"c","disk_format":"qcow2","container_format":"bare"}`)
		resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file",
			map[string]string{"Content-Type": "application/octet-stream", "X-Image-Meta-Store": store}, string(data))
		if resp.StatusCode != 204 {
			t.Fatalf("upload to %s: %d %s", store, resp.StatusCode, body)
		}
		return id
	}
	copyTo := func(id, stores string) (map[string]any, map[string]any) {
		t.Helper()
		if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"},"stores":`+stores+`}`); code != 202 {
			t.Fatalf("copy-image of %s to %s: %d %s", id, stores, code, body)
		}
		img := e.waitImage(t, id, importEnded)
		return img, e.waitTaskAs(t, "admin", id)
	}
	a, b := upload("fast"), upload("cheap")
	if img, tk := copyTo(a, `["cheap"]`); img["stores"] != "fast,cheap" || tk["status"] != "success" {
		t.Fatalf("copy to cheap: %v (task %v)", img, tk)
	}
	if blobsIn(t, dir, "fast") != 1 || blobsIn(t, dir, "cheap") != 1 {
		t.Fatalf("after the copy: %d blobs in fast, %d in cheap; want one each", blobsIn(t, dir, "fast"), blobsIn(t, dir, "cheap"))
	}
	// fast takes a reference to a's data, then broken fails the copy.
	if img, tk := copyTo(b, `["fast","broken"]`); img["stores"] != "cheap" || tk["status"] != "failure" {
		t.Fatalf("copy to fast and broken: %v (task %v)", img, tk)
	}
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+a, nil, ""); resp.StatusCode != 204 {
		t.Fatal("delete")
	}
	if blobsIn(t, dir, "fast") != 0 || blobsIn(t, dir, "cheap") != 1 {
		t.Fatalf("after deleting a: %d blobs in fast (the failed copy's reference kept it?), %d in cheap; want 0 and 1",
			blobsIn(t, dir, "fast"), blobsIn(t, dir, "cheap"))
	}
	if resp, got := e.do("owner", "GET", "/v2/images/"+b+"/file", nil, ""); resp.StatusCode != 200 || got != string(data) {
		t.Fatal("download of the image left")
	}
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+b, nil, ""); resp.StatusCode != 204 {
		t.Fatal("delete")
	}
	if blobsIn(t, dir, "cheap") != 0 {
		t.Fatal("data left after both images went")
	}
}
