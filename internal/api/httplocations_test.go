package api_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/image"
)

// webServer serves data at /image.raw (HEAD, GET and ranges, as a web
// server does) and counts the requests that are not reads, so a test can
// tell that glint never writes or deletes there.
type webServer struct {
	*httptest.Server
	data    []byte
	writes  atomic.Int64
	lastGet atomic.Value // the last GET's Range header
}

func newWebServer(t *testing.T, data []byte) *webServer {
	w := &webServer{data: data}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead:
		default:
			w.writes.Add(1)
			http.Error(rw, "read-only", http.StatusMethodNotAllowed)
			return
		}
		if r.URL.Path != "/image.raw" {
			http.NotFound(rw, r)
			return
		}
		if r.Method == http.MethodGet {
			w.lastGet.Store(r.Header.Get("Range"))
		}
		http.ServeContent(rw, r, "image.raw", time.Time{}, bytes.NewReader(w.data))
	}))
	t.Cleanup(w.Close)
	return w
}

// webEnv is glint with a file store and an http store that may reach
// the loopback test server (an explicit allowed_networks entry: the
// default reaches no internal address).
func webEnv(t *testing.T, web *webServer, change func(*config.Config)) *env {
	u, _ := url.Parse(web.URL)
	port, _ := strconv.Atoi(u.Port())
	dir := t.TempDir()
	return newEnvConfig(t, func(cfg *config.Config) {
		cfg.ShowImageDirectURL, cfg.ShowMultipleLocations = true, true
		cfg.Stores = []config.Store{
			{ID: "fast", Type: "file", Path: filepath.Join(dir, "fast")},
			{ID: "web", Type: "http", HTTP: config.HTTPStore{AllowedNetworks: []string{"127.0.0.0/8"}, AllowedPorts: []int{port}}},
		}
		cfg.DefaultStore = "fast"
		if change != nil {
			change(cfg)
		}
	})
}

