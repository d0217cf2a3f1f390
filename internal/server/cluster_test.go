package server_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"glint/internal/blob"
	"glint/internal/blob/s3"
	"glint/internal/config"
	"glint/internal/metadata/postgres/pgtest"
	"glint/internal/server"
)

// TestTwoNodes runs two glint nodes on one PostgreSQL schema and one S3
// bucket, as a scaled-out deployment does: what one node writes, the other
// serves, and a delete through either removes the object.
func TestTwoNodes(t *testing.T) {
	endpoint := os.Getenv("GLINT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		t.Skip("GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY, GLINT_TEST_S3_SECRET_KEY are not set")
	}
	dsn := pgtest.Schema(t)
	prefix := "cluster-" + strings.ToLower(rand.Text())[:10] + "/"
	s3cfg := config.S3{Endpoint: endpoint, Bucket: "glint-cluster-test", Prefix: prefix, PathStyle: true, CreateBucket: true,
		AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}
	node := func() string {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Auth = config.AuthTrustedHeaders
		cfg.Metadata = config.Metadata{Driver: "postgres", DSN: dsn}
		cfg.Stores = []config.Store{{ID: "rgw", Type: "s3", S3: s3cfg}}
		cfg.DefaultStore = "rgw"
		srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(func() { ts.Close(); srv.Close() })
		return ts.URL
	}
	a, b := node(), node()
	call := func(base, method, path, ctype string, body []byte) (int, []byte) {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("X-Project-Id", "proj-a")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	status, body := call(a, "POST", "/v2/images", "application/json", []byte(`{"name":"n","disk_format":"raw","container_format":"bare"}`))
	if status != 201 {
		t.Fatalf("create on A: %d %s", status, body)
	}
	id := string(body[bytes.Index(body, []byte(`"id":"`))+6:][:36])
	data := bytes.Repeat([]byte("cluster"), 3<<20) // 21 MiB: a multipart upload
	if status, body := call(a, "PUT", "/v2/images/"+id+"/file", "application/octet-stream", data); status != 204 {
		t.Fatalf("upload on A: %d %s", status, body)
	}
	status, body = call(b, "GET", "/v2/images/"+id, "", nil)
	if status != 200 || !bytes.Contains(body, []byte(`"status":"active"`)) || !bytes.Contains(body, []byte(`"stores":"rgw"`)) {
		t.Fatalf("show on B: %d %s", status, body)
	}
	if status, got := call(b, "GET", "/v2/images/"+id+"/file", "", nil); status != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download on B: %d, %d bytes", status, len(got))
	}
	if status, _ := call(b, "DELETE", "/v2/images/"+id, "", nil); status != 204 {
		t.Fatalf("delete on B: %d", status)
	}
	if status, _ := call(a, "GET", "/v2/images/"+id, "", nil); status != 404 {
		t.Fatalf("show on A after delete: %d", status)
	}
	d, err := s3.New(context.Background(), s3.Config{Endpoint: s3cfg.Endpoint, Bucket: s3cfg.Bucket, Prefix: prefix, PathStyle: true,
		AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(context.Background(), id); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("object after delete: %v", err)
	}
}
