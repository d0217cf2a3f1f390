package api_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// BenchmarkDownloadSparse downloads through the real HTTP stack a raw
// image holding one eighth data (the file store keeps the rest as holes)
// and a dense image of the same size: the sparse one must be at least as
// fast (issue 22). The blob-level comparison of the same content stored
// sparse and dense is internal/blob/filesystem's BenchmarkDownload.
func BenchmarkDownloadSparse(b *testing.B) {
	e := newEnv(b)
	dense := pattern(benchSize)
	sparse := make([]byte, benchSize)
	for off := 0; off < benchSize; off += 8 << 20 {
		copy(sparse[off:off+1<<20], dense[off:])
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"dense", dense}, {"sparse", sparse}} {
		img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: c.name, DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			b.Fatal(err)
		}
		if err := imagedata.Upload(ctx, e.owner, img.ID, bytes.NewReader(c.data)).ExtractErr(); err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			req, _ := http.NewRequest("GET", e.url+"/v2/images/"+img.ID+"/file", nil)
			req.Header.Set("X-Project-Id", "proj-a")
			b.SetBytes(benchSize)
			for b.Loop() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if n != benchSize {
					b.Fatalf("read %d bytes", n)
				}
			}
		})
	}
}
