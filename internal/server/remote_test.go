package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// TestRemoteImportAndDelete is what Tempest's test_remote_import and
// test_remote_delete check with a second Image API endpoint: an image
// staged through node A is imported (glance-direct) through node B, and
// another staged through A is deleted through B, staged data included.
// Both nodes share one PostgreSQL schema and one S3 bucket; staged data
// lives in the shared store, so neither needs to reach the other (Glance
// needs worker_self_reference_url to proxy the import to the staging
// node). Each node's image cache is its own: B's answers list what B
// cached, A's stays empty.
func TestRemoteImportAndDelete(t *testing.T) {
	s3cfg := testS3(t, "glint-cluster-test", "remote")
	dsn := pgtest.Schema(t)
	node := func() (string, *server.Server) {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Auth = config.AuthTrustedHeaders
		cfg.Metadata = config.Metadata{Driver: "postgres", DSN: dsn}
		cfg.SingleStore = &config.Store{Type: "s3", S3: s3cfg}
		cfg.MetricsListen = "127.0.0.1:9393" // served below through MetricsHandler
		ts := servertest.Start(t, cfg)
		return ts.URL, ts.Glint
	}
	a, nodeA := node()
	b, nodeB := node()
	call := caller(t, map[string]string{"X-Project-Id": "proj", "X-User-Id": "user", "X-Roles": "admin,member"})
	staged := func(data []byte) string {
		t.Helper()
		status, body := call(a, "POST", "/v2/images", "application/json", []byte(`{"name":"remote","disk_format":"raw","container_format":"bare"}`))
		if status != 201 {
			t.Fatalf("create on A: %d %s", status, body)
		}
		var img struct{ ID string }
		json.Unmarshal(body, &img)
		if status, body := call(a, "PUT", "/v2/images/"+img.ID+"/stage", "application/octet-stream", data); status != 204 {
			t.Fatalf("stage on A: %d %s", status, body)
		}
		return img.ID
	}
	show := func(base, id string) map[string]any {
		t.Helper()
		status, body := call(base, "GET", "/v2/images/"+id, "", nil)
		var m map[string]any
		if status != 200 || json.Unmarshal(body, &m) != nil {
			t.Fatalf("show %s: %d %s", id, status, body)
		}
		return m
	}
	store, err := s3.New(context.Background(), s3.Config{Endpoint: s3cfg.Endpoint, Bucket: s3cfg.Bucket, Prefix: s3cfg.Prefix, PathStyle: true,
		AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}

	// test_remote_import: stage on A, import on B.
	data := make([]byte, 5<<20+3)
	rand.Read(data)
	id := staged(data)
	if status, body := call(b, "POST", "/v2/images/"+id+"/import", "application/json", []byte(`{"method":{"name":"glance-direct"}}`)); status != 202 {
		t.Fatalf("import on B: %d %s", status, body)
	}
	deadline := time.Now().Add(60 * time.Second)
	for show(b, id)["status"] != "active" {
		if time.Now().After(deadline) {
			t.Fatalf("the import through B did not finish: %v", show(b, id))
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status, got := call(b, "GET", "/v2/images/"+id+"/file", "", nil); status != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download on B: %d, %d bytes", status, len(got))
	}
	if _, err := store.Stat(context.Background(), "staging/"+id); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("staged data after the import: %v", err)
	}
	// The cache API answers for the node that serves the call.
	cached := func(base string) []any {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			status, body := call(base, "GET", "/v2/cache", "", nil)
			var st struct {
				Cached []any `json:"cached_images"`
			}
			if status != 200 || json.Unmarshal(body, &st) != nil {
				t.Fatalf("GET /v2/cache: %d %s", status, body)
			}
			if len(st.Cached) > 0 || base == a || time.Now().After(deadline) {
				return st.Cached
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if n := len(cached(b)); n != 1 {
		t.Fatalf("B's cache holds %d images, want the one downloaded through B", n)
	}
	if n := len(cached(a)); n != 0 {
		t.Fatalf("A's cache holds %d images; nothing was downloaded through A", n)
	}
	// The counters a metrics exporter reads.
	if st, ok := nodeB.CacheStats(); !ok || st.Misses != 1 || st.FillBytes != int64(len(data)) || st.Entries != 1 {
		t.Fatalf("B's cache counters: %+v %v", st, ok)
	}
	if st, ok := nodeA.CacheStats(); !ok || st.Misses != 0 || st.Entries != 0 {
		t.Fatalf("A's cache counters: %+v %v", st, ok)
	}
	// and what it scrapes.
	metricsB := httptest.NewServer(nodeB.MetricsHandler())
	defer metricsB.Close()
	fams := scrape(t, metricsB.URL)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"glint_image_cache_requests_total", map[string]string{"result": "miss"}, 1},
		{"glint_image_cache_requests_total", map[string]string{"result": "hit"}, 0},
		{"glint_image_cache_bytes_total", map[string]string{"kind": "fill"}, float64(len(data))},
		{"glint_image_cache_entries", nil, 1},
		{"glint_image_cache_size_bytes", nil, float64(len(data))},
	} {
		if v := value(fams, c.name, c.labels); v != c.want {
			t.Errorf("B's %s%v = %v, want %v", c.name, c.labels, v, c.want)
		}
	}

	// test_remote_delete: stage on A, delete on B.
	gone := staged([]byte("staged, never imported"))
	if _, err := store.Stat(context.Background(), "staging/"+gone); err != nil {
		t.Fatalf("staged data: %v", err)
	}
	if status, body := call(b, "DELETE", "/v2/images/"+gone, "", nil); status != 204 {
		t.Fatalf("delete on B: %d %s", status, body)
	}
	if st := show(a, gone)["status"]; st != "deleted" {
		t.Fatalf("after delete on B, A shows %v", st)
	}
	if _, err := store.Stat(context.Background(), "staging/"+gone); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("staged data after the delete through B: %v", err)
	}
}
