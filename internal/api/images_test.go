package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
)

var ctx = context.Background()

func TestCreateDefaultsAndShow(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{
		Name: "cap-1", DiskFormat: "qcow2", ContainerFormat: "bare",
		Properties: map[string]string{"os_distro": "debian"},
	}).Extract()
	wantStatus(t, err, 0)
	if img.Status != images.ImageStatusQueued || img.Visibility != images.ImageVisibilityShared ||
		img.Protected || img.Hidden || img.MinDiskGigabytes != 0 || img.MinRAMMegabytes != 0 ||
		img.Owner != "proj-a" || img.Properties["os_distro"] != "debian" || len(img.Tags) != 0 {
		t.Fatalf("unexpected defaults: %+v", img)
	}
	got, err := images.Get(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	if got.Name != "cap-1" || got.ID != img.ID || !got.CreatedAt.Equal(img.CreatedAt) {
		t.Fatalf("show differs from create: %+v vs %+v", got, img)
	}
}

func TestCreateWireFormat(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"},
		`{"name": "cap-empty", "id": "07d2a0e5-f838-40a3-bcc2-9eb126f0dc54"}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if loc := resp.Header.Get("Location"); loc != e.url+"/v2/images/07d2a0e5-f838-40a3-bcc2-9eb126f0dc54" {
		t.Fatalf("Location = %q", loc)
	}
	if !regexp.MustCompile(`^req-[0-9a-f-]{36}$`).MatchString(resp.Header.Get("X-Openstack-Request-Id")) {
		t.Fatalf("request id = %q", resp.Header.Get("X-Openstack-Request-Id"))
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"disk_format", "container_format", "size", "virtual_size", "checksum", "os_hash_algo", "os_hash_value"} {
		if v, ok := m[k]; !ok || v != nil {
			t.Errorf("%s = %v (present %v), want null", k, v, ok)
		}
	}
	for _, k := range []string{"locations", "direct_url", "stores"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s must be absent", k)
		}
	}
	if m["self"] != "/v2/images/07d2a0e5-f838-40a3-bcc2-9eb126f0dc54" || m["schema"] != "/v2/schemas/image" ||
		!regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`).MatchString(m["created_at"].(string)) {
		t.Fatalf("bad links or time: %v", m)
	}
	// The same id again is a conflict, also after deletion.
	resp, _ = e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"},
		`{"id": "07d2a0e5-f838-40a3-bcc2-9eb126f0dc54"}`)
	if resp.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate id: %d", resp.StatusCode)
	}
}

