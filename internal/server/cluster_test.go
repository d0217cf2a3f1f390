package server_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// TestTwoNodes runs two glint nodes on one PostgreSQL schema and one S3
// bucket, as a scaled-out deployment does: a token issued by one is
// accepted by the other, what one node writes the other serves, concurrent
// patches through both lose nothing, and a delete through either removes
// the object.
func TestTwoNodes(t *testing.T) {
	s3cfg := testS3(t, "glint-cluster-test", "cluster")
	dsn := pgtest.Schema(t)
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "cluster-pw")
	keyFile := filepath.Join(t.TempDir(), "token.key") // shared by the nodes
	node := func() string {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.TokenKeyFile = keyFile
		cfg.Metadata = config.Metadata{Driver: "postgres", DSN: dsn}
		cfg.Stores = []config.Store{{ID: "rgw", Type: "s3", S3: s3cfg}}
		cfg.DefaultStore = "rgw"
		return servertest.Start(t, cfg).URL
	}
	a, b := node(), node()
	call := caller(t, map[string]string{"X-Auth-Token": adminToken(t, a, "cluster-pw")})
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
	// Concurrent patches through both nodes: an update retries when another
	// writer got in first, and loses at most once to each of the other 15,
	// so all apply and none is lost.
	var wg sync.WaitGroup
	var mu sync.Mutex
	applied := map[string]bool{}
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			base, key := a, fmt.Sprintf("from_a_%d", i)
			if i%2 == 1 {
				base, key = b, fmt.Sprintf("from_b_%d", i)
			}
			status, body := call(base, "PATCH", "/v2/images/"+id, "application/openstack-images-v2.1-json-patch",
				[]byte(`[{"op":"add","path":"/`+key+`","value":"x"}]`))
			switch status {
			case 200:
				mu.Lock()
				applied[key] = true
				mu.Unlock()
			default:
				t.Errorf("patch %s: %d %s", key, status, body)
			}
		}()
	}
	wg.Wait()
	_, body = call(a, "GET", "/v2/images/"+id, "", nil)
	for key := range applied {
		if !bytes.Contains(body, []byte(`"`+key+`":"x"`)) {
			t.Errorf("patch %s answered 200 but is lost: %s", key, body)
		}
	}
	if len(applied) != 16 {
		t.Errorf("%d of 16 concurrent patches applied", len(applied))
	}
	if status, _ := call(b, "DELETE", "/v2/images/"+id, "", nil); status != 204 {
		t.Fatalf("delete on B: %d", status)
	}
	// The caller is admin, who still sees deleted records, as in Glance.
	if status, body := call(a, "GET", "/v2/images/"+id, "", nil); status != 200 || !bytes.Contains(body, []byte(`"status":"deleted"`)) {
		t.Fatalf("show on A after delete: %d %s", status, body)
	}
	d, err := s3.New(context.Background(), s3.Config{Endpoint: s3cfg.Endpoint, Bucket: s3cfg.Bucket, Prefix: s3cfg.Prefix, PathStyle: true,
		AccessKey: s3cfg.AccessKey, SecretKey: s3cfg.SecretKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(context.Background(), id); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("object after delete: %v", err)
	}
}
