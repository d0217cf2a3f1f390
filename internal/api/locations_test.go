package api_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// Locations are hidden by default, as in Glance.
func TestLocationsHiddenByDefault(t *testing.T) {
	e := newEnv(t)
	id := e.uploaded(t, []byte("some data"))
	img := e.imageJSON(t, id)
	if _, ok := img["locations"]; ok {
		t.Errorf("locations shown by default: %v", img)
	}
	if _, ok := img["direct_url"]; ok {
		t.Errorf("direct_url shown by default: %v", img)
	}
	resp, body := e.do("owner", "PATCH", "/v2/images/"+id,
		map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch", "Accept": "application/json"},
		`[{"op":"remove","path":"/locations/0"}]`)
	if resp.StatusCode != 403 || !strings.Contains(body, "locations are invisible") {
		t.Errorf("PATCH /locations with locations hidden: %d %s", resp.StatusCode, body)
	}
}

// With show_image_direct_url and show_multiple_locations, records carry
// direct_url and locations (after updated_at, before tags, as Glance
// orders them); with named stores each location says its store.
func TestLocationsShown(t *testing.T) {
	dir := t.TempDir()
	e := newEnvConfig(t, func(cfg *config.Config) {
		cfg.ShowImageDirectURL, cfg.ShowMultipleLocations = true, true
		cfg.Stores = []config.Store{{ID: "fast", Type: "file", Path: filepath.Join(dir, "fast")}}
		cfg.DefaultStore = "fast"
	})
	queued := e.createImage(t, `{"name":"q","disk_format":"raw","container_format":"bare"}`)
	img := e.imageJSON(t, queued)
	if locs, ok := img["locations"].([]any); !ok || len(locs) != 0 {
		t.Errorf("queued image: locations %v, want []", img["locations"])
	}
	if _, ok := img["direct_url"]; ok {
		t.Errorf("queued image has a direct_url: %v", img)
	}

	id := e.uploaded(t, []byte("some data"))
	want := "file://" + filepath.Join(dir, "fast", "blobs", id)
	resp, body := e.do("owner", "GET", "/v2/images/"+id, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("show: %d %s", resp.StatusCode, body)
	}
	wantLocs := `"locations":[{"url":"` + want + `","metadata":{"store":"fast"}}],"direct_url":"` + want + `","tags":[]`
	if !strings.Contains(body, `"updated_at":`) || !strings.Contains(body, wantLocs) {
		t.Errorf("show: %s\nwant it to hold %s", body, wantLocs)
	}

	// The service API (Glance 2024.2) lists them for the service role
	// only.
	svc := map[string]string{"X-Roles": "service", "Accept": "application/json"}
	resp, body = e.do("other", "GET", "/v2/images/"+id+"/locations", svc, "")
	if resp.StatusCode != 404 { // a private image of another project
		t.Errorf("GET locations of an invisible image as a service: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("owner", "GET", "/v2/images/"+id+"/locations", svc, "")
	var locs []map[string]any
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &locs) != nil || len(locs) != 1 || locs[0]["url"] != want {
		t.Errorf("GET locations as a service: %d %s", resp.StatusCode, body)
	}
	for _, who := range []string{"owner", "admin"} {
		resp, body = e.do(who, "GET", "/v2/images/"+id+"/locations", map[string]string{"Accept": "application/json"}, "")
		if resp.StatusCode != 403 {
			t.Errorf("GET locations as %s: %d %s", who, resp.StatusCode, body)
		}
	}
}
