package imagetest

import (
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// testListPrefix: a name prefix selects the names that start with it,
// byte for byte (case counts), in either order shape, page by page.
func testListPrefix(t *testing.T, s image.Store) {
	names := map[string]string{"p1": "ubuntu-22.04", "p2": "ubuntu-24.04", "p3": "Ubuntu-upper", "p4": "ubuntu",
		"p5": "debian-12", "p6": "ubuntv", "p7": "ubuntu-24.04-minimal", "p8": "ubuntü"}
	i := 0
	for _, id := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8"} {
		img := newImage(id)
		img.Name = ptr(names[id])
		img.Visibility = image.VisibilityPublic
		img.CreatedAt, img.UpdatedAt = at(i), at(i)
		i++
		create(t, s, img)
	}
	unnamed := newImage("p9")
	unnamed.Name = nil
	create(t, s, unnamed)
	prefix := func(v string) []image.Filter {
		return []image.Filter{{Field: "name", Op: "prefix", Values: []string{v}}}
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"ubuntu", []string{"p1", "p2", "p4", "p7"}},
		{"ubuntu-24", []string{"p2", "p7"}},
		{"ubunt", []string{"p1", "p2", "p4", "p6", "p7", "p8"}},
		{"ubuntü", []string{"p8"}},
		{"Ubuntu", []string{"p3"}},
		{"zzz", nil},
		{"", []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}},
	} {
		q := everything()
		q.Filters = prefix(tc.prefix)
		checkSet(t, "prefix "+tc.prefix, list(t, s, q), tc.want...)
		q.Sort = []image.SortKey{{Key: "name"}}
		checkSet(t, "prefix "+tc.prefix+" by name", list(t, s, q), tc.want...)
		if n, err := s.CountImages(t.Context(), q, 100); err != nil || n != len(tc.want) {
			t.Errorf("CountImages prefix %q: %d, %v; want %d", tc.prefix, n, err, len(tc.want))
		}
	}
	// Pages by name, and newest first, with a marker.
	q := everything()
	q.Filters, q.Sort, q.Limit = prefix("ubuntu"), []image.SortKey{{Key: "name"}}, 2
	first := list(t, s, q)
	checkOrder(t, "first page by name", first, "p4", "p1")
	q.Marker = "p1"
	checkOrder(t, "second page by name", list(t, s, q), "p2", "p7")
	q = everything()
	q.Filters, q.Limit = prefix("ubuntu"), 3
	checkOrder(t, "newest first", list(t, s, q), "p7", "p4", "p2")
	q.Marker = "p2"
	checkOrder(t, "newest first, second page", list(t, s, q), "p1")
	// A substring: anywhere in the name, byte for byte.
	contains := func(v string) []image.Filter {
		return []image.Filter{{Field: "name", Op: "contains", Values: []string{v}}}
	}
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"24.04", []string{"p2", "p7"}},
		{"buntu", []string{"p1", "p2", "p3", "p4", "p7"}},
		{"minimal", []string{"p7"}},
		{"ü", []string{"p8"}},
		{"UBUNTU", nil},
		{"%", nil},
		{"_", nil},
		{"", []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}},
	} {
		q := everything()
		q.Filters = contains(tc.text)
		checkSet(t, "contains "+tc.text, list(t, s, q), tc.want...)
		q.Sort = []image.SortKey{{Key: "name", Desc: true}}
		checkSet(t, "contains "+tc.text+" by name", list(t, s, q), tc.want...)
		if n, err := s.CountImages(t.Context(), q, 100); err != nil || n != len(tc.want) {
			t.Errorf("CountImages contains %q: %d, %v; want %d", tc.text, n, err, len(tc.want))
		}
	}
	q = everything()
	q.Filters, q.Limit = contains("buntu"), 2
	checkOrder(t, "contains, newest first", list(t, s, q), "p7", "p4")
	q.Marker = "p4"
	checkOrder(t, "contains, second page", list(t, s, q), "p3", "p2")
	q = everything()
	q.Filters = append(contains("04"), image.Filter{Field: "name", Op: "prefix", Values: []string{"ubuntu-24"}})
	checkSet(t, "contains and prefix", list(t, s, q), "p2", "p7")

	// Only names take a prefix.
	q = everything()
	q.Filters = []image.Filter{{Field: "status", Op: "prefix", Values: []string{"act"}}}
	if _, err := s.ListImages(t.Context(), q); err == nil {
		t.Error("a prefix on status was accepted")
	}
}

// testCountImages: the count is what the listing holds, for the caller,
// and stops after max+1.
func testCountImages(t *testing.T, s image.Store) {
	for i, vis := range []image.Visibility{"public", "public", "private", "private", "shared", "community"} {
		img := newImage("c" + string(rune('0'+i)))
		img.Visibility = vis
		img.CreatedAt, img.UpdatedAt = at(i), at(i)
		create(t, s, img)
	}
	count := func(q image.ListQuery, max int) int {
		t.Helper()
		n, err := s.CountImages(t.Context(), q, max)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := count(everything(), 100); n != 6 {
		t.Errorf("everything: %d, want 6", n)
	}
	if n := count(everything(), 3); n != 4 {
		t.Errorf("everything, at most 3: %d, want 4 (max+1)", n)
	}
	stranger := image.ListQuery{Caller: image.Scope{Project: "stranger"}, MemberStatus: "accepted"}
	if n := count(stranger, 100); n != 2 {
		t.Errorf("a stranger's default listing: %d, want the 2 public images", n)
	}
	own := image.ListQuery{Caller: image.Scope{Project: "owner"}, Visibility: "all", MemberStatus: "accepted", Limit: 1000}
	if n := count(own, 100); n != len(list(t, s, own)) || n != 6 {
		t.Errorf("the owner's listing of all: %d, want 6", n)
	}
}
