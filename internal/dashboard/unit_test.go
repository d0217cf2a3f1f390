package dashboard

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestImagePatch(t *testing.T) {
	var img imageView
	if err := json.Unmarshal([]byte(`{"id": "i", "name": "a", "status": "active", "visibility": "private", "protected": false,
		"min_disk": 1, "min_ram": 0, "disk_format": "raw", "container_format": "bare", "size": null,
		"description": "d", "keep": "k", "gone": "g", "a/b~c": "x", "os_glance_import_task": "t", "tags": ["x"]}`), &img); err != nil {
		t.Fatal(err)
	}
	if img.Size != nil || img.Properties["keep"] != "k" || img.Properties["os_glance_import_task"] != "t" || img.Properties["tags"] != "" {
		t.Fatalf("decoded: %+v", img)
	}
	f := imageForm{Name: "b", Visibility: "shared", Protected: true, MinDisk: "1", MinRAM: "512", DiskFormat: "qcow2", Tags: "x",
		Description: "", Properties: []property{{"keep", "k"}, {"a/b~c", "y"}, {"new", "n"}}}
	var got []string
	for _, op := range imagePatch(&img, f) {
		b, _ := json.Marshal(op.ToImagePatchMap())
		got = append(got, string(b))
	}
	want := []string{
		`{"op":"replace","path":"/name","value":"b"}`,
		`{"op":"replace","path":"/visibility","value":"shared"}`,
		`{"op":"replace","path":"/protected","value":true}`,
		`{"op":"replace","path":"/min_ram","value":512}`,
		// disk_format only changes while queued.
		`{"op":"remove","path":"/description"}`,
		`{"op":"remove","path":"/gone"}`,
		// os_glance_* belongs to the service and is never touched.
		`{"op":"replace","path":"/a~1b~0c","value":"y"}`,
		`{"op":"add","path":"/new","value":"n"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("patch:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ops := imagePatch(&img, formFromImage(&img)); len(ops) != 0 {
		t.Fatalf("an unchanged form patches: %+v", ops)
	}
}

func TestListingQuery(t *testing.T) {
	l := parseListing("project", url.Values{"sort": {"name"}, "limit": {"50"}, "marker": {"abc-1"}, "name": {"in:x"},
		"status": {"nonsense"}, "owner": {"ignored"}})
	q := l.apiQuery("p1")
	if q.Get("sort") != "name:asc,created_at:asc,id:asc" || q.Get("limit") != "51" || q.Get("marker") != "abc-1" ||
		q.Get("owner") != "p1" || q.Get("visibility") != "all" || q.Get("glint_name_prefix") != "in:x" || q.Has("name") || q.Has("status") {
		t.Fatalf("query: %v", q)
	}
	// Going back reverses every key.
	l.Marker, l.Before = "", "abc-1"
	if q := l.apiQuery("p1"); q.Get("sort") != "name:desc,created_at:desc,id:desc" || q.Get("marker") != "abc-1" {
		t.Fatalf("backwards: %v", q)
	}
	if got := parseListing("project", url.Values{"marker": {"x' OR 1=1"}}).Marker; got != "" {
		t.Fatalf("marker %q kept", got)
	}
	s := parseListing("project", url.Values{"tab": {"shared"}, "member": {"pending"}}).apiQuery("p1")
	if s.Get("visibility") != "shared" || s.Get("member_status") != "pending" || s.Has("owner") {
		t.Fatalf("shared tab: %v", s)
	}
	a := parseListing("admin", url.Values{"owner": {"p2"}, "type": {"snapshot"}}).apiQuery("p1")
	if a.Get("owner") != "p2" || a.Get("image_type") != "snapshot" || a.Get("visibility") != "all" {
		t.Fatalf("admin: %v", a)
	}
	if u := parseListing("project", url.Values{"sort": {"size"}}).SortURL("size"); u != "/dashboard/project/images?dir=asc&sort=size" {
		t.Fatalf("sort URL %q", u)
	}
}

func TestSealer(t *testing.T) {
	s, err := newSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.seal(sessionCookie, session{CSRF: "c", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	var out session
	if err := s.open(sessionCookie, v, &out); err != nil || out.Token != "t" {
		t.Fatalf("open: %v %+v", err, out)
	}
	// The cookie name is bound in: one cookie cannot pose as the other.
	if err := s.open(preCookie, v, &out); err == nil {
		t.Fatal("a session cookie opened as the sign-in cookie")
	}
	other, _ := newSealer([]byte("fedcba9876543210fedcba9876543210"))
	if err := other.open(sessionCookie, v, &out); err == nil {
		t.Fatal("another key opened the cookie")
	}
	if _, err := newSealer([]byte("short")); err == nil {
		t.Fatal("a short key was accepted")
	}
}
