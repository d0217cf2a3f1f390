package imagecli

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSave downloads an image and checks the bytes; then, through a
// proxy that alters image data in flight, checks that save refuses the
// data and leaves no file behind.
func TestSave(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	file, data := writeData(t, c.dir, "in.raw", 2<<20+5)
	ok(t, env, "create", "--file", file, "img")

	out := filepath.Join(c.dir, "out.raw")
	r := run(t, env, "save", "--file", out, "img")
	if r.err != nil {
		t.Fatalf("save: %v %s", r.err, r.stderr)
	}
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("save wrote other bytes")
	}
	if r.stderr != "" || r.stdout != "" {
		t.Errorf("save printed %q %q", r.stdout, r.stderr)
	}
	// Without --file the data goes to stdout.
	if got := ok(t, env, "save", "img"); got != string(data) {
		t.Fatal("save to stdout returned other bytes")
	}

	// The same request through a proxy that flips one byte, or cuts the
	// data short, must fail and leave nothing under the target name.
	var mode atomic.Value
	proxy := tamperingProxy(t, c.url, &mode)
	tokenEnv := map[string]string{"OS_TOKEN": c.adminToken(), "OS_ENDPOINT": proxy, "HOME": c.dir}
	for _, m := range []string{"flip", "truncate"} {
		mode.Store(m)
		target := filepath.Join(c.dir, "bad-"+m+".raw")
		msg, _ := fails(t, tokenEnv, "save", "--file", target, "img")
		want := map[string]string{"flip": "md5 checksum is", "truncate": "received"}[m]
		if !strings.Contains(msg, want) {
			t.Errorf("%s: %s", m, msg)
		}
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Errorf("%s: the target exists after a failed save: %v", m, err)
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.dir, ".*part*"))
	if len(leftovers) != 0 {
		t.Errorf("partial files left: %v", leftovers)
	}
	// An existing file is only replaced by a verified download.
	os.WriteFile(filepath.Join(c.dir, "keep.raw"), []byte("old"), 0o600)
	fails(t, tokenEnv, "save", "--file", filepath.Join(c.dir, "keep.raw"), "img")
	if got, _ := os.ReadFile(filepath.Join(c.dir, "keep.raw")); string(got) != "old" {
		t.Error("a failed save replaced an existing file")
	}
	mode.Store("")
	ok(t, tokenEnv, "save", "--file", filepath.Join(c.dir, "keep.raw"), "img")

	// A save stopped halfway (Ctrl-C cancels the same context) leaves no
	// file either.
	stalled := make(chan struct{})
	stall := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/file") {
			httputil.NewSingleHostReverseProxy(mustParse(t, c.url)).ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Length", "2097157")
		w.Write(data[:1<<20])
		w.(http.Flusher).Flush()
		close(stalled)
		<-r.Context().Done()
	}))
	defer stall.Close()
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-stalled; cancel() }()
	target := filepath.Join(c.dir, "stopped.raw")
	stallEnv := map[string]string{"OS_TOKEN": tokenEnv["OS_TOKEN"], "OS_ENDPOINT": stall.URL}
	if r := runContext(ctx, stallEnv, "save", "--file", target, "img"); r.err == nil {
		t.Fatal("a cancelled save succeeded")
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Errorf("the target exists after a cancelled save: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(c.dir, ".*part*")); len(leftovers) != 0 {
		t.Errorf("partial files left after cancel: %v", leftovers)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// tamperingProxy forwards to target and, per mode, alters image data
// downloads: "flip" changes one byte, "truncate" drops the tail.
func tamperingProxy(t *testing.T, target string, mode *atomic.Value) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		m, _ := mode.Load().(string)
		if resp.Request.Method != http.MethodGet || !strings.HasSuffix(resp.Request.URL.Path, "/file") || m == "" {
			return nil
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		switch m {
		case "flip":
			body[len(body)/2] ^= 0xff
		case "truncate":
			body = body[:len(body)-100]
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Del("Content-Length")
		return nil
	}
	ts := httptest.NewServer(rp)
	t.Cleanup(ts.Close)
	return ts.URL
}

// adminToken is a token of the admin, scoped to the admin project.
func (c *cloud) adminToken() string {
	return c.adminProvider().Token()
}

// TestCancelledUpload stops a create halfway through its upload, as
// Ctrl-C does: the command fails and the image is left queued, not half
// stored.
func TestCancelledUpload(t *testing.T) {
	c := newCloud(t)
	file, _ := writeData(t, c.dir, "big.raw", 3<<20)
	halfway, released := make(chan struct{}), make(chan struct{})
	rp := httputil.NewSingleHostReverseProxy(mustParse(t, c.url))
	rp.ErrorLog = log.New(io.Discard, "", 0) // the cut upload is the point
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			r.Body = &stallingReader{r: r.Body, after: 1 << 20, signal: halfway, done: released}
		}
		rp.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	env := map[string]string{"OS_TOKEN": c.adminToken(), "OS_ENDPOINT": proxy.URL}
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-halfway; cancel() }()
	r := runContext(ctx, env, "create", "--file", file, "halfway")
	// The proxy cannot see the client go while it is reading the body;
	// now it stops forwarding and glint sees the upload cut short.
	close(released)
	if r.err == nil || !strings.Contains(r.err.Error(), "was created but its data was not stored") {
		t.Fatalf("a cancelled upload: %v", r.err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status := strings.TrimSpace(ok(t, c.adminEnv(), "show", "halfway", "-f", "value", "-c", "status"))
		if status == "queued" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status after a cancelled upload: %s", status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stallingReader passes after bytes through, signals, then blocks until
// done and fails.
type stallingReader struct {
	r      io.ReadCloser
	after  int
	signal chan struct{}
	done   <-chan struct{}
	n      int
}

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.n >= s.after {
		if s.signal != nil {
			close(s.signal)
			s.signal = nil
		}
		<-s.done
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > s.after-s.n {
		p = p[:s.after-s.n]
	}
	n, err := s.r.Read(p)
	s.n += n
	return n, err
}

func (s *stallingReader) Close() error { return s.r.Close() }
