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
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// These tests run the real `glint serve` binary as a separate process, so
// they can kill it like a crash or a stop would.

var glintBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "glint-bin-")
	if err != nil {
		panic(err)
	}
	glintBinary = filepath.Join(dir, "glint")
	args := []string{"build", "-o", glintBinary}
	if buildTags != "" {
		args = append(args, "-tags", buildTags)
	}
	build := exec.Command("go", append(args, "github.com/glint-image/glint/cmd/glint")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building glint:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type process struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit status, once done is closed
}

// syncBuffer collects a process's log while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs glint serve (trusted-headers auth) on dataDir and waits until
// it answers.
func start(t *testing.T, dataDir, addr string, extra ...string) *process {
	t.Helper()
	args := append([]string{"serve", "--data-dir", dataDir, "--listen", addr, "--auth", "trusted-headers"}, extra...)
	p := launch(t, addr, nil, args...)
	p.waitReady(t)
	return p
}

// waitReady waits until the process answers.
func (p *process) waitReady(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/versions")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("glint did not answer within 60s:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// launch starts the glint binary with args (and extra environment), to be
// killed when t ends; its log is shown if t failed.
func launch(t *testing.T, addr string, env []string, args ...string) *process {
	t.Helper()
	p := &process{t: t, cmd: exec.Command(glintBinary, args...), url: "http://" + addr, logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stderr = p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("glint log:\n%s", p.logs.String())
		}
	})
	return p
}

func (p *process) request(method, path string, body io.Reader, hdr map[string]string) (*http.Response, []byte, error) {
	req, err := http.NewRequest(method, p.url+path, body)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("X-Project-Id", "proj-a")
	req.Header.Set("X-Roles", "member")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func (p *process) createImage() string {
	p.t.Helper()
	resp, body, err := p.request("POST", "/v2/images", strings.NewReader(`{"name":"big","disk_format":"raw","container_format":"bare"}`),
		map[string]string{"Content-Type": "application/json"})
	if err != nil || resp.StatusCode != 201 {
		p.t.Fatalf("create: %v %s", err, body)
	}
	var img struct{ ID string }
	json.Unmarshal(body, &img)
	return img.ID
}

func (p *process) image(id string) map[string]any {
	p.t.Helper()
	resp, body, err := p.request("GET", "/v2/images/"+id, nil, nil)
	if err != nil || resp.StatusCode != 200 {
		p.t.Fatalf("show: %v %s", err, body)
	}
	var m map[string]any
	json.Unmarshal(body, &m)
	return m
}

// startUpload begins an upload of the image's data (to "file") or of
// its staged data (to "stage") whose body the test feeds through the
// returned pipe; the result arrives on the channel.
func (p *process) startUpload(id, to string, size int64) (*io.PipeWriter, chan int) {
	pr, pw := io.Pipe()
	result := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("PUT", p.url+"/v2/images/"+id+"/"+to, pr)
		req.ContentLength = size
		req.Header.Set("Content-Type", "application/octet-stream")
		req.Header.Set("X-Project-Id", "proj-a")
		req.Header.Set("X-Roles", "member")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			result <- -1
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	return pw, result
}

func (p *process) waitStatus(id, status string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for p.image(id)["status"] != status {
		if time.Now().After(deadline) {
			p.t.Fatalf("image %s never reached %s (is %v)", id, status, p.image(id)["status"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// TestCrashDuringUpload kills the server (SIGKILL) in the middle of a large
// upload, restarts it on the same data directory, and checks that the
// image is queued, nothing partial is left, and the upload can be repeated.
func TestCrashDuringUpload(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	p := start(t, dir, addr)
	id := p.createImage()

	const size = 256 << 20
	pw, result := p.startUpload(id, "file", size)
	chunk := bytes.Repeat([]byte{0xab}, 1<<20)
	for range 40 { // 40 MiB of 256 sent
		if _, err := pw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	p.waitStatus(id, "saving")
	if n := countFiles(t, filepath.Join(dir, "images", "tmp")); n != 1 {
		t.Fatalf("%d temporary files while uploading", n)
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	pw.CloseWithError(io.ErrClosedPipe)
	<-result

	p2 := start(t, dir, addr)
	img := p2.image(id)
	if img["status"] != "queued" || img["size"] != nil || img["checksum"] != nil {
		t.Fatalf("after restart: %v", img)
	}
	if n := countFiles(t, filepath.Join(dir, "images")); n != 0 {
		t.Fatalf("%d files left under images/ after recovery", n)
	}
	data := bytes.Repeat([]byte("glint"), 200000)
	resp, body, err := p2.request("PUT", "/v2/images/"+id+"/file", bytes.NewReader(data), map[string]string{"Content-Type": "application/octet-stream"})
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("repeat upload: %v %d %s", err, resp.StatusCode, body)
	}
	sum := md5.Sum(data)
	if img := p2.image(id); img["status"] != "active" || img["checksum"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("after repeated upload: %v", img)
	}
}

// TestGracefulShutdown sends SIGTERM while an upload is in flight: the
// server stops taking new connections but lets the upload finish, then
// exits cleanly, and the data is there after a restart.
func TestGracefulShutdown(t *testing.T) {
	dir, addr := t.TempDir(), freeAddr(t)
	p := start(t, dir, addr)
	id := p.createImage()
	const size = 8 << 20
	pw, result := p.startUpload(id, "file", size)
	chunk := bytes.Repeat([]byte{1}, 1<<20)
	pw.Write(chunk)
	p.waitStatus(id, "saving")
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	for range 7 {
		if _, err := pw.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	pw.Close()
	if status := <-result; status != 204 {
		t.Fatalf("in-flight upload ended with %d", status)
	}
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("glint exited with %v", p.err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("glint did not exit after SIGTERM")
	}
	p2 := start(t, dir, addr)
	if img := p2.image(id); img["status"] != "active" || img["size"] != float64(size) {
		t.Fatalf("after restart: %v", img)
	}
}

// TestRefusesRemoteListener checks the trusted-headers safety rule.
func TestRefusesRemoteListener(t *testing.T) {
	out, err := exec.Command(glintBinary, "serve", "--auth", "trusted-headers", "--data-dir", t.TempDir(), "--listen", "0.0.0.0:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("non-loopback listener accepted: %v %s", err, out)
	}
}
