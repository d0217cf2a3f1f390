package api_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/signature/signtest"
)

// BenchmarkUploadSigned measures what signature verification costs an
// upload: the same data uploaded unsigned and signed with each hash
// method (RSA-PSS, signed by openssl), through the real HTTP stack,
// SQLite, the built-in key manager and the filesystem driver, 1 GiB per
// upload (64 MiB with -short, as CI runs it). Each round uploads every
// variant, in a rotating order, so drift of a shared machine falls on all
// alike; the figures are each signed variant's extra wall time and extra
// CPU time (client and server, one process) over the unsigned upload's,
// in percent (docs/benchmarks.md).
func BenchmarkUploadSigned(b *testing.B) {
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	e := newEnvConfig(b, func(c *config.Config) { c.SizeCap = size })
	path := filepath.Join(b.TempDir(), "image.raw")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	chunk := pattern(1 << 20)
	for written := int64(0); written < size; written += int64(len(chunk)) {
		f.Write(chunk)
	}
	f.Close()
	key := signtest.NewKey(b, "rsa", "bench signer")
	certID := storeBenchCert(b, e, key.CertDER)
	variants := []string{"unsigned", "SHA-224", "SHA-256", "SHA-384", "SHA-512"}
	props := map[string]map[string]string{"unsigned": nil}
	for _, hash := range variants[1:] {
		props[hash] = map[string]string{"img_signature": key.Sign(b, path, hash), "img_signature_hash_method": hash,
			"img_signature_key_type": "RSA-PSS", "img_signature_certificate_uuid": certID}
	}
	wall, cpu := map[string]time.Duration{}, map[string]time.Duration{}
	b.SetBytes(size * int64(len(variants)))
	b.ResetTimer()
	for round := range b.N {
		for i := range variants {
			v := variants[(i+round)%len(variants)]
			w, c := uploadTimed(b, e, path, props[v])
			wall[v] += w
			cpu[v] += c
		}
	}
	b.StopTimer()
	for _, v := range variants[1:] {
		b.ReportMetric(100*(float64(wall[v])/float64(wall["unsigned"])-1), v+"-wall-%")
		b.ReportMetric(100*(float64(cpu[v])/float64(cpu["unsigned"])-1), v+"-cpu-%")
	}
	b.ReportMetric(float64(size)/(1<<20)/(wall["unsigned"].Seconds()/float64(b.N)), "unsigned-MiB/s")
}

// uploadTimed creates an image with props, uploads the file and checks
// it went active; it returns the wall and CPU time of the create and the
// upload.
func uploadTimed(b *testing.B, e *env, path string, props map[string]string) (wall, cpu time.Duration) {
	b.Helper()
	data, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer data.Close()
	start, cpu0 := time.Now(), cpuTime()
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "b", DiskFormat: "raw", ContainerFormat: "bare", Properties: props}).Extract()
	if err != nil {
		b.Fatal(err)
	}
	if err := imagedata.Upload(ctx, e.owner, img.ID, data).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	wall, cpu = time.Since(start), cpuTime()-cpu0
	shown, err := images.Get(ctx, e.owner, img.ID).Extract()
	if err != nil || shown.Status != images.ImageStatusActive {
		b.Fatalf("image after upload: %v %v", shown, err)
	}
	if err := images.Delete(ctx, e.owner, img.ID).ExtractErr(); err != nil {
		b.Fatal(err)
	}
	return wall, cpu
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// storeBenchCert stores a certificate in the built-in key manager as the
// owner's project.
func storeBenchCert(b *testing.B, e *env, der []byte) string {
	body, _ := json.Marshal(map[string]string{"secret_type": "certificate", "payload_content_type": "application/octet-stream",
		"payload_content_encoding": "base64", "payload": base64.StdEncoding.EncodeToString(der)})
	req, _ := http.NewRequest("POST", e.url+"/key-manager/v1/secrets", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Project-Id", "proj-a")
	req.Header.Set("X-User-Id", "user-a")
	req.Header.Set("X-Roles", "member")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var ref struct {
		Ref string `json:"secret_ref"`
	}
	if resp.StatusCode != http.StatusCreated || json.Unmarshal(out, &ref) != nil {
		b.Fatalf("storing the certificate: %s %s", resp.Status, out)
	}
	return ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
}
