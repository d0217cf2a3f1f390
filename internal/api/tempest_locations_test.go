package api_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestTempestImageLocations reproduces the eight tests of Tempest's
// ImageLocationsTest (tempest/api/image/v2/test_images.py in Debian's
// python3-tempest 33.0.0), check by check, against glint with
// show_multiple_locations and show_image_direct_url on and an http store
// (Tempest's image.http_image is a web URL; here a local server, which the
// store is configured to reach). internal/server's test of the same name
// runs Tempest itself; this one restates its assertions for a quick run
// without Python.
func TestTempestImageLocations(t *testing.T) {
	web := newWebServer(t, pattern(100_000))
	e := webEnv(t, web, nil)
	httpImage := web.URL + "/image.raw"

	show := func(t *testing.T, id string) map[string]any { t.Helper(); return e.imageJSON(t, id) }
	locs := func(img map[string]any) []any { l, _ := img["locations"].([]any); return l }
	url0 := func(img map[string]any, i int) string { return locs(img)[i].(map[string]any)["url"].(string) }
	update := func(t *testing.T, id string, ops string, want int) {
		t.Helper()
		if code, body := e.patchImage(t, id, ops); code != want {
			t.Fatalf("PATCH %s: %d %s (want %d)", ops, code, body, want)
		}
	}
	add := func(loc map[string]any) string {
		b, _ := json.Marshal([]map[string]any{{"op": "add", "path": "/locations/-", "value": loc}})
		return string(b)
	}
	replace := func(list any) string {
		b, _ := json.Marshal([]map[string]any{{"op": "replace", "path": "/locations", "value": list}})
		return string(b)
	}
	create := func(t *testing.T) string {
		t.Helper()
		id := e.createImage(t, `{"container_format":"bare","disk_format":"raw"}`)
		img := show(t, id)
		if img["status"] != "queued" || locs(img) == nil || len(locs(img)) != 0 {
			t.Fatalf("new image: %v", img)
		}
		return id
	}
	directMatches := func(t *testing.T, img map[string]any) {
		t.Helper()
		if d, ok := img["direct_url"]; ok && d != url0(img, 0) {
			t.Errorf("direct_url %v is not the first location %v", d, url0(img, 0))
		}
	}

	checkSetLocation := func(t *testing.T) map[string]any {
		id := create(t)
		update(t, id, add(map[string]any{"metadata": map[string]any{"foo": "bar"}, "url": httpImage}), 200)
		img := show(t, id)
		if len(locs(img)) != 1 || url0(img, 0) != httpImage {
			t.Fatalf("locations: %v", img["locations"])
		}
		if locs(img)[0].(map[string]any)["metadata"].(map[string]any)["foo"] != "bar" {
			t.Errorf("metadata: %v", locs(img)[0])
		}
		directMatches(t, img)
		if img["status"] != "active" {
			t.Errorf("status %v", img["status"])
		}
		return img
	}
	checkSetMultiple := func(t *testing.T) map[string]any {
		img := checkSetLocation(t)
		id := img["id"].(string)
		update(t, id, add(map[string]any{"metadata": map[string]any{"speed": "88mph"}, "url": httpImage + "#new"}), 200)
		img = show(t, id)
		if len(locs(img)) != 2 || url0(img, 1) != httpImage+"#new" || img["status"] != "active" {
			t.Fatalf("after the second location: %v", img)
		}
		directMatches(t, img)
		return img
	}
	checkSetWithHash := func(t *testing.T) map[string]any {
		id := create(t)
		update(t, id, add(map[string]any{"validation_data": map[string]any{"checksum": strings.Repeat("1", 32),
			"os_hash_value": strings.Repeat("deadbeef", 16), "os_hash_algo": "sha512"}, "metadata": map[string]any{}, "url": httpImage}), 200)
		img := show(t, id)
		if len(locs(img)) != 1 || img["checksum"] != strings.Repeat("1", 32) || img["os_hash_value"] != strings.Repeat("deadbeef", 16) ||
			img["os_hash_algo"] != "sha512" || img["status"] != "active" {
			t.Fatalf("after a location with validation_data: %v", img)
		}
		if _, ok := locs(img)[0].(map[string]any)["validation_data"]; ok {
			t.Errorf("validation_data shown: %v", locs(img)[0])
		}
		return img
	}

	t.Run("test_location_after_upload", func(t *testing.T) {
		id := create(t)
		resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, "random bytes")
		if resp.StatusCode != 204 {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		img := show(t, id)
		if len(locs(img)) != 1 {
			t.Fatalf("locations: %v", img["locations"])
		}
		directMatches(t, img)
	})
	t.Run("test_set_location", func(t *testing.T) { checkSetLocation(t) })
	t.Run("test_replace_location", func(t *testing.T) {
		img := checkSetMultiple(t)
		id := img["id"].(string)
		original := locs(img)
		update(t, id, replace(original), 200)
		original[0].(map[string]any)["metadata"].(map[string]any)["date"] = "2015-10-15"
		update(t, id, replace(original), 200)
		update(t, id, replace([]any{original[0]}), 400)
		newLoc := map[string]any{"metadata": original[1].(map[string]any)["metadata"], "url": httpImage + "#new3"}
		update(t, id, replace([]any{original[0], newLoc}), 400)
		img = show(t, id)
		if len(locs(img)) != 2 || !reflect.DeepEqual(locs(img), original) {
			t.Errorf("locations %v, want %v", locs(img), original)
		}
	})
	t.Run("test_delete_locations", func(t *testing.T) {
		img := checkSetMultiple(t)
		id := img["id"].(string)
		remaining := url0(img, 1)
		update(t, id, `[{"op":"remove","path":"/locations/0"}]`, 200)
		img = show(t, id)
		if len(locs(img)) != 1 || url0(img, 0) != remaining {
			t.Fatalf("after removing the first: %v", img["locations"])
		}
		directMatches(t, img)
		update(t, id, `[{"op":"remove","path":"/locations/0"}]`, 403)
	})
	t.Run("test_set_location_bad_scheme", func(t *testing.T) {
		id := create(t)
		update(t, id, add(map[string]any{"metadata": map[string]any{"foo": "bar"}, "url": "gopher://info.cern.ch"}), 400)
	})
	t.Run("test_set_location_with_hash", func(t *testing.T) { checkSetWithHash(t) })
	t.Run("test_set_location_with_hash_second_matching", func(t *testing.T) {
		orig := checkSetWithHash(t)
		id := orig["id"].(string)
		update(t, id, add(map[string]any{"validation_data": map[string]any{"checksum": orig["checksum"],
			"os_hash_value": orig["os_hash_value"], "os_hash_algo": orig["os_hash_algo"]}, "metadata": map[string]any{}, "url": httpImage + "#new"}), 200)
		img := show(t, id)
		if len(locs(img)) != 2 || img["checksum"] != orig["checksum"] || img["os_hash_value"] != orig["os_hash_value"] || img["os_hash_algo"] != orig["os_hash_algo"] {
			t.Fatalf("after the matching second location: %v", img)
		}
		for _, l := range locs(img) {
			if _, ok := l.(map[string]any)["validation_data"]; ok {
				t.Errorf("validation_data shown: %v", l)
			}
		}
	})
	t.Run("test_set_location_with_hash_not_matching", func(t *testing.T) {
		orig := checkSetWithHash(t)
		id := orig["id"].(string)
		values := map[string]any{"checksum": strings.Repeat("2", 32), "os_hash_value": strings.Repeat("beefdead", 16), "os_hash_algo": "sha256"}
		var loc map[string]any
		for k, v := range values {
			vd := map[string]any{"checksum": orig["checksum"], "os_hash_value": orig["os_hash_value"], "os_hash_algo": orig["os_hash_algo"]}
			vd[k] = v
			loc = map[string]any{"validation_data": vd, "metadata": map[string]any{}, "url": httpImage + "#new"}
			update(t, id, add(loc), 409)
		}
		loc["validation_data"] = values
		update(t, id, add(loc), 409)
		img := show(t, id)
		if len(locs(img)) != 1 || img["checksum"] != orig["checksum"] || img["os_hash_value"] != orig["os_hash_value"] || img["os_hash_algo"] != orig["os_hash_algo"] {
			t.Errorf("after the refusals: %v", img)
		}
	})
}
