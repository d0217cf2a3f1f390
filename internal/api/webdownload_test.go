package api_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
)

// imageServer is a local HTTP server on loopback that web-download
// fetches from; the test environment allows exactly its address and port
// (import.web_download.allowed_networks and allowed_ports), everything else
// keeps the default refusals.
type imageServer struct {
	*httptest.Server
	port    int
	mu      sync.Mutex
	files   map[string][]byte
	release chan struct{} // closed by finish to let /slow and /stall end
	once    sync.Once
}

func (s *imageServer) finish() { s.once.Do(func() { close(s.release) }) }

func newImageServer(t *testing.T) *imageServer {
	s := &imageServer{files: map[string][]byte{}, release: make(chan struct{})}
	t.Cleanup(s.finish)
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	s.port, _ = strconv.Atoi(port)
	return s
}

func (s *imageServer) put(name string, data []byte) string {
	s.mu.Lock()
	s.files[name] = data
	s.mu.Unlock()
	return s.URL + "/" + name
}

func (s *imageServer) serve(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	s.mu.Lock()
	data, ok := s.files[name]
	s.mu.Unlock()
	switch {
	case name == "to-metadata":
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	case name == "to-private":
		http.Redirect(w, r, "http://10.0.0.1:"+strconv.Itoa(s.port)+"/x", http.StatusFound)
	case name == "to-mapped-loopback":
		http.Redirect(w, r, "http://[::ffff:127.0.0.2]:"+strconv.Itoa(s.port)+"/x", http.StatusFound)
	case name == "liar":
		w.Header().Set("Content-Length", strconv.Itoa(len(data)*4))
		w.Write(data)
	case name == "stall":
		w.Header().Set("Content-Length", "500000")
		w.Write(make([]byte, 4096))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-s.release:
		}
	case strings.HasPrefix(name, "slow/"):
		data = s.files[strings.TrimPrefix(name, "slow/")]
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		half := len(data) / 2
		w.Write(data[:half])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			return
		case <-s.release:
		}
		w.Write(data[half:])
	case ok:
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Write(data)
	default:
		http.NotFound(w, r)
	}
}

// allowLoopback lets web-download reach srv (and only srv's port on
// 127.0.0.1), with short timeouts for the stall tests.
func allowLoopback(srv *imageServer) func(*config.Config) {
	return func(cfg *config.Config) {
		wd := &cfg.Import.WebDownload
		wd.AllowedNetworks = []string{"127.0.0.1/32"}
		wd.AllowedPorts = append(wd.AllowedPorts, srv.port)
		wd.IdleTimeout = 500 * time.Millisecond
		cfg.Import.TaskLease = 1500 * time.Millisecond
	}
}

func (e *env) webDownload(t *testing.T, id, uri, extra string) (int, string) {
	t.Helper()
	return e.importImage(t, "owner", id, `{"method":{"name":"web-download","uri":"`+uri+`"`+extra+`}}`)
}

