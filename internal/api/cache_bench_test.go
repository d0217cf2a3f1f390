package api_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// BenchmarkCacheDownload compares, in one run, a download from the file
// store with one from an S3 store served by the image cache, and one
// from S3 with the cache off: go test -run '^$' -bench CacheDownload
// ./internal/api/ (the S3 cases need the S3 test server). The cached
// download is meant to be within 10 % of the file store's.
func BenchmarkCacheDownload(b *testing.B) {
	const size = 256 << 20
	run := func(b *testing.B, e *env, warm bool) {
		id := e.uploadedPattern(b, size)
		get := func() {
			req, _ := http.NewRequest("GET", e.url+"/v2/images/"+id+"/file", nil)
			req.Header.Set("X-Project-Id", "proj-a")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if n != size {
				b.Fatalf("read %d bytes", n)
			}
		}
		if warm {
			get()
			e.waitCachedAPI(b, id)
		}
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			get()
		}
	}
	b.Run("file", func(b *testing.B) {
		run(b, newEnvConfig(b, func(cfg *config.Config) {
			cfg.SingleStore, cfg.Metadata, cfg.SizeCap = nil, config.Metadata{Driver: "sqlite"}, 1<<30
		}), false)
	})
	b.Run("s3-cached", func(b *testing.B) {
		run(b, s3CountedEnv(b, newS3Counter(b), nil), true)
	})
	b.Run("s3-direct", func(b *testing.B) {
		off := false
		run(b, s3CountedEnv(b, newS3Counter(b), func(cfg *config.Config) { cfg.Cache.Enabled = &off }), false)
	})
}
