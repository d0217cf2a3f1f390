package api

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// appendValue must write what encoding/json writes for the same values,
// since clients have only ever seen the latter.
func TestAppendValueMatchesEncodingJSON(t *testing.T) {
	strs := []string{"", "plain", `quo"te`, `back\\slash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff\xfe utf8 \xe2\x82", "\u00a0"}
	n := int64(42)
	s := "x"
	values := []any{nil, true, false, 0, -7, int64(1 << 40), &n, (*int64)(nil), &s, (*string)(nil),
		image.StatusActive, image.VisibilityShared, image.MemberPending, []string{}, []string(nil),
		[]string{"a", "<b>"}, map[string]int{"k": 1}, 1.5}
	for _, v := range strs {
		values = append(values, v)
	}
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%#v: got %s, encoding/json writes %s", v, got, want)
		}
	}
	o := newObject().add("b", "1").add("a", []*object{newObject().add("x<", &n)}).add("b", "2")
	got, err := appendValue(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"b":"2","a":[{"x\u003c":42}]}`; string(got) != want {
		t.Errorf("object: got %s, want %s", got, want)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\xff", "\u2028<>&", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}

// imageDoc writes what the general encoder writes for the same record
// built field by field, in Glance's order.
func TestImageDocMatchesObjectEncoding(t *testing.T) {
	name, disk, owner := "<b>name</b>", "qcow2", "proj"
	size := int64(1234)
	now := time.Date(2026, 12, 1, 10, 11, 12, 999, time.UTC)
	imgs := []*image.Image{
		{ID: "d5b0b7c6-0b61-4c59-9f5b-1f6c1a7c6b2e", Status: image.StatusQueued, Visibility: image.VisibilityShared,
			CreatedAt: now, UpdatedAt: now, Tags: []string{}},
		{ID: "0c6a5f1e-8f0e-4a57-9b1e-77b2b6f7e0a1", Name: &name, DiskFormat: &disk, Owner: &owner, Size: &size,
			Status: image.StatusActive, Visibility: image.VisibilityPublic, Protected: true, Hidden: true,
			MinDisk: 3, MinRAM: 512, Checksum: "abc", HashAlgo: "sha512", HashValue: "def",
			CreatedAt: now, UpdatedAt: now.Add(time.Hour), Tags: []string{"a&b", "z"},
			Properties: map[string]string{"zeta": "1", "alpha": "\u2028x\"", "os_glance_stage_host": "hidden"}},
	}
	for _, img := range imgs {
		want := newObject()
		for _, k := range []string{"alpha", "zeta"} {
			if v, ok := img.Properties[k]; ok {
				want.add(k, v)
			}
		}
		want.add("name", img.Name).add("disk_format", img.DiskFormat).add("container_format", img.ContainerFormat).
			add("visibility", img.Visibility).add("size", img.Size).add("virtual_size", img.VirtualSize).
			add("status", img.Status).add("checksum", nullable(img.Checksum)).add("protected", img.Protected).
			add("min_ram", img.MinRAM).add("min_disk", img.MinDisk).add("owner", img.Owner).add("os_hidden", img.Hidden).
			add("os_hash_algo", nullable(img.HashAlgo)).add("os_hash_value", nullable(img.HashValue)).add("id", img.ID).
			add("created_at", timestamp(img.CreatedAt)).add("updated_at", timestamp(img.UpdatedAt)).add("tags", img.Tags).
			add("self", "/v2/images/"+img.ID).add("file", "/v2/images/"+img.ID+"/file").add("schema", "/v2/schemas/image")
		wantJSON, err := want.appendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		got := imageDoc{img: img}.appendJSON(nil)
		if string(got) != string(wantJSON) {
			t.Errorf("image %s:\n got %s\nwant %s", img.ID, got, wantJSON)
		}
	}
}