func TestWebDownload(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, allowLoopback(srv))
	data := qemuImage(t, t.TempDir(), "cirros.qcow2", "-f", "qcow2", "1G")
	uri := srv.put("cirros.qcow2", data)

	id := e.createImage(t, `{"name":"web","disk_format":"qcow2","container_format":"bare"}`)
	if code, body := e.webDownload(t, id, uri, ""); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	if img["status"] != "active" || img["size"] != float64(len(data)) || img["virtual_size"] != float64(1<<30) {
		t.Fatalf("after web-download: %v", img)
	}
	e.waitTask(t, id)
	tasks := e.imageTasks(t, id)
	if len(tasks) != 1 || tasks[0]["status"] != "success" {
		t.Fatalf("tasks: %v", tasks)
	}
	in := tasks[0]["input"].(map[string]any)["import_req"].(map[string]any)["method"].(map[string]any)
	if in["uri"] != uri {
		t.Fatalf("task input: %v", in)
	}

	// With a checksum the download must match (a glint extension).
	sum := sha256.Sum256(data)
	good := e.createImage(t, `{"name":"sum","disk_format":"qcow2","container_format":"bare"}`)
	e.webDownload(t, good, uri, `,"checksum":"sha256:`+hex.EncodeToString(sum[:])+`"`)
	if img := e.waitImage(t, good, importEnded); img["status"] != "active" {
		t.Fatalf("with the right checksum: %v", img)
	}
	bad := e.createImage(t, `{"name":"badsum","disk_format":"qcow2","container_format":"bare"}`)
	e.webDownload(t, bad, uri, `,"checksum":"sha256:`+strings.Repeat("0", 64)+`"`)
	if img := e.waitImage(t, bad, importEnded); img["status"] != "queued" {
		t.Fatalf("with a wrong checksum: %v", img)
	}
	if msg := e.waitTask(t, bad)["message"]; !strings.Contains(msg.(string), "does not match its sha256 checksum") {
		t.Fatalf("wrong checksum message: %v", msg)
	}
	// The two imports of the same data share one copy (share_data is on
	// for file and S3 stores); deleting the image whose copy it is keeps
	// it for the other, and the last deletion removes it.
	if n := e.blobCount(t); n != 1 {
		t.Fatalf("%d blobs, want 1 shared by the 2 imported images", n)
	}
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if code, body, _ := e.download(t, good, nil); code != 200 || body != string(data) {
		t.Fatalf("the other image after the delete: %d, %d bytes", code, len(body))
	}
	if resp, body := e.do("owner", "DELETE", "/v2/images/"+good, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, body)
	}
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs with both imported images deleted", n)
	}
}

// TestWebDownloadRefusals: URIs refused at request time (400, nothing
// changes), and downloads that fail while running (the task fails, the
// image is queued again with nothing stored).
func TestWebDownloadRefusals(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		allowLoopback(srv)(cfg)
		cfg.SizeCap = 1 << 20
	})
	good := srv.put("ok.raw", make([]byte, 4096))
	srv.put("big.raw", make([]byte, 2<<20))
	srv.put("liar", make([]byte, 1000))
	for _, uri := range []string{"http://169.254.169.254/latest/meta-data/", "http://[::ffff:127.0.0.2]:" + strconv.Itoa(srv.port) + "/ok.raw",
		"http://127.0.0.2:" + strconv.Itoa(srv.port) + "/ok.raw", "http://10.0.0.1/x", "file:///etc/passwd", "ftp://example.com/x",
		"http://127.0.0.1:9/ok.raw", "http://2130706433/x"} {
		id := e.createImage(t, `{"name":"r","disk_format":"raw","container_format":"bare"}`)
		code, body := e.webDownload(t, id, uri, "")
		if code != 400 || !strings.Contains(body, "URI for web-download does not pass filtering: "+uri) {
			t.Errorf("%s: %d %s", uri, code, body)
		}
		if img := e.imageJSON(t, id); img["status"] != "queued" || img["os_glance_import_task"] != nil {
			t.Errorf("%s: image after refusal: %v", uri, img)
		}
	}
	for name, want := range map[string]string{
		"to-metadata":        "169.254.169.254",
		"to-private":         "10.0.0.1",
		"to-mapped-loopback": "127.0.0.2",
		"liar":               "unexpected EOF",
		"stall":              "stalled",
		"big.raw":            "larger than the size cap",
		"missing":            "404 Not Found",
	} {
		id := e.createImage(t, `{"name":"`+name+`","disk_format":"raw","container_format":"bare"}`)
		if code, body := e.webDownload(t, id, srv.URL+"/"+name, ""); code != 202 {
			t.Fatalf("%s: %d %s", name, code, body)
		}
		img := e.waitImage(t, id, importEnded)
		tasks := []map[string]any{e.waitTask(t, id)}
		if img["status"] != "queued" || img["size"] != nil || len(tasks) != 1 || tasks[0]["status"] != "failure" ||
			!strings.Contains(tasks[0]["message"].(string), want) {
			t.Errorf("%s: image %v, tasks %v, want a failure mentioning %q", name, img, tasks, want)
		}
	}
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs left by failed downloads", n)
	}
	e.assertNoPartialData(t)
	// Glance's filter still applies beside the address rules: the port.
	id := e.createImage(t, `{"name":"ok","disk_format":"raw","container_format":"bare"}`)
	if code, _ := e.webDownload(t, id, good, ""); code != 202 {
		t.Fatal("allowed URI refused")
	}
	if img := e.waitImage(t, id, importEnded); img["status"] != "active" {
		t.Fatalf("allowed download: %v", img)
	}
}