func TestCreateBadInput(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 256)
	cases := []struct {
		name, body string
		status     int
		message    string
	}{
		{"malformed json", `{"name":`, 400, "Malformed JSON in request body."},
		{"not an object", `[1]`, 400, "Malformed JSON in request body."},
		{"reserved prefix", `{"name": "x", "os_glance_foo": "1"}`, 403, "Access was denied to this resource.<br /><br />\nAttribute 'os_glance_foo' is reserved.\n\n"},
		{"reserved name", `{"deleted": "1"}`, 403, "Attribute 'deleted' is reserved."},
		{"read-only", `{"name": "x", "checksum": "abc"}`, 403, "Attribute 'checksum' is read-only.<br /><br />\n\n\n"},
		{"read-only status", `{"status": "active"}`, 403, "Attribute 'status' is read-only."},
		{"bad disk format", `{"name": "x", "disk_format": "floppy"}`, 400, "'floppy' is not one of [None, 'ami'"},
		{"bad container format", `{"container_format": "zip"}`, 400, "is not one of"},
		{"bad visibility", `{"visibility": "secret"}`, 400, "is not one of"},
		{"name too long", `{"name": "` + long + `"}`, 400, "is too long"},
		{"tag too long", `{"tags": ["` + long + `"]}`, 400, "is too long"},
		{"property key too long", `{"` + long + `": "v"}`, 400, "Custom property should not be greater than 255 characters."},
		{"property not a string", `{"os_distro": 12}`, 400, "is not of type 'string'"},
		{"negative min_disk", `{"min_disk": -1}`, 400, "Cannot be a negative value"},
		{"fractional min_ram", `{"min_ram": 1.5}`, 400, "is not of type 'integer'"},
		{"protected not bool", `{"protected": "yes"}`, 400, "is not of type 'boolean'"},
		{"bad id", `{"id": "not-a-uuid"}`, 400, "does not match"},
		{"other owner", `{"owner": "proj-z"}`, 403, "You are not permitted to create images owned by 'proj-z'."},
		{"public by non-admin", `{"visibility": "public"}`, 403, "You are not authorized to complete publicize_image action."},
		{"bad kernel_id", `{"kernel_id": "nope"}`, 400, "does not match"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, body := e.do("owner", "POST", "/v2/images",
				map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, c.body)
			if resp.StatusCode != c.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, c.status, body)
			}
			var m map[string]string
			if err := json.Unmarshal([]byte(body), &m); err != nil {
				t.Fatalf("error body is not JSON: %q", body)
			}
			if !strings.Contains(m["message"], c.message) || m["code"] != fmt.Sprintf("%d %s", c.status, http.StatusText(c.status)) {
				t.Fatalf("message %q does not contain %q (code %q)", m["message"], c.message, m["code"])
			}
		})
	}
	// Nothing was created by any of those.
	resp, body := e.do("admin", "GET", "/v2/images", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"images":[]`) {
		t.Fatalf("bad input left records: %d %s", resp.StatusCode, body)
	}
}

func TestCreateAsAdmin(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.admin, images.CreateOpts{Name: "golden", Visibility: ptr(images.ImageVisibilityPublic), Properties: map[string]string{"owner": "proj-z"}}).Extract()
	wantStatus(t, err, 0)
	if img.Visibility != images.ImageVisibilityPublic || img.Owner != "proj-z" {
		t.Fatalf("admin create: %+v", img)
	}
	// Community by the owner is allowed under the Zed defaults.
	img, err = images.Create(ctx, e.owner, images.CreateOpts{Name: "c", Visibility: ptr(images.ImageVisibilityCommunity)}).Extract()
	wantStatus(t, err, 0)
	if img.Visibility != images.ImageVisibilityCommunity {
		t.Fatalf("community create: %+v", img)
	}
}

func TestErrorBodyFollowsAccept(t *testing.T) {
	e := newEnv(t)
	id := "11343994-8cbc-4255-a890-e6ef50417bfa"
	resp, body := e.do("owner", "GET", "/v2/images/"+id, map[string]string{"Accept": "application/json"}, "")
	want := `{"code":"404 Not Found","message":"No image found with ID ` + id + `\u003cbr /\u003e\u003cbr /\u003e\n\n\n","title":"Not Found"}`
	var got, exp map[string]string
	json.Unmarshal([]byte(body), &got)
	json.Unmarshal([]byte(want), &exp)
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "application/json" || got["message"] != exp["message"] || got["code"] != exp["code"] || got["title"] != exp["title"] {
		t.Fatalf("json error: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, body = e.do("owner", "GET", "/v2/images/"+id, nil, "")
	if resp.StatusCode != 404 || resp.Header.Get("Content-Type") != "text/plain; charset=UTF-8" ||
		body != "404 Not Found\n\nNo image found with ID "+id+"\n\n   " {
		t.Fatalf("plain error: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
}

func TestUnauthenticated(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("", "GET", "/v2/images", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 401 || !strings.Contains(body, "401 Unauthorized") {
		t.Fatalf("no identity: %d %s", resp.StatusCode, body)
	}
}

func TestVersions(t *testing.T) {
	e := newEnv(t)
	for path, status := range map[string]int{"/": 300, "/versions": 200, "/v3/images": 300} {
		resp, body := e.do("", "GET", path, nil, "")
		var v struct {
			Versions []struct {
				ID, Status string
				Links      []struct{ Rel, Href string }
			}
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil || resp.StatusCode != status {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, body)
		}
		// On S3 the image cache is on, which adds 2.14 and 2.16.
		n, current := 10, "v2.15"
		if e.s3Prefix != "" {
			n, current = 12, "v2.16"
		}
		if len(v.Versions) != n || v.Versions[0].ID != current || v.Versions[0].Status != "CURRENT" ||
			v.Versions[0].Links[0].Href != e.url+"/v2/" {
			t.Fatalf("%s: versions %+v", path, v.Versions)
		}
	}
	// A minor version prefix reaches the same API.
	resp, _ := e.do("owner", "GET", "/v2.9/images", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("/v2.9/images: %d", resp.StatusCode)
	}
	resp, _ = e.do("owner", "POST", "/v2/schemas/image", nil, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" {
		t.Fatalf("405: %d Allow=%q", resp.StatusCode, resp.Header.Get("Allow"))
	}
	resp, _ = e.do("owner", "GET", "/v2/nothing", nil, "")
	if resp.StatusCode != 404 {
		t.Fatalf("unknown path: %d", resp.StatusCode)
	}
}

func TestSchemasAndInfo(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"image", "images", "member", "members"} {
		resp, body := e.do("owner", "GET", "/v2/schemas/"+name, nil, "")
		var s map[string]any
		if err := json.Unmarshal([]byte(body), &s); err != nil || resp.StatusCode != 200 || s["name"] != name {
			t.Fatalf("schema %s: %d %s", name, resp.StatusCode, body)
		}
	}
	_, body := e.do("owner", "GET", "/v2/schemas/image", nil, "")
	if !strings.Contains(body, `"additionalProperties":{"type":"string"}`) {
		t.Fatalf("image schema not permissive: %s", body)
	}
	resp, body := e.do("owner", "GET", "/v2/info/import", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"value":["glance-direct","web-download","copy-image"]`) {
		t.Fatalf("info/import: %d %s", resp.StatusCode, body)
	}
}

