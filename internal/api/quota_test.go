package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imagedata"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/config"
)

func TestQuotaImageCount(t *testing.T) {
	e := newEnvConfig(t, func(c *config.Config) { c.Quotas = map[string]int64{"image_count_total": 2} })
	for i := range 2 {
		if _, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "q" + itoa64(int64(i))}).Extract(); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, `{"name":"one too many"}`)
	if resp.StatusCode != 413 || !strings.Contains(body, "Resource image_count_total is over limit of 2 due to current usage 2 and delta 1") {
		t.Fatalf("third image: %d %s", resp.StatusCode, body)
	}
	// Another project has its own count.
	if _, err := images.Create(ctx, e.other, images.CreateOpts{Name: "b"}).Extract(); err != nil {
		t.Fatal(err)
	}
	resp, body = e.do("owner", "GET", "/v2/info/usage", nil, "")
	var u struct {
		Usage map[string]struct{ Usage, Limit int64 }
	}
	json.Unmarshal([]byte(body), &u)
	if resp.StatusCode != 200 || u.Usage["image_count_total"].Usage != 2 || u.Usage["image_count_total"].Limit != 2 ||
		u.Usage["image_size_total"].Limit != -1 || len(u.Usage) != 4 {
		t.Fatalf("usage: %d %s", resp.StatusCode, body)
	}
	// Only an admin raises the limit; then the create passes.
	json := map[string]string{"Content-Type": "application/json"}
	if resp, _ := e.do("owner", "PUT", "/v2/quotas/proj-a", json, `{"image_count_total": 10}`); resp.StatusCode != 403 {
		t.Fatalf("member sets quota: %d", resp.StatusCode)
	}
	if resp, body := e.do("admin", "PUT", "/v2/quotas/proj-a", json, `{"image_count_total": 3}`); resp.StatusCode != 200 || !strings.Contains(body, `"image_count_total":{"usage":2,"limit":3}`) {
		t.Fatalf("admin sets quota: %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("admin", "PUT", "/v2/quotas/proj-a", json, `{"image_count": 3}`); resp.StatusCode != 400 {
		t.Fatalf("unknown quota: %d %s", resp.StatusCode, body)
	}
	if _, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "third"}).Extract(); err != nil {
		t.Fatalf("after raising the quota: %v", err)
	}
	if resp, _ := e.do("other", "GET", "/v2/quotas/proj-a", nil, ""); resp.StatusCode != 403 {
		t.Fatalf("other project reads quotas: %d", resp.StatusCode)
	}
	if resp, _ := e.do("admin", "DELETE", "/v2/quotas/proj-a", nil, ""); resp.StatusCode != 204 {
		t.Fatalf("reset: %d", resp.StatusCode)
	}
	if resp, _ := e.do("owner", "POST", "/v2/images", json, `{"name":"x"}`); resp.StatusCode != 413 {
		t.Fatalf("after reset: %d", resp.StatusCode)
	}
}

func TestQuotaImageSize(t *testing.T) {
	e := newEnvConfig(t, func(c *config.Config) { c.Quotas = map[string]int64{"image_size_total": 1} }) // 1 MiB
	mk := func() string {
		img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "s", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		return img.ID
	}
	// Declared too big: refused before any byte is stored.
	a := mk()
	resp, body := e.do("owner", "PUT", "/v2/images/"+a+"/file", map[string]string{"Content-Type": "application/octet-stream"}, string(pattern(2<<20)))
	if resp.StatusCode != 413 || !strings.Contains(body, "image_size_total") {
		t.Fatalf("2 MiB against 1 MiB: %d %s", resp.StatusCode, body)
	}
	// Size unknown (chunked): stopped while streaming.
	err := imagedata.Upload(ctx, e.owner, a, io.MultiReader(bytes.NewReader(pattern(1<<20)), bytes.NewReader([]byte("!")))).ExtractErr()
	wantStatus(t, err, 413)
	img, _ := images.Get(ctx, e.owner, a).Extract()
	if img.Status != images.ImageStatusQueued {
		t.Fatalf("after refused upload: %s", img.Status)
	}
	e.assertNoPartialData(t)
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs after refused uploads", n)
	}
	wantStatus(t, imagedata.Upload(ctx, e.owner, a, bytes.NewReader(pattern(600<<10))).ExtractErr(), 0)
	b := mk()
	wantStatus(t, imagedata.Upload(ctx, e.owner, b, io.MultiReader(bytes.NewReader(pattern(600<<10)))).ExtractErr(), 413)
	wantStatus(t, imagedata.Upload(ctx, e.owner, b, bytes.NewReader(pattern(400<<10))).ExtractErr(), 0)
}

