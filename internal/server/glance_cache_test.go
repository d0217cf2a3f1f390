package server_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGlanceCacheCLI manages a node's image cache with Debian's
// python3-glanceclient (`glance cache-queue`, `cache-list`,
// `cache-delete`, `cache-clear`) on a glint whose store is S3. It runs
// when GLINT_TEST_GLANCE_CLI names the glance command and the S3 test
// server is configured.
func TestGlanceCacheCLI(t *testing.T) {
	cli := glanceCLI(t)
	s3 := testS3(t, "glint-cli-test", "cache")
	g := glanceServe(t, cli, fmt.Sprintf(`store:
  type: s3
  s3:
    endpoint: %q
    bucket: glint-cli-test
    prefix: %s
    access_key: %q
    secret_key: %q
    create_bucket: true
cache:
  image_cache_max_size: 104857600
`, s3.Endpoint, s3.Prefix, s3.AccessKey, s3.SecretKey))
	glance := g.glance
	dir := t.TempDir()
	data := make([]byte, 2<<20+1)
	rand.Read(data)
	src := filepath.Join(dir, "src.raw")
	os.WriteFile(src, data, 0o600)
	id := idOf(t, glance("image-create", "--name", "cached", "--disk-format", "raw", "--container-format", "bare", "--file", src))
	waitList := func(want bool) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			list := glance("cache-list")
			if strings.Contains(list, id) == want || time.Now().After(deadline) {
				return list
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	if list := waitList(false); strings.Contains(list, id) {
		t.Fatalf("cached before anything:\n%s", list)
	}
	glance("cache-queue", id)
	list := waitList(true)
	if !strings.Contains(list, id) || !strings.Contains(list, "2097153") {
		t.Fatalf("cache-list after cache-queue:\n%s", list)
	}
	// A download now comes from the copy, byte for byte.
	dst := filepath.Join(dir, "dst.raw")
	glance("image-download", "--file", dst, id)
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
		t.Fatalf("image-download from the cache: %d bytes", len(got))
	}
	glance("cache-delete", id)
	if list := waitList(false); strings.Contains(list, id) {
		t.Fatalf("cache-list after cache-delete:\n%s", list)
	}
	glance("image-download", "--file", dst, id) // caches it again
	waitList(true)
	glance("cache-clear", "--target", "cache")
	if list := waitList(false); strings.Contains(list, id) {
		t.Fatalf("cache-list after cache-clear:\n%s", list)
	}
	glance("cache-queue", id)
	waitList(true)
	glance("cache-clear")
	if list := waitList(false); strings.Contains(list, id) {
		t.Fatalf("cache-list after cache-clear of both:\n%s", list)
	}

	// The operator's command does the same with the same credentials.
	admin := func(args ...string) string {
		t.Helper()
		out, err := oscErr(glintBinary, g.env, append([]string{"admin", "cache"}, args...)...)
		if err != nil {
			t.Fatalf("glint admin cache %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	admin("queue", id)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(admin("list"), id+"  cached  2097153") {
		if time.Now().After(deadline) {
			t.Fatalf("glint admin cache list:\n%s", admin("list"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if out := admin("list", "--json"); !strings.Contains(out, `"image_id": "`+id+`"`) {
		t.Fatalf("glint admin cache list --json:\n%s", out)
	}
	if out := admin("prune"); out != "pruned 0 images, 0 bytes\n" {
		t.Fatalf("glint admin cache prune: %q", out)
	}
	admin("delete", id)
	if out := admin("list"); strings.Contains(out, id) {
		t.Fatalf("after glint admin cache delete:\n%s", out)
	}
	if out, err := oscErr(glintBinary, g.env, "admin", "cache", "queue", "00000000-0000-0000-0000-000000000000"); err == nil ||
		!strings.Contains(out, "Image 00000000-0000-0000-0000-000000000000 not found.") {
		t.Fatalf("queue of an unknown image: %v\n%s", err, out)
	}
	admin("clear", "--target", "queue")
}
