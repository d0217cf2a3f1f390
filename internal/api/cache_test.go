package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/testenv"
)

// s3Env is an API environment whose one store is S3 (its own prefix), so
// the image cache is on by default; it skips without the S3 test server.
func s3Env(t *testing.T, change func(*config.Config)) *env {
	t.Helper()
	endpoint := os.Getenv("GLINT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		testenv.Missing(t, "GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY, GLINT_TEST_S3_SECRET_KEY are not set")
	}
	return newEnvConfig(t, func(cfg *config.Config) {
		cfg.SingleStore = &config.Store{Type: "s3", S3: config.S3{Endpoint: endpoint,
			Bucket: s3Bucket, Prefix: "cache-" + strings.ToLower(rand.Text())[:12] + "/", PathStyle: true, CreateBucket: true,
			AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}}
		if change != nil {
			change(cfg)
		}
	})
}

type cacheState struct {
	Cached []struct {
		ImageID      string  `json:"image_id"`
		Hits         int     `json:"hits"`
		LastAccessed float64 `json:"last_accessed"`
		LastModified float64 `json:"last_modified"`
		Size         int64   `json:"size"`
	} `json:"cached_images"`
	Queued []string `json:"queued_images"`
}

func (e *env) cacheState(t testing.TB) cacheState {
	t.Helper()
	resp, body := e.do("admin", "GET", "/v2/cache", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /v2/cache: %d %s", resp.StatusCode, body)
	}
	var st cacheState
	if err := json.Unmarshal([]byte(body), &st); err != nil || st.Cached == nil || st.Queued == nil {
		t.Fatalf("GET /v2/cache: %v %s", err, body)
	}
	return st
}