// TestQuotaUploadingConcurrent holds one upload open and checks that a
// second one is refused while image_count_uploading is 1.
func TestQuotaUploadingConcurrent(t *testing.T) {
	e := newEnvConfig(t, func(c *config.Config) { c.Quotas = map[string]int64{"image_count_uploading": 1} })
	var ids []string
	for range 2 {
		img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "c", DiskFormat: "raw", ContainerFormat: "bare"}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	pr, pw := io.Pipe()
	done := make(chan int)
	go func() {
		req, _ := http.NewRequest("PUT", e.url+"/v2/images/"+ids[0]+"/file", pr)
		req.Header.Set("X-Project-Id", "proj-a")
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	pw.Write([]byte("first bytes"))
	waitFor(t, func() bool {
		img, err := images.Get(ctx, e.owner, ids[0]).Extract()
		return err == nil && img.Status == images.ImageStatusSaving
	})
	wantStatus(t, imagedata.Upload(ctx, e.owner, ids[1], strings.NewReader("x")).ExtractErr(), 413)
	pw.Close()
	if status := <-done; status != 204 {
		t.Fatalf("held upload: %d", status)
	}
	wantStatus(t, imagedata.Upload(ctx, e.owner, ids[1], strings.NewReader("x")).ExtractErr(), 0)
}

// TestQuotaStageTotal: staged data counts against image_stage_total while
// it streams, so a chunked stage (no size declared) is stopped at the
// quota, leaves nothing behind and returns the image to queued; what fits
// is staged.
func TestQuotaStageTotal(t *testing.T) {
	e := newEnvConfig(t, func(c *config.Config) { c.Quotas = map[string]int64{"image_stage_total": 1} }) // 1 MiB
	// A MultiReader has no known length, so the stage goes out chunked:
	// only a stage of unknown size tests the streaming check.
	stageChunked := func(id string, parts ...[]byte) (int, string) {
		t.Helper()
		readers := make([]io.Reader, len(parts))
		for i, p := range parts {
			readers[i] = bytes.NewReader(p)
		}
		resp, body := e.doReader("owner", "PUT", "/v2/images/"+id+"/stage",
			map[string]string{"Content-Type": "application/octet-stream"}, io.MultiReader(readers...))
		return resp.StatusCode, body
	}
	a := e.createImage(t, `{"name":"a","disk_format":"raw","container_format":"bare"}`)
	if code, body := stageChunked(a, pattern(1<<20), []byte("!")); code != 413 || !strings.Contains(body, "image_stage_total") {
		t.Fatalf("1 MiB + 1 byte staged against 1 MiB: %d %s", code, body)
	}
	if img := e.imageJSON(t, a); img["status"] != "queued" {
		t.Fatalf("after a refused stage: %v", img)
	}
	e.assertNoPartialData(t)
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs after a refused stage", n)
	}
	if code, body := stageChunked(a, pattern(600<<10)); code != 204 {
		t.Fatalf("600 KiB: %d %s", code, body)
	}
	b := e.createImage(t, `{"name":"b","disk_format":"raw","container_format":"bare"}`)
	if code, body := stageChunked(b, pattern(600<<10)); code != 413 {
		t.Fatalf("600 KiB more against 1 MiB with 600 KiB staged: %d %s", code, body)
	}
	if code, body := stageChunked(b, pattern(400<<10)); code != 204 {
		t.Fatalf("400 KiB more: %d %s", code, body)
	}
}
