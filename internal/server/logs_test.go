package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/requestid"
	"github.com/glint-image/glint/internal/server"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("a log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// TestAccessLogAndRequestID checks the access line of every request
// (method, route, status, bytes, duration, request id, project, user),
// that the request id reaches the lines of the work the request started
// and the calls glint makes for it (web-download sends it as
// X-Openstack-Request-Id), and that no token or password is logged.
func TestAccessLogAndRequestID(t *testing.T) {
	var seen sync.Map // request ids the web-download source was called with
	src := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get(requestid.Header), true)
		w.Write(bytes.Repeat([]byte{0}, 4096))
	}))
	defer src.Close()
	var logs lockedBuffer
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Import.WebDownload.AllowedNetworks = []string{"127.0.0.0/8"}
	cfg.Import.WebDownload.AllowedPorts = nil
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "very-secret-bootstrap-pw")
	srv, err := server.New(context.Background(), cfg, slog.New(requestid.NewHandler(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer func() { ts.Close(); srv.Close() }()

	resp, err := http.Post(ts.URL+"/identity/v3/auth/tokens", "application/json", strings.NewReader(
		`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"very-secret-bootstrap-pw"}}},"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("login: %v %v", err, resp)
	}
	resp.Body.Close()
	token := resp.Header.Get("X-Subject-Token")
	do := func(method, path, ctype, body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		req.Header.Set("X-Auth-Token", token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		resp.Body.Close()
		return resp, b.Bytes()
	}
	resp, body := do("POST", "/v2/images", "application/json", `{"name":"w","disk_format":"raw","container_format":"bare"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	createID := resp.Header.Get(requestid.Header)
	var img struct{ ID, Owner string }
	json.Unmarshal(body, &img)
	resp, body = do("POST", "/v2/images/"+img.ID+"/import", "application/json",
		`{"method":{"name":"web-download","uri":"`+src.URL+`/disk.raw"}}`)
	if resp.StatusCode != 202 {
		t.Fatalf("import: %d %s", resp.StatusCode, body)
	}
	importID := resp.Header.Get(requestid.Header)
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, b := do("GET", "/v2/images/"+img.ID, "", "")
		if strings.Contains(string(b), `"status":"active"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the import did not finish: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, ok := seen.Load(importID); !ok || importID == "" {
		t.Errorf("web-download did not send the import request's id %q", importID)
	}

	var access map[string]any
	taskLines := 0
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" && l["request_id"] == createID {
			access = l
		}
		if l["request_id"] == importID && l["msg"] != "request" {
			taskLines++
		}
	}
	if access == nil {
		t.Fatalf("no access line for the create")
	}
	for k, want := range map[string]any{"method": "POST", "route": "/v2/images", "status": float64(201), "project_id": img.Owner} {
		if access[k] != want {
			t.Errorf("access line %s = %v, want %v (%v)", k, access[k], want, access)
		}
	}
	for _, k := range []string{"bytes", "duration_ms", "user_id"} {
		if access[k] == nil || access[k] == "" {
			t.Errorf("access line without %s: %v", k, access)
		}
	}
	if taskLines == 0 {
		t.Errorf("no line of the import task carries its request id %s", importID)
	}
	logs.mu.Lock()
	all := logs.b.String()
	logs.mu.Unlock()
	for _, secret := range []string{token, "very-secret-bootstrap-pw"} {
		if strings.Contains(all, secret) {
			t.Errorf("a secret is in the log")
		}
	}
}
