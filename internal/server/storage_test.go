package server_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// TestMetricsStorage: two projects upload the same mostly-zero raw image;
// the store metrics show one blob of the image's logical size, taking far
// less on disk (holes), and the bytes and images of the shared data.
func TestMetricsStorage(t *testing.T) {
	api, ops := opsServer(t, func(c *config.Config) { c.Quotas = nil })
	data := make([]byte, 4<<20)
	rand.NewChaCha8([32]byte{5}).Read(data[:256<<10])
	for _, project := range []string{"p1", "p2"} {
		resp, body := call(t, "POST", api+"/v2/images", project, map[string]string{"Content-Type": "application/json"},
			[]byte(`{"name":"raw","disk_format":"raw","container_format":"bare"}`))
		var created struct{ ID string }
		if resp.StatusCode != 201 || json.Unmarshal(body, &created) != nil {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		if resp, b := call(t, "PUT", api+"/v2/images/"+created.ID+"/file", project,
			map[string]string{"Content-Type": "application/octet-stream"}, data); resp.StatusCode != 204 {
			t.Fatalf("upload: %d %s", resp.StatusCode, b)
		}
	}
	fams := scrape(t, ops)
	store := map[string]string{"store": "default"}
	for name, want := range map[string]float64{
		"glint_store_blobs":              1,
		"glint_store_logical_bytes":      float64(len(data)),
		"glint_store_shared_saved_bytes": float64(len(data)),
		"glint_store_shared_images":      2,
	} {
		if got := value(fams, name, store); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if got := value(fams, "glint_store_physical_bytes", store); got < 256<<10 || got > 512<<10 {
		t.Errorf("glint_store_physical_bytes = %v for 256 KiB of data in a %d-byte image", got, len(data))
	}
}