// waitCachedAPI polls GET /v2/cache until id is listed as cached, as
// Tempest's wait_for_caching does.
func (e *env) waitCachedAPI(t testing.TB, id string) cacheState {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := e.cacheState(t)
		for _, c := range st.Cached {
			if c.ImageID == id {
				return st
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was not cached: %+v", id, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *env) download(t *testing.T, id string, hdr map[string]string) (int, string, string) {
	t.Helper()
	resp, body := e.do("owner", "GET", "/v2/images/"+id+"/file", hdr, "")
	return resp.StatusCode, body, resp.Header.Get("Content-Length")
}

// TestImageCacheAPI walks Tempest's test_image_caching_cycle and the
// rest of Glance's /v2/cache contract on an S3 store: downloads fill the
// cache and later ones are served from it, queued images are fetched by
// the prefetcher without a download, and members get 403.
func TestImageCacheAPI(t *testing.T) {
	e := s3Env(t, nil)
	if st := e.cacheState(t); len(st.Cached) != 0 || len(st.Queued) != 0 {
		t.Fatalf("new cache: %+v", st)
	}
	for _, c := range []struct{ method, path, rule string }{
		{"GET", "/v2/cache", "cache_list"}, {"DELETE", "/v2/cache", "cache_delete"},
	} {
		if resp, body := e.do("owner", c.method, c.path, nil, ""); resp.StatusCode != 403 ||
			!strings.Contains(body, "You are not authorized to complete "+c.rule+" action.") {
			t.Errorf("member %s %s: %d %s", c.method, c.path, resp.StatusCode, body)
		}
	}
	resp, body := e.do("", "GET", "/versions", nil, "")
	if !strings.Contains(body, `"id":"v2.16","status":"CURRENT"`) || !strings.Contains(body, `"id":"v2.14","status":"SUPPORTED"`) {
		t.Errorf("versions with the cache: %d %s", resp.StatusCode, body)
	}

	// A download caches the image; the next one is served from the copy.
	data := make([]byte, 3<<20+5)
	rand.Read(data)
	id := e.uploaded(t, data)
	if code, got, _ := e.download(t, id, nil); code != 200 || got != string(data) {
		t.Fatalf("first download: %d, %d bytes", code, len(got))
	}
	st := e.waitCachedAPI(t, id)
	if len(st.Cached) != 1 || st.Cached[0].Size != int64(len(data)) || st.Cached[0].Hits != 0 || st.Cached[0].LastAccessed < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Fatalf("after the first download: %+v", st)
	}
	if code, got, length := e.download(t, id, nil); code != 200 || got != string(data) || length != "3145733" {
		t.Fatalf("cached download: %d, %d bytes, Content-Length %s", code, len(got), length)
	}
	if st := e.cacheState(t); st.Cached[0].Hits != 1 || st.Cached[0].LastAccessed <= st.Cached[0].LastModified {
		t.Fatalf("after a cache hit: %+v", st)
	}
	// A range of a cached image comes from the copy as well.
	if code, got, _ := e.download(t, id, map[string]string{"Range": "bytes=10-19"}); code != 206 || got != string(data[10:20]) {
		t.Fatalf("range of a cached image: %d %q", code, got)
	}

	// A range of an uncached image is answered at once and fills nothing.
	other := e.uploaded(t, bytes.Repeat([]byte("x"), 1<<20))
	if code, got, _ := e.download(t, other, map[string]string{"Range": "bytes=-4"}); code != 206 || got != "xxxx" {
		t.Fatalf("range of an uncached image: %d %q", code, got)
	}
	if st := e.cacheState(t); len(st.Cached) != 1 {
		t.Fatalf("a range download was cached: %+v", st)
	}

	// Queueing, as Tempest does it: no download, the node fetches it.
	queued := e.createImage(t, `{"name":"q","disk_format":"raw","container_format":"bare"}`)
	for _, c := range []struct {
		who, id string
		status  int
		want    string
	}{
		{"admin", "non-existing-image-id", 404, "Image non-existing-image-id not found."},
		{"admin", "00000000-0000-0000-0000-000000000000", 404, "Image 00000000-0000-0000-0000-000000000000 not found."},
		{"admin", queued, 400, "Only images with status active can be targeted for queueing"},
		{"owner", other, 403, "You are not authorized to complete cache_image action."},
	} {
		if resp, body := e.do(c.who, "PUT", "/v2/cache/"+c.id, nil, ""); resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("queue %s as %s: %d %s", c.id, c.who, resp.StatusCode, body)
		}
	}
	if resp, body := e.do("admin", "PUT", "/v2/cache/"+other, nil, ""); resp.StatusCode != 202 || body != "" {
		t.Fatalf("queue: %d %s", resp.StatusCode, body)
	}
	st = e.waitCachedAPI(t, other)
	if len(st.Cached) != 2 || len(st.Queued) != 0 {
		t.Fatalf("after prefetching: %+v", st)
	}

	// Delete one entry, then clear.
	if resp, body := e.do("admin", "DELETE", "/v2/cache/"+other, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete entry: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("admin", "DELETE", "/v2/cache/00000000-0000-0000-0000-000000000000", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("delete unknown entry: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("admin", "DELETE", "/v2/cache", map[string]string{"X-Image-Cache-Clear-Target": "both"}, ""); resp.StatusCode != 400 ||
		!strings.Contains(body, "If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.") {
		t.Fatalf("clear target both: %d %s", resp.StatusCode, body)
	}
	for _, target := range []string{"queue", "cache", ""} {
		hdr := map[string]string{}
		if target != "" {
			hdr["X-Image-Cache-Clear-Target"] = target
		}
		if resp, body := e.do("admin", "DELETE", "/v2/cache", hdr, ""); resp.StatusCode != 204 || body != "" {
			t.Fatalf("clear %q: %d %s", target, resp.StatusCode, body)
		}
	}
	if st := e.cacheState(t); len(st.Cached) != 0 || len(st.Queued) != 0 {
		t.Fatalf("after clear: %+v", st)
	}
	if resp, _ := e.do("admin", "POST", "/v2/cache", nil, ""); resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET" {
		t.Fatalf("POST /v2/cache: %d %v", resp.StatusCode, resp.Header)
	}

	// Deleting an image drops its copy.
	e.download(t, id, nil)
	e.waitCachedAPI(t, id)
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+id, nil, ""); resp.StatusCode != 204 {
		t.Fatal("delete image")
	}
	if st := e.cacheState(t); len(st.Cached) != 0 {
		t.Fatalf("a deleted image stays cached: %+v", st)
	}
	resp, body = e.do("admin", "POST", "/v2/cache/prune", nil, "")
	if resp.StatusCode != 200 || body != `{"total_files_pruned":0,"total_bytes_pruned":0}` {
		t.Fatalf("prune: %d %s", resp.StatusCode, body)
	}
}

// TestImageCacheOffForFiles: the file store is local, so there is no
// cache and the cache API answers as Glance's without image_cache_dir.
func TestImageCacheOffForFiles(t *testing.T) {
	e := newEnvConfig(t, func(cfg *config.Config) {
		cfg.SingleStore = nil
		cfg.Metadata = config.Metadata{Driver: "sqlite"}
	})
	if resp, body := e.do("admin", "GET", "/v2/cache", nil, ""); resp.StatusCode != 404 || !strings.Contains(body, "Caching via API is not supported at this site.") {
		t.Fatalf("GET /v2/cache without a cache: %d %s", resp.StatusCode, body)
	}
	if _, body := e.do("", "GET", "/versions", nil, ""); strings.Contains(body, "v2.16") || !strings.Contains(body, `"id":"v2.15","status":"CURRENT"`) {
		t.Fatalf("versions without the cache: %s", body)
	}
}
