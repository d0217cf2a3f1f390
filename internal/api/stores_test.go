package api_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

func multiStore(dir string) func(*config.Config) {
	return func(c *config.Config) {
		c.Stores = []config.Store{
			{ID: "cheap", Description: "cheap file store", Type: "file", Path: filepath.Join(dir, "cheap")},
			{ID: "fast", Description: "fast file store", Type: "file", Path: filepath.Join(dir, "fast")},
		}
		c.DefaultStore = "cheap"
	}
}

func TestSingleStoreHidesStoreAPI(t *testing.T) {
	e := newEnv(t)
	if resp, _ := e.do("owner", "GET", "/v2/info/stores", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("info/stores on a single store: %d", resp.StatusCode)
	}
	id := e.uploaded(t, []byte("x"))
	_, body := e.do("owner", "GET", "/v2/images/"+id, nil, "")
	if strings.Contains(body, `"stores"`) {
		t.Fatalf("stores attribute on a single store: %s", body)
	}
}

func TestMultiStore(t *testing.T) {
	dir := t.TempDir()
	e := newEnvConfig(t, multiStore(dir))

	resp, body := e.do("owner", "GET", "/v2/info/stores", nil, "")
	if resp.StatusCode != 200 || body != `{"stores":[{"id":"cheap","description":"cheap file store","default":"true"},{"id":"fast","description":"fast file store"}]}` {
		t.Fatalf("info/stores: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("owner", "GET", "/v2/info/stores/detail", nil, ""); resp.StatusCode != 403 {
		t.Fatalf("detail as a member: %d", resp.StatusCode)
	}
	resp, body = e.do("admin", "GET", "/v2/info/stores/detail", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"type":"file"`) || !strings.Contains(body, `"data_dir"`) {
		t.Fatalf("detail as admin: %d %s", resp.StatusCode, body)
	}
	_, body = e.do("owner", "GET", "/versions", nil, "")
	if !strings.Contains(body, `"v2.13"`) || !strings.Contains(body, `"v2.8"`) {
		t.Fatalf("multi-store versions missing: %s", body)
	}

	create := func() string {
		resp, body := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"},
			`{"name":"m","disk_format":"raw","container_format":"bare"}`)
		if resp.StatusCode != 201 || resp.Header.Get("Openstack-Image-Store-Ids") != "cheap,fast" {
			t.Fatalf("create: %d store ids %q", resp.StatusCode, resp.Header.Get("Openstack-Image-Store-Ids"))
		}
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		return m["id"].(string)
	}
	octet := func(store string) map[string]string {
		h := map[string]string{"Content-Type": "application/octet-stream"}
		if store != "" {
			h["X-Image-Meta-Store"] = store
		}
		return h
	}
	// Default store, named store, unknown store.
	a, b, c := create(), create(), create()
	if resp, _ := e.do("owner", "PUT", "/v2/images/"+a+"/file", octet(""), "in cheap"); resp.StatusCode != 204 {
		t.Fatalf("upload to default: %d", resp.StatusCode)
	}
	if resp, _ := e.do("owner", "PUT", "/v2/images/"+b+"/file", octet("fast"), "in fast"); resp.StatusCode != 204 {
		t.Fatalf("upload to fast: %d", resp.StatusCode)
	}
	resp, body = e.do("owner", "PUT", "/v2/images/"+c+"/file", octet("nowhere"), "x")
	if resp.StatusCode != 400 || !strings.Contains(body, "Store for identifier nowhere not found") {
		t.Fatalf("upload to unknown store: %d %s", resp.StatusCode, body)
	}
	for id, store := range map[string]string{a: "cheap", b: "fast"} {
		_, body := e.do("owner", "GET", "/v2/images/"+id, nil, "")
		if !strings.Contains(body, `"stores":"`+store+`"`) {
			t.Fatalf("image in %s: %s", store, body)
		}
		if n := countFiles(t, filepath.Join(dir, store, "blobs")); n != 1 {
			t.Fatalf("%d blobs in %s", n, store)
		}
	}
	if _, body := e.do("owner", "GET", "/v2/images/"+b+"/file", nil, ""); body != "in fast" {
		t.Fatalf("download from fast: %q", body)
	}
	// A delete removes the data from its store.
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+b, nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if n := countFiles(t, filepath.Join(dir, "fast", "blobs")); n != 0 {
		t.Fatalf("%d blobs left in fast after delete", n)
	}
}
