package server_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// pausingServer serves one image for web-download. Its first request
// stops half-way until the test lets it go; later requests get it whole.
type pausingServer struct {
	*httptest.Server
	data     []byte
	requests atomic.Int32
	release  chan struct{}
	once     sync.Once
}

func newPausingServer(t *testing.T, data []byte) *pausingServer {
	s := &pausingServer{data: data, release: make(chan struct{})}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.requests.Add(1)
		w.Header().Set("Content-Length", strconv.Itoa(len(s.data)))
		if n > 1 {
			w.Write(s.data)
			return
		}
		w.Write(s.data[:len(s.data)/2])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-s.release:
			w.Write(s.data[len(s.data)/2:])
		}
	}))
	t.Cleanup(func() { s.once.Do(func() { close(s.release) }); s.Close() })
	return s
}

func (s *pausingServer) port() string {
	_, port, _ := net.SplitHostPort(s.Listener.Addr().String())
	return port
}

// importConfig writes a configuration file that lets web-download reach
// the test server on loopback, with short leases, plus extra YAML.
func importConfig(t *testing.T, port, extra string) string {
	path := filepath.Join(t.TempDir(), "glint.yaml")
	yaml := `import:
  task_lease: 2s
  web_download:
    allowed_networks: [127.0.0.1/32]
    allowed_ports: [80, 443, ` + port + `]
    idle_timeout: 5m
` + extra
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func (p *process) post(path, body string) (int, string) {
	p.t.Helper()
	resp, out, err := p.request("POST", path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	if err != nil {
		p.t.Fatal(err)
	}
	return resp.StatusCode, string(out)
}

func (p *process) createRaw(name string) string {
	p.t.Helper()
	code, body := p.post("/v2/images", `{"name":"`+name+`","disk_format":"raw","container_format":"bare"}`)
	if code != 201 {
		p.t.Fatalf("create: %d %s", code, body)
	}
	var img struct{ ID string }
	json.Unmarshal([]byte(body), &img)
	return img.ID
}

// waitFor polls the image until cond holds.
func (p *process) waitFor(id, what string, cond func(map[string]any) bool) map[string]any {
	p.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		img := p.image(id)
		if cond(img) {
			return img
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("image %s: %s never happened: %v", id, what, img)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *process) tasks(id string) []map[string]any {
	p.t.Helper()
	resp, body, err := p.request("GET", "/v2/images/"+id+"/tasks", nil, nil)
	if err != nil || resp.StatusCode != 200 {
		p.t.Fatalf("image tasks: %v %s", err, body)
	}
	var out struct{ Tasks []map[string]any }
	json.Unmarshal(body, &out)
	return out.Tasks
}

func patterned(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*13 + i/4093)
	}
	return b
}

// TestCrashDuringImport kills glint (SIGKILL) in the middle of a
// web-download import, restarts it on the same data directory, and checks
// that the interrupted task is resumed and finishes: the image becomes
// active with the right data, the task succeeds, nothing is left in
// staging or the work directory. A stage cut off by the crash returns its
// image to queued.
func TestCrashDuringImport(t *testing.T) {
	data := patterned(24 << 20)
	src := newPausingServer(t, data)
	dir, addr := t.TempDir(), freeAddr(t)
	cfgFile := importConfig(t, src.port(), "")
	p := start(t, dir, addr, "--config", cfgFile)

	id := p.createRaw("web")
	if code, body := p.post("/v2/images/"+id+"/import", `{"method":{"name":"web-download","uri":"`+src.URL+`/disk.raw"}}`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	half := strconv.Itoa(len(data) / 2)
	p.waitFor(id, "half downloaded", func(img map[string]any) bool { return img["os_glance_import_bytes_done"] == half })

	staged := p.createRaw("staged")
	pw, stageResult := p.startUpload(staged, "stage", 32<<20)
	pw.Write(make([]byte, 1<<20))
	p.waitStatus(staged, "uploading")

	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	pw.CloseWithError(io.ErrClosedPipe)
	<-stageResult

	p2 := start(t, dir, addr, "--config", cfgFile)
	img := p2.waitFor(id, "import finished after the restart", func(img map[string]any) bool {
		_, locked := img["os_glance_import_task"]
		return !locked && img["status"] != "importing"
	})
	sum := md5.Sum(data)
	if img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) || img["size"] != float64(len(data)) {
		t.Fatalf("after the resumed import: %v", img)
	}
	if n := src.requests.Load(); n != 2 {
		t.Errorf("the source was asked %d times, want 2 (first run, resumed run)", n)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		tasks := p2.tasks(id)
		if len(tasks) == 1 && tasks[0]["status"] == "success" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks after the restart: %v", tasks)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if s := p2.image(staged); s["status"] != "queued" || s["size"] != nil {
		t.Fatalf("image cut off while staging: %v", s)
	}
	if n := countFiles(t, filepath.Join(dir, "images", "blobs", "staging")); n != 0 {
		t.Fatalf("%d staged files left", n)
	}
	if n := countFiles(t, filepath.Join(dir, "images", "tmp")); n != 0 {
		t.Fatalf("%d partial files left", n)
	}
	if n := countFiles(t, filepath.Join(dir, "import")); n != 0 {
		t.Fatalf("%d files left in the import work directory", n)
	}
	resp, got, err := p2.request("GET", "/v2/images/"+id+"/file", nil, nil)
	if err != nil || resp.StatusCode != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download after the resumed import: %v %d bytes", err, len(got))
	}
}

