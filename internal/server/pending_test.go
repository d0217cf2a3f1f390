package server_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlowBodies: a JSON body trickled one byte at a time is cut off after
// limits.body_timeout, and connections that have not sent their first
// request are capped at limits.max_pending (more are closed at once),
// while a client that behaves is served as soon as slots are free.
func TestSlowBodies(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "glint.yaml")
	os.WriteFile(cfgFile, []byte("limits:\n  body_timeout: 2s\n  max_pending: 3\n"), 0o600)
	addr := freeAddr(t)
	p := start(t, filepath.Join(dir, "data"), addr, "--config", cfgFile)

	// One byte of a 100-byte body, then nothing: answered (408 or the
	// connection closed) within the body timeout, not held open.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	began := time.Now()
	io.WriteString(c, "POST /v2/images HTTP/1.1\r\nHost: x\r\nX-Project-Id: p\r\nX-Roles: member\r\n"+
		"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err == nil {
		resp.Body.Close()
		t.Logf("trickled body: %d after %s", resp.StatusCode, time.Since(began))
		if resp.StatusCode < 400 {
			t.Fatalf("a trickled body got %d", resp.StatusCode)
		}
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("a trickled body kept its connection open for %s", time.Since(began).Round(time.Second))
	}
	if took := time.Since(began); took > 10*time.Second {
		t.Fatalf("a trickled body was cut off after %s, want about 2s", took)
	}

	// Image data keeps its idle timeout only: an upload slower than the
	// body timeout but never stalled goes through.
	id := p.createImage()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	io.WriteString(up, "PUT /v2/images/"+id+"/file HTTP/1.1\r\nHost: x\r\nX-Project-Id: proj-a\r\nX-Roles: member\r\n"+
		"Content-Type: application/octet-stream\r\nContent-Length: 6\r\n\r\n")
	for range 6 {
		time.Sleep(600 * time.Millisecond)
		up.Write([]byte{0})
	}
	up.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err = http.ReadResponse(bufio.NewReader(up), nil)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("an upload slower than the body timeout: %v %v", resp, err)
	}

	// Three silent connections take every slot: a fourth is closed
	// without an answer.
	var silent []net.Conn
	for range 3 {
		s, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		silent = append(silent, s)
	}
	time.Sleep(200 * time.Millisecond)
	extra, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(extra, "GET /versions HTTP/1.1\r\nHost: x\r\n\r\n")
	extra.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(extra); err != nil && !strings.Contains(err.Error(), "reset") || len(b) != 0 {
		t.Fatalf("a connection beyond max_pending was served: %q %v", b, err)
	}
	extra.Close()
	for _, s := range silent {
		s.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(p.url + "/versions")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not served after the silent connections left: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
