package api_test

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/testenv"
)

// s3Counter is a reverse proxy in front of the S3 test server that counts
// the object GETs and the bytes they return, so a test sees exactly what
// glint reads from the real store. SigV4 signs the Host header, which the
// proxy passes through unchanged.
type s3Counter struct {
	*httptest.Server
	gets, bytes atomic.Int64
}

func newS3Counter(t testing.TB) *s3Counter {
	t.Helper()
	endpoint := os.Getenv("GLINT_TEST_S3_ENDPOINT")
	if endpoint == "" {
		testenv.Missing(t, "GLINT_TEST_S3_ENDPOINT, GLINT_TEST_S3_ACCESS_KEY, GLINT_TEST_S3_SECRET_KEY are not set")
	}
	target, err := url.Parse("http://" + strings.TrimPrefix(endpoint, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	c := &s3Counter{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		r := resp.Request
		if r.Method == "GET" && r.URL.Query().Get("uploads") == "" && !strings.HasSuffix(r.URL.Path, "/") && resp.StatusCode/100 == 2 &&
			r.URL.RawQuery == "" {
			c.gets.Add(1)
			resp.Body = &countingBody{ReadCloser: resp.Body, n: &c.bytes}
		}
		return nil
	}
	c.Server = httptest.NewServer(proxy)
	t.Cleanup(c.Close)
	return c
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

// s3CountedEnv is an API environment on S3 reached through counter.
func s3CountedEnv(t testing.TB, counter *s3Counter, change func(*config.Config)) *env {
	return newEnvConfig(t, func(cfg *config.Config) {
		cfg.SizeCap = 2 << 30
		cfg.SingleStore = &config.Store{Type: "s3", S3: config.S3{Endpoint: strings.TrimPrefix(counter.URL, "http://"),
			Bucket: s3Bucket, Prefix: "fetch-" + strings.ToLower(rand.Text())[:12] + "/", PathStyle: true, CreateBucket: true,
			AccessKey: os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), SecretKey: os.Getenv("GLINT_TEST_S3_SECRET_KEY")}}
		if change != nil {
			change(cfg)
		}
	})
}

// TestCacheFirstDownloadReadsS3Once: four clients download an uncached
// 1 GiB image from S3 at once; glint reads it from S3 once, every client
// gets all of it, and later downloads read nothing from S3.
func TestCacheFirstDownloadReadsS3Once(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 6 GiB through loopback")
	}
	if os.Getenv(backendVar) != "" {
		t.Skip("runs once, in the first pass (it brings its own S3 store)")
	}
	counter := newS3Counter(t)
	e := s3CountedEnv(t, counter, nil)
	const size = 1 << 30
	start := time.Now()
	id := e.uploadedPattern(t, size)
	t.Logf("1 GiB upload to S3: %s", time.Since(start))
	want := patternMD5(size)
	counter.gets.Store(0)
	counter.bytes.Store(0)
	start = time.Now()

	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sum, n := e.downloadMD5(t, id); n != size || sum != want {
				t.Errorf("client %d: %d bytes, md5 %s", i, n, sum)
			}
		}()
	}
	wg.Wait()
	t.Logf("4 concurrent first downloads: %s", time.Since(start))
	if gets, n := counter.gets.Load(), counter.bytes.Load(); gets != 1 || n != size {
		t.Fatalf("4 concurrent first downloads read S3 %d times, %d bytes; want once, %d bytes", gets, n, size)
	}
	e.waitCachedAPI(t, id)
	start = time.Now()
	if sum, n := e.downloadMD5(t, id); n != size || sum != want {
		t.Fatalf("cached download: %d bytes", n)
	}
	t.Logf("one cached download (md5 on the client): %s", time.Since(start))
	if gets := counter.gets.Load(); gets != 1 {
		t.Fatalf("a cached download read S3 (%d reads in all)", gets)
	}
}

// uploadedPattern uploads size bytes of pattern() as the owner.
func (e *env) uploadedPattern(t testing.TB, size int64) string {
	t.Helper()
	resp, body := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"},
		`{"name":"big","disk_format":"raw","container_format":"bare"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	id := body[strings.Index(body, `"id":"`)+6:][:36]
	req, _ := http.NewRequest("PUT", e.url+"/v2/images/"+id+"/file", io.LimitReader(&patternReader{}, size))
	req.ContentLength = size
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Project-Id", "proj-a")
	req.Header.Set("X-Roles", "member")
	up, err := http.DefaultClient.Do(req)
	if err != nil || up.StatusCode != 204 {
		t.Fatalf("upload: %v %v", err, up)
	}
	up.Body.Close()
	return id
}

// downloadMD5 downloads an image as the owner and returns its md5 and size.
func (e *env) downloadMD5(t testing.TB, id string) (string, int64) {
	req, _ := http.NewRequest("GET", e.url+"/v2/images/"+id+"/file", nil)
	req.Header.Set("X-Project-Id", "proj-a")
	req.Header.Set("X-Roles", "member")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Error(err)
		return "", 0
	}
	defer resp.Body.Close()
	h := md5.New()
	n, err := io.Copy(h, resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("download: %d %v", resp.StatusCode, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

// patternReader is an endless pattern() stream, so big uploads need no
// memory.
type patternReader struct{ pos int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte((p.pos + int64(i)) % 251)
	}
	p.pos += int64(len(b))
	return len(b), nil
}

func patternMD5(size int64) string {
	h := md5.New()
	io.Copy(h, io.LimitReader(&patternReader{}, size))
	return hex.EncodeToString(h.Sum(nil))
}
