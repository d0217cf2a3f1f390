//go:build ceph

package api_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
)

// BenchmarkRBDDownload compares a download through glint (HTTP on
// loopback, the RBD driver reading the image's snapshot) with Ceph's own
// `rbd export` of the same snapshot to /dev/null, alternating the two in
// one run. It reports both rates and glint's as a percentage of rbd's
// (target: at least 80). The store uses Glance's default 8 MiB chunks.
//
//	source .ci/ceph.sh
//	go test -tags ceph,pacific -run '^$' -bench RBDDownload -benchtime 5x ./internal/api/
func BenchmarkRBDDownload(b *testing.B) {
	c := rbdConfig(b)
	c.ChunkSizeMiB = 0 // the default, 8 MiB
	size := 256 << 20
	if testing.Short() {
		size = 32 << 20
	}
	e := newEnvConfig(b, func(cfg *config.Config) {
		rbdStores(b, c)(cfg)
		cfg.SizeCap = int64(size)
	})
	id := e.createImage(b, `{"name":"bench","disk_format":"raw","container_format":"bare"}`)
	resp, body := e.doReader("owner", "PUT", "/v2/images/"+id+"/file",
		map[string]string{"Content-Type": "application/octet-stream"}, bytes.NewReader(randomDisk(size)))
	if resp.StatusCode != 204 {
		b.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	b.Cleanup(func() { e.do("owner", "DELETE", "/v2/images/"+id, nil, "") })
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	req, _ := http.NewRequest("GET", e.url+"/v2/images/"+id+"/file", nil)
	req.Header.Set("X-Project-Id", "proj-a")

	var glint, export time.Duration
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		glint += time.Since(start)
		if n != int64(size) {
			b.Fatalf("downloaded %d bytes", n)
		}

		start = time.Now()
		cmd := exec.Command("rbd", "--conf", c.ConfFile, "--id", c.User, "--keyring", c.Keyring, "--pool", c.Pool,
			"export", "--no-progress", id+"@snap", "-")
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = devnull, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("rbd export: %v %s", err, stderr.Bytes())
		}
		export += time.Since(start)
	}
	b.StopTimer()
	mb := float64(size) * float64(b.N) / 1e6
	b.ReportMetric(mb/glint.Seconds(), "glint-MB/s")
	b.ReportMetric(mb/export.Seconds(), "rbd-export-MB/s")
	b.ReportMetric(100*export.Seconds()/glint.Seconds(), "%-of-rbd-export")
}