func ptr[T any](v T) *T { return &v }

// TestImageIDCase: an id given in upper case is stored in lower case, and
// any spelling of it names that one image: show, patch, list by id, and a
// second create with the other case is a duplicate.
func TestImageIDCase(t *testing.T) {
	e := newEnv(t)
	const upper = "6A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
	lower := strings.ToLower(upper)
	if id := e.createImage(t, `{"id":"`+upper+`","name":"c","disk_format":"raw","container_format":"bare"}`); id != lower {
		t.Fatalf("created with id %q, want %q", id, lower)
	}
	if img := e.imageJSON(t, upper); img["id"] != lower {
		t.Fatalf("shown by the upper-case id: %v", img)
	}
	resp, body := e.do("owner", "PATCH", "/v2/images/"+upper, map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"},
		`[{"op":"add","path":"/k","value":"v"}]`)
	if resp.StatusCode != 200 {
		t.Fatalf("patch by the upper-case id: %d %s", resp.StatusCode, body)
	}
	resp, body = e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"},
		`{"id":"`+lower+`","name":"c2","disk_format":"raw","container_format":"bare"}`)
	if resp.StatusCode != 409 {
		t.Fatalf("second create with the same id in another case: %d %s", resp.StatusCode, body)
	}
	for _, q := range []string{"id=" + upper, "id=in:" + upper + ",x"} {
		resp, body := e.do("owner", "GET", "/v2/images?"+q, nil, "")
		if resp.StatusCode != 200 || !strings.Contains(body, `"id": "`+lower+`"`) && !strings.Contains(body, `"id":"`+lower+`"`) {
			t.Fatalf("list %s: %d %s", q, resp.StatusCode, body)
		}
	}
}