func (e *env) patchImage(t *testing.T, id, body string) (int, string) {
	t.Helper()
	resp, out := e.do("owner", "PATCH", "/v2/images/"+id,
		map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch", "Accept": "application/json"}, body)
	return resp.StatusCode, out
}

func addLocationPatch(u string, meta string) string {
	return `[{"op":"add","path":"/locations/-","value":{"url":"` + u + `","metadata":` + meta + `}}]`
}

// TestHTTPLocations: a web URL added as a location makes a queued image
// active with the size the server announces; the image's data is read
// from the URL (ranges too), metadata beyond the store is kept and shown,
// the store is read-only (no upload, import or copy into it, left out of
// all_stores, "read-only" in /v2/info/stores), and removing the location
// or deleting the image never sends the web server anything but reads.
func TestHTTPLocations(t *testing.T) {
	data := pattern(300_000)
	web := newWebServer(t, data)
	e := webEnv(t, web, nil)
	u := web.URL + "/image.raw"

	id := e.createImage(t, `{"name":"web","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.patchImage(t, id, addLocationPatch(u, `{"foo":"bar","nested":{"list":["a","b"]}}`)); code != 200 {
		t.Fatalf("add http location: %d %s", code, body)
	}
	img := e.imageJSON(t, id)
	if img["status"] != "active" || img["size"] != float64(len(data)) || img["direct_url"] != u || img["stores"] != "web" {
		t.Errorf("after the http location: %v", img)
	}
	locs, _ := img["locations"].([]any)
	if len(locs) != 1 {
		t.Fatalf("locations: %v", img["locations"])
	}
	meta, _ := json.Marshal(locs[0].(map[string]any)["metadata"])
	if string(meta) != `{"foo":"bar","nested":{"list":["a","b"]},"store":"web"}` {
		t.Errorf("location metadata: %s", meta)
	}
	if img["checksum"] != nil || img["os_hash_value"] != nil {
		t.Errorf("a location added by PATCH is not hashed (Glance): %v", img)
	}

	resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, "")
	if resp.StatusCode != 200 || body != string(data) {
		t.Errorf("download: %d, %d bytes (want %d)", resp.StatusCode, len(body), len(data))
	}
	resp, body = e.do("owner", "GET", "/v2/images/"+id+"/file", map[string]string{"Range": "bytes=1000-1999"}, "")
	if resp.StatusCode != 206 || body != string(data[1000:2000]) || web.lastGet.Load() != "bytes=1000-" {
		t.Errorf("ranged download: %d, %d bytes, the server was asked for %v", resp.StatusCode, len(body), web.lastGet.Load())
	}

	// Read-only: no upload, no copy into it; all_stores skips it.
	up := e.createImage(t, `{"name":"u","disk_format":"raw","container_format":"bare"}`)
	resp, body = e.do("owner", "PUT", "/v2/images/"+up+"/file",
		map[string]string{"Content-Type": "application/octet-stream", "X-Image-Meta-Store": "web"}, "data")
	if resp.StatusCode != 410 || !strings.Contains(body, "Adding images to store is disabled") {
		t.Errorf("upload to the http store: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("admin", "POST", "/v2/images/"+id+"/import", map[string]string{"Content-Type": "application/json"},
		`{"method":{"name":"copy-image"},"stores":["web"]}`)
	if resp.StatusCode != 410 {
		t.Errorf("copy-image into the http store: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("admin", "POST", "/v2/images/"+id+"/import", map[string]string{"Content-Type": "application/json"},
		`{"method":{"name":"copy-image"},"all_stores":true}`)
	if resp.StatusCode != 202 {
		t.Fatalf("copy-image to all stores: %d %s", resp.StatusCode, body)
	}
	deadline := time.Now().Add(30 * time.Second)
	for e.imageJSON(t, id)["stores"] != "web,fast" {
		if time.Now().After(deadline) {
			t.Fatalf("copy-image from the web location to fast did not finish: %v", e.imageJSON(t, id))
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp, body = e.do("owner", "GET", "/v2/info/stores", nil, "")
	if !strings.Contains(body, `{"id":"web","read-only":"true"}`) {
		t.Errorf("/v2/info/stores: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"}, `{"name":"h"}`)
	if got := resp.Header.Get("OpenStack-image-store-ids"); got != "fast" {
		t.Errorf("OpenStack-image-store-ids: %q, want the writable stores only", got)
	}

	// Removing the http location forgets the URL only; the file copy
	// stays and serves.
	if code, body := e.patchImage(t, id, `[{"op":"remove","path":"/locations/0"}]`); code != 200 {
		t.Fatalf("remove the http location: %d %s", code, body)
	}
	if img := e.imageJSON(t, id); img["stores"] != "fast" {
		t.Errorf("after removing the http location: %v", img)
	}
	if resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, ""); resp.StatusCode != 200 || body != string(data) {
		t.Errorf("download from the copy: %d", resp.StatusCode)
	}

	// An image whose only location is a web URL, deleted: nothing is
	// sent to the web server but reads.
	other := e.createImage(t, `{"name":"web2","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.patchImage(t, other, addLocationPatch(u, `{}`)); code != 200 {
		t.Fatalf("add: %d %s", code, body)
	}
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+other, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if n := web.writes.Load(); n != 0 {
		t.Errorf("the web server got %d requests that were not reads", n)
	}
	resp, err := http.Get(u)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("the web data after the deletions: %v %v", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

// TestHTTPLocationRefusals: what the http store may not fetch or cannot
// use is refused with 400 and the image stays queued: an internal address
// when no network is allowed (the default), a port outside
// web_download's, a URL the server does not have, a server that does not
// say how big the data is, metadata of a type Glance refuses.
func TestHTTPLocationRefusals(t *testing.T) {
	data := pattern(4096)
	web := newWebServer(t, data)
	dir := t.TempDir()
	strict := newEnvConfig(t, func(cfg *config.Config) {
		cfg.ShowImageDirectURL, cfg.ShowMultipleLocations = true, true
		cfg.Stores = []config.Store{{ID: "fast", Type: "file", Path: filepath.Join(dir, "fast")}, {ID: "web", Type: "http"}}
		cfg.DefaultStore = "fast"
	})
	id := strict.createImage(t, `{"name":"q","disk_format":"raw","container_format":"bare"}`)
	u := web.URL + "/image.raw"
	if code, body := strict.patchImage(t, id, addLocationPatch(u, `{}`)); code != 400 || !strings.Contains(body, "Invalid location") {
		t.Errorf("a loopback URL with the default http store: %d %s", code, body)
	}
	if code, body := strict.patchImage(t, id, addLocationPatch("http://169.254.169.254/latest/meta-data", `{}`)); code != 400 {
		t.Errorf("the metadata service: %d %s", code, body)
	}

	// A server that does not say how big the data is (no
	// Content-Length), on a port the store allows besides web's.
	chunked := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Transfer-Encoding", "chunked")
		w.WriteHeader(200)
	}))
	defer chunked.Close()
	cu, _ := url.Parse(chunked.URL)
	cport, _ := strconv.Atoi(cu.Port())
	e := webEnv(t, web, func(cfg *config.Config) {
		cfg.Stores[1].HTTP.AllowedPorts = append(cfg.Stores[1].HTTP.AllowedPorts, cport)
	})
	other := httptest.NewServer(http.NotFoundHandler())
	defer other.Close()
	id = e.createImage(t, `{"name":"q","disk_format":"raw","container_format":"bare"}`)
	for _, c := range []struct{ body, want string }{
		{addLocationPatch(other.URL+"/x", `{}`), "is not allowed"},
		{addLocationPatch(web.URL+"/missing.raw", `{}`), "Invalid location"},
		{addLocationPatch(strings.Replace(u, "127.0.0.1", "127.0.0.2", 1)+"x", `{}`), "Invalid location"},
		{addLocationPatch(chunked.URL+"/x", `{}`), "Invalid location"},
		{addLocationPatch(u, `{"n":1}`), "invalid type"},
		{addLocationPatch(u, `{"store":"fast"}`), "Invalid location metadata"},
		{addLocationPatch("gopher://info.cern.ch", `{}`), "no configured store takes gopher"},
	} {
		if code, body := e.patchImage(t, id, c.body); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s (want 400 %q)", c.body, code, body, c.want)
		}
	}
	if img := e.imageJSON(t, id); img["status"] != "queued" || len(img["locations"].([]any)) != 0 {
		t.Errorf("after the refusals: %v", img)
	}
}