// TestImportNodeDies runs two glint nodes on one PostgreSQL schema and one
// S3 bucket. Node A takes an import and dies in the middle of it; node B
// takes the task over once A's lease has run out and finishes it. Staged
// data lives in S3, so the glance-direct import of an image staged through
// A is finished by B as well.
func TestImportNodeDies(t *testing.T) {
	s3 := testS3(t, "glint-import-test", "import-nodes")
	dsn := pgtest.Schema(t)
	data := patterned(12 << 20)
	src := newPausingServer(t, data)
	cfgFile := importConfig(t, src.port(), fmt.Sprintf(`metadata:
  driver: postgres
  dsn: %q
store:
  type: s3
  s3:
    endpoint: %s
    bucket: glint-import-test
    prefix: %s
    access_key: %s
    secret_key: %s
    create_bucket: true
`, dsn, s3.Endpoint, s3.Prefix, s3.AccessKey, s3.SecretKey))

	addrA, addrB := freeAddr(t), freeAddr(t)
	a := start(t, t.TempDir(), addrA, "--config", cfgFile)
	id := a.createRaw("web")
	if code, body := a.post("/v2/images/"+id+"/import", `{"method":{"name":"web-download","uri":"`+src.URL+`/disk.raw"}}`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	half := strconv.Itoa(len(data) / 2)
	a.waitFor(id, "half downloaded on A", func(img map[string]any) bool { return img["os_glance_import_bytes_done"] == half })

	staged := a.createRaw("direct")
	stagedData := patterned(3 << 20)
	resp, body, err := a.request("PUT", "/v2/images/"+staged+"/stage", bytes.NewReader(stagedData), map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("stage on A: %v %s", err, body)
	}

	a.cmd.Process.Signal(syscall.SIGKILL)
	<-a.done
	b := start(t, t.TempDir(), addrB, "--config", cfgFile)
	if code, body := b.post("/v2/images/"+staged+"/import", `{"method":{"name":"glance-direct"}}`); code != 202 {
		t.Fatalf("glance-direct through B of data staged through A: %d %s", code, body)
	}
	for image, want := range map[string][]byte{id: data, staged: stagedData} {
		img := b.waitFor(image, "import finished on B", func(img map[string]any) bool {
			_, locked := img["os_glance_import_task"]
			return !locked && img["status"] != "importing"
		})
		sum := md5.Sum(want)
		if img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) {
			t.Fatalf("image %s on B: %v", image, img)
		}
	}
	if n := src.requests.Load(); n != 2 {
		t.Errorf("the source was asked %d times, want 2 (A, then B)", n)
	}
}
