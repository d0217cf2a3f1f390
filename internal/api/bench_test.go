package api_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

// Throughput of one upload and one download through the real HTTP stack,
// SQLite and the filesystem driver: go test -bench . ./internal/api/
const benchSize = 64 << 20

// BenchmarkUpload also reports the process's CPU per GiB uploaded: on a
// shared machine it says more than the wall clock. The client's share
// (its HTTP write, the loopback send) is in it, the same for every server
// change.
func BenchmarkUpload(b *testing.B) {
	e := newEnv(b)
	data := pattern(benchSize)
	b.SetBytes(benchSize)
	b.ResetTimer()
	cpu0 := cpuTime()
	defer func() {
		gib := float64(b.N) * benchSize / (1 << 30)
		b.ReportMetric((cpuTime()-cpu0).Seconds()/gib, "CPU-s/GiB")
	}()
	for range b.N {
		img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "b", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			b.Fatal(err)
		}
		if err := imagedata.Upload(ctx, e.owner, img.ID, bytes.NewReader(data)).ExtractErr(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDownload(b *testing.B) {
	e := newEnv(b)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "b", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
	if err != nil {
		b.Fatal(err)
	}
	if err := imagedata.Upload(ctx, e.owner, img.ID, bytes.NewReader(pattern(benchSize))).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest("GET", e.url+"/v2/images/"+img.ID+"/file", nil)
	req.Header.Set("X-Project-Id", "proj-a")
	b.SetBytes(benchSize)
	b.ResetTimer()
	for range b.N {
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
}