// TestImportProgress: while a download runs, the owner sees its bytes on
// the image and on the task.
func TestImportProgress(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		allowLoopback(srv)(cfg)
		cfg.Import.WebDownload.IdleTimeout = time.Minute // the server pauses half-way
	})
	data := make([]byte, 6<<20)
	for i := range data {
		data[i] = byte(i / 4099)
	}
	srv.put("data.raw", data)
	id := e.createImage(t, `{"name":"p","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.webDownload(t, id, srv.URL+"/slow/data.raw", ""); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	half := strconv.Itoa(len(data) / 2)
	img := e.waitImage(t, id, func(img map[string]any) bool { return img["os_glance_import_bytes_done"] == half })
	if img["status"] != "importing" || img["os_glance_import_bytes_total"] != strconv.Itoa(len(data)) {
		t.Fatalf("during the download: %v", img)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		tk := e.imageTasks(t, id)[0]
		res, _ := tk["result"].(map[string]any)
		if tk["status"] == "processing" && tk["message"] == "Copied 3 MiB" && res["bytes_done"] == float64(len(data)/2) &&
			res["bytes_total"] == float64(len(data)) && res["step"] == "download" {
			break
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(tk)
			t.Fatalf("task never showed the progress: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.finish()
	if img := e.waitImage(t, id, importEnded); img["status"] != "active" {
		t.Fatalf("after the download: %v", img)
	}
}

// TestImportPlugins: the plugin chain Ceph-backed clouds use. A gzip'd
// qcow2 fetched with web-download and a qcow2 staged for glance-direct
// both arrive as raw, with the virtual size of the qcow2 header, and the
// injected property.
func TestImportPlugins(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		allowLoopback(srv)(cfg)
		cfg.Import.Plugins = []string{"image_decompression", "image_conversion", "inject_image_metadata"}
		cfg.Import.Inject.Properties = map[string]string{"hw_disk_bus": "scsi"}
	})
	qcow2 := qemuImage(t, t.TempDir(), "disk.qcow2", "-f", "qcow2", "32M")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(qcow2)
	zw.Close()
	uri := srv.put("disk.qcow2.gz", gz.Bytes())

	web := e.createImage(t, `{"name":"web","disk_format":"qcow2","container_format":"bare"}`)
	if code, body := e.webDownload(t, web, uri, ""); code != 202 {
		t.Fatalf("web-download: %d %s", code, body)
	}
	direct := e.createImage(t, `{"name":"direct","disk_format":"qcow2","container_format":"bare"}`)
	e.stage(t, direct, qcow2)
	if code, body := e.importImage(t, "owner", direct, `{"method":{"name":"glance-direct"}}`); code != 202 {
		t.Fatalf("glance-direct: %d %s", code, body)
	}
	for _, id := range []string{web, direct} {
		img := e.waitImage(t, id, importEnded)
		if tk := e.waitTask(t, id); tk["status"] != "success" {
			t.Fatalf("task: %v", tk)
		}
		if img["status"] != "active" || img["disk_format"] != "raw" || img["container_format"] != "bare" ||
			img["virtual_size"] != float64(32<<20) || img["size"] != float64(32<<20) || img["hw_disk_bus"] != "scsi" {
			t.Fatalf("imported %s: %v", id, img)
		}
		resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, "")
		if resp.StatusCode != 200 || len(got) != 32<<20 || strings.Trim(got, "\x00") != "" {
			t.Fatalf("download of %s: %d, %d bytes", id, resp.StatusCode, len(got))
		}
	}
	// An admin's import gets no injected properties (ignore_user_roles).
	admin := e.createImage(t, `{"name":"admin","disk_format":"qcow2","container_format":"bare"}`)
	resp, body := e.do("admin", "POST", "/v2/images/"+admin+"/import", map[string]string{"Content-Type": "application/json"},
		`{"method":{"name":"web-download","uri":"`+uri+`"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("admin import: %d %s", resp.StatusCode, body)
	}
	if img := e.waitImage(t, admin, importEnded); img["status"] != "active" || img["hw_disk_bus"] != nil {
		t.Fatalf("admin's import: %v", img)
	}
	// The work directory goes when the task ends, just after the image
	// turned active.
	if tk := e.waitTaskAs(t, "admin", admin); tk["status"] != "success" {
		t.Fatalf("admin's task: %v", tk)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "import")); len(entries) != 0 {
		t.Fatalf("%d entries left in the import work directory", len(entries))
	}
}

