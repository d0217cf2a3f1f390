package server_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// cutter is a TCP proxy that a test can cut (refusing and dropping every
// connection) and restore on the same address: a backend going away and
// coming back, as seen from glint.
type cutter struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]bool
}

func newCutter(t *testing.T, target string) *cutter {
	c := &cutter{t: t, target: target, conns: map[net.Conn]bool{}}
	c.listen("127.0.0.1:0")
	t.Cleanup(c.cut)
	return c
}

func (c *cutter) listen(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.mu.Lock()
	c.ln, c.addr = ln, ln.Addr().String()
	c.mu.Unlock()
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", c.target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns[in], c.conns[out] = true, true
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ln != nil {
		c.ln.Close()
		c.ln = nil
	}
	for conn := range c.conns {
		conn.Close()
	}
	c.conns = map[net.Conn]bool{}
}

func (c *cutter) restore() { c.listen(c.addr) }

// TestBackendsGoAway runs glint on PostgreSQL and S3 through cuttable
// proxies: with the object store gone an upload answers 503 and the image
// stays queued; with the database gone requests answer 503; when they come
// back, glint serves again without a restart.
func TestBackendsGoAway(t *testing.T) {
	s3cfg := testS3(t, "glint-faults-test", "faults")
	dsn := pgtest.Schema(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := newCutter(t, u.Host)
	u.Host = db.addr
	s3p := newCutter(t, s3cfg.Endpoint)
	s3cfg.Endpoint = s3p.addr

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthTrustedHeaders
	cfg.Metadata = config.Metadata{Driver: "postgres", DSN: u.String()}
	cfg.Stores = []config.Store{{ID: "s3", Type: "s3", S3: s3cfg}}
	cfg.DefaultStore = "s3"
	ts := servertest.Start(t, cfg)
	do := caller(t, map[string]string{"X-Project-Id": "proj-a", "Accept": "application/json"})
	call := func(method, path, ctype string, body []byte) (int, string) {
		status, b := do(ts.URL, method, path, ctype, body)
		return status, string(b)
	}
	// retryAfter is the Retry-After of a request as call makes it: a 503
	// from a backend that is gone tells the client when to come back.
	retryAfter := func(method, path, ctype string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
		req.Header.Set("X-Project-Id", "proj-a")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	status, body := call("POST", "/v2/images", "application/json", []byte(`{"name":"f","disk_format":"raw","container_format":"bare"}`))
	if status != 201 {
		t.Fatalf("create: %d %s", status, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:][:36]

	s3p.cut()
	data := bytes.Repeat([]byte("faults"), 4<<20) // 24 MiB: several parts
	if status, body := call("PUT", "/v2/images/"+id+"/file", "application/octet-stream", data); status != 503 {
		t.Fatalf("upload with the object store gone: %d %s", status, body)
	}
	if status, retry := retryAfter("PUT", "/v2/images/"+id+"/file", "application/octet-stream", data); status != 503 || retry != "5" {
		t.Errorf("upload with the object store gone: %d, Retry-After %q, want 503 and 5", status, retry)
	}
	if status, body := call("GET", "/v2/images/"+id, "", nil); status != 200 || !strings.Contains(body, `"status":"queued"`) {
		t.Fatalf("after the failed upload: %d %s", status, body)
	}
	s3p.restore()
	if status, body := call("PUT", "/v2/images/"+id+"/file", "application/octet-stream", data); status != 204 {
		t.Fatalf("upload with the object store back: %d %s", status, body)
	}

	db.cut()
	status, body = call("GET", "/v2/images/"+id, "", nil)
	if status != 503 || !strings.Contains(body, "unavailable") {
		t.Fatalf("show with the database gone: %d %s", status, body)
	}
	if status, retry := retryAfter("GET", "/v2/images/"+id, "", nil); status != 503 || retry != "5" {
		t.Errorf("show with the database gone: %d, Retry-After %q, want 503 and 5", status, retry)
	}
	db.restore()
	if status, body := call("GET", "/v2/images/"+id, "", nil); status != 200 || !strings.Contains(body, `"status":"active"`) {
		t.Fatalf("show with the database back: %d %s", status, body)
	}
	if status, _ := call("DELETE", "/v2/images/"+id, "", nil); status != 204 {
		t.Fatalf("delete: %d", status)
	}
}