// TestLocationQuota: a location that makes a queued image active counts
// against the owner's image_size_total, as an upload does (Glance's quota
// proxy checks the storage quota when a location gives an image its
// size): over the quota it is refused with 413 and nothing changes.
func TestLocationQuota(t *testing.T) {
	web := newWebServer(t, pattern(3<<20))
	e := webEnv(t, web, func(cfg *config.Config) {
		cfg.Quotas = map[string]int64{image.QuotaImageSizeTotal: 4}
	})
	u := web.URL + "/image.raw"
	first := e.createImage(t, `{"name":"a","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.patchImage(t, first, addLocationPatch(u, `{}`)); code != 200 {
		t.Fatalf("first location (3 MiB of 4): %d %s", code, body)
	}
	second := e.createImage(t, `{"name":"b","disk_format":"raw","container_format":"bare"}`)
	code, body := e.patchImage(t, second, addLocationPatch(u+"#2", `{}`))
	if code != 413 || !strings.Contains(body, "image_size_total") {
		t.Errorf("second location (6 MiB of 4): %d %s", code, body)
	}
	if img := e.imageJSON(t, second); img["status"] != "queued" || len(img["locations"].([]any)) != 0 {
		t.Errorf("after the refusal: %v", img)
	}
	// The service API too.
	resp, body := e.do("owner", "POST", "/v2/images/"+second+"/locations",
		map[string]string{"Content-Type": "application/json", "X-Roles": "member,service"}, `{"url":"`+u+`#3"}`)
	if resp.StatusCode != 413 {
		t.Errorf("POST locations over quota: %d %s", resp.StatusCode, body)
	}
	// A second location of an active image adds no data: allowed.
	if code, body := e.patchImage(t, first, addLocationPatch(u+"#again", `{}`)); code != 200 {
		t.Errorf("second location of the active image: %d %s", code, body)
	}
}
