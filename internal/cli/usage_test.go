package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

// TestAdminUsage: after three projects upload the same mostly-zero raw
// image, `glint admin usage` reports one blob of its logical size taking
// a fraction of it on disk, and twice its size saved by sharing.
func TestAdminUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.DataDir = dir
	cfg.Auth = config.AuthTrustedHeaders
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	api := httptest.NewServer(srv.Handler())
	data := make([]byte, 2<<20)
	rand.NewChaCha8([32]byte{6}).Read(data[1<<20 : 1<<20+128<<10])
	for _, project := range []string{"p1", "p2", "p3"} {
		id := send(t, api.URL, "POST", "/v2/images", project, `{"name":"raw","disk_format":"raw","container_format":"bare"}`, 201)
		send(t, api.URL, "PUT", "/v2/images/"+id+"/file", project, string(data), 204)
	}
	api.Close()
	srv.Close()

	var out, errOut bytes.Buffer
	if code := Main([]string{"admin", "usage", "--data-dir", dir, "-f", "json"}, &out, &errOut); code != 0 {
		t.Fatalf("admin usage: exit %d: %s", code, errOut.String())
	}
	var rows []usageRow
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 {
		t.Fatalf("admin usage -f json: %v: %s", err, out.String())
	}
	r := rows[0]
	if r.Blobs == nil || *r.Blobs != 1 || *r.LogicalBytes != int64(len(data)) || r.SharedImages != 3 || r.SavedBytes != 2*int64(len(data)) || !r.ShareData {
		t.Errorf("admin usage = %s", out.String())
	}
	if r.PhysicalBytes == nil || *r.PhysicalBytes > 256<<10 {
		t.Errorf("physical bytes of 128 KiB of data: %v", r.PhysicalBytes)
	}
	out.Reset()
	if code := Main([]string{"admin", "usage", "--data-dir", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "4.0 MiB") {
		t.Errorf("admin usage: exit %d, table:\n%s", code, out.String())
	}
}

// send makes one trusted-headers request and returns the id in its answer.
func send(t *testing.T, base, method, path, project, body string, want int) string {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("X-Project-Id", project)
	req.Header.Set("X-User-Id", "u-"+project)
	req.Header.Set("X-Roles", "member")
	req.Header.Set("Content-Type", "application/json")
	if method == "PUT" {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	var v struct{ ID string }
	json.Unmarshal(b, &v)
	return v.ID
}