// TestDeleteDuringImport: an image deleted while its download runs is
// deleted; the import stops at its next step and leaves nothing behind.
func TestDeleteDuringImport(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, func(cfg *config.Config) {
		allowLoopback(srv)(cfg)
		cfg.Import.WebDownload.IdleTimeout = time.Minute
	})
	srv.put("data.raw", make([]byte, 4<<20))
	id := e.createImage(t, `{"name":"d","disk_format":"raw","container_format":"bare"}`)
	if code, body := e.webDownload(t, id, srv.URL+"/slow/data.raw", ""); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	e.waitImage(t, id, func(img map[string]any) bool { return img["os_glance_import_bytes_done"] == strconv.Itoa(2<<20) })
	tasks := e.imageTasks(t, id)
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete while importing: %d", resp.StatusCode)
	}
	srv.finish()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, body := e.do("admin", "GET", "/v2/tasks/"+tasks[0]["id"].(string), nil, "")
		if resp.StatusCode == 200 && strings.Contains(body, `"status":"failure"`) {
			if !strings.Contains(body, "Image has been deleted, aborting import.") {
				t.Fatalf("task of a deleted image: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("task of the deleted image did not end: %d %s", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs left after deleting an image mid-import", n)
	}
	e.assertNoPartialData(t)
}

// TestImportDecompressionBomb: a few kB of gzip holding 48 MiB of zeros,
// staged by a project with 8 MiB of image_size_total left, is stopped
// while it decompresses (at the quota, not the 64 MiB size cap) with a
// message naming the quota, and leaves nothing on disk.
func TestImportDecompressionBomb(t *testing.T) {
	e := newEnvConfig(t, func(cfg *config.Config) {
		cfg.Import.Plugins = []string{"image_decompression"}
	})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(make([]byte, 48<<20))
	zw.Close()
	if resp, body := e.do("admin", "PUT", "/v2/quotas/proj-a", map[string]string{"Content-Type": "application/json"},
		`{"image_size_total": 8}`); resp.StatusCode >= 300 {
		t.Fatalf("set quota: %d %s", resp.StatusCode, body)
	}
	id := e.createImage(t, `{"name":"bomb","disk_format":"raw","container_format":"bare"}`)
	e.stage(t, id, gz.Bytes())
	if code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	e.waitImage(t, id, importEnded)
	tk := e.waitTask(t, id)
	msg, _ := tk["message"].(string)
	if tk["status"] != "failure" || !strings.Contains(msg, "decompresses to more than") ||
		!strings.Contains(msg, "image_size_total (8 MiB)") || !strings.Contains(msg, "import aborted") {
		t.Fatalf("task: %v", tk)
	}
	if entries, _ := os.ReadDir(filepath.Join(e.dir, "import")); len(entries) != 0 {
		t.Fatalf("%d entries left in the import work directory", len(entries))
	}
}
