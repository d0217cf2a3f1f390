package imagetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// seedSort creates s1..s4 with distinct values for every sort key, and
// nulls in s3, so each key alone gives a known order. Ids are chosen so id
// order differs from creation order.
func seedSort(t *testing.T, s image.Store) {
	img := func(id string, name *string, st image.Status, cont, disk *string, size *int64, created, updated int) *image.Image {
		return &image.Image{ID: id, Name: name, Status: st, Visibility: image.VisibilityPublic,
			ContainerFormat: cont, DiskFormat: disk, Size: size, CreatedAt: at(created), UpdatedAt: at(updated)}
	}
	create(t, s,
		img("id-c", ptr("bravo"), image.StatusActive, ptr("bare"), ptr("qcow2"), ptr(int64(300)), 1, 40),
		img("id-a", ptr("alpha"), image.StatusQueued, ptr("ovf"), ptr("raw"), ptr(int64(100)), 2, 30),
		img("id-d", nil, image.StatusSaving, nil, nil, nil, 3, 20),
		img("id-b", ptr("charlie"), image.StatusDeactivated, ptr("docker"), ptr("iso"), ptr(int64(200)), 4, 10),
	)
}

func testListSortKeys(t *testing.T, s image.Store) {
	seedSort(t, s)
	// Ascending order per key; descending is its reverse. Nulls sort lowest.
	ascending := map[string][]string{
		"name":             {"id-d", "id-a", "id-c", "id-b"},
		"status":           {"id-c", "id-b", "id-a", "id-d"},
		"container_format": {"id-d", "id-c", "id-b", "id-a"},
		"disk_format":      {"id-d", "id-b", "id-c", "id-a"},
		"size":             {"id-d", "id-a", "id-b", "id-c"},
		"id":               {"id-a", "id-b", "id-c", "id-d"},
		"created_at":       {"id-c", "id-a", "id-d", "id-b"},
		"updated_at":       {"id-b", "id-d", "id-a", "id-c"},
	}
	for _, key := range image.SortKeys {
		want := ascending[key]
		if want == nil {
			t.Fatalf("suite has no expected order for sort key %s", key)
		}
		for _, desc := range []bool{false, true} {
			q := everything()
			q.Sort = []image.SortKey{{Key: key, Desc: desc}}
			w := slices.Clone(want)
			if desc {
				slices.Reverse(w)
			}
			t.Run(fmt.Sprintf("%s desc=%v", key, desc), func(t *testing.T) {
				checkOrder(t, "ListImages", list(t, s, q), w...)
			})
		}
	}
	t.Run("default is created_at desc", func(t *testing.T) {
		checkOrder(t, "ListImages", list(t, s, everything()), "id-b", "id-d", "id-a", "id-c")
	})
}

func testListTieBreakers(t *testing.T, s image.Store) {
	img := func(id string, created int) *image.Image {
		i := newImage(id)
		i.Name, i.CreatedAt = ptr("same"), at(created)
		return i
	}
	create(t, s, img("id-2", 0), img("id-1", 0), img("id-3", 0), img("id-0", -1))
	tests := []struct {
		name string
		sort []image.SortKey
		want []string
	}{
		{"default: created_at desc, id desc", nil, []string{"id-3", "id-2", "id-1", "id-0"}},
		{"name asc: then created_at asc, id asc", []image.SortKey{{Key: "name"}}, []string{"id-0", "id-1", "id-2", "id-3"}},
		{"name desc: then created_at desc, id desc", []image.SortKey{{Key: "name", Desc: true}}, []string{"id-3", "id-2", "id-1", "id-0"}},
		{"created_at asc: then id asc", []image.SortKey{{Key: "created_at"}}, []string{"id-0", "id-1", "id-2", "id-3"}},
		{"id asc", []image.SortKey{{Key: "id"}}, []string{"id-0", "id-1", "id-2", "id-3"}},
		{"last key sets tie-break direction (asc)", []image.SortKey{{Key: "created_at", Desc: true}, {Key: "name"}}, []string{"id-1", "id-2", "id-3", "id-0"}},
		{"last key sets tie-break direction (desc)", []image.SortKey{{Key: "name"}, {Key: "created_at", Desc: true}}, []string{"id-3", "id-2", "id-1", "id-0"}},
	}
	for _, tc := range tests {
		q := everything()
		q.Sort = tc.sort
		t.Run(tc.name, func(t *testing.T) { checkOrder(t, "ListImages", list(t, s, q), tc.want...) })
	}
}

// seedPages creates 12 images whose values repeat a lot, so most sort keys
// tie and only the appended created_at and id tie-breakers order them.
// Ids are a permutation of creation order.
func seedPages(t *testing.T, s image.Store) []*image.Image {
	names := []*string{nil, ptr("a"), ptr("b")}
	sizes := []*int64{nil, ptr(int64(1)), ptr(int64(2))}
	statuses := []image.Status{image.StatusActive, image.StatusQueued}
	var imgs []*image.Image
	for i := range 12 {
		img := newImage(fmt.Sprintf("pg%02d", (i*5)%12+1))
		img.Name, img.Size, img.Status = names[i%3], sizes[(i/2)%3], statuses[i%2]
		img.Visibility = image.VisibilityPublic
		img.DiskFormat, img.ContainerFormat = ptr("raw"), ptr("bare")
		if i%4 == 0 {
			img.DiskFormat = nil
		}
		if i%5 == 0 {
			img.ContainerFormat = nil
		}
		img.CreatedAt, img.UpdatedAt = at(i/4), at(i%3)
		imgs = append(imgs, img)
	}
	create(t, s, imgs...)
	return imgs
}

func testListPagination(t *testing.T, s image.Store) {
	imgs := seedPages(t, s)
	sorts := [][]image.SortKey{
		nil,
		{{Key: "name"}},
		{{Key: "name", Desc: true}},
		{{Key: "size"}, {Key: "name", Desc: true}},
		{{Key: "status"}, {Key: "size", Desc: true}, {Key: "name"}},
		{{Key: "disk_format", Desc: true}, {Key: "container_format"}},
		{{Key: "created_at"}},
		{{Key: "updated_at", Desc: true}, {Key: "id"}},
		{{Key: "updated_at"}, {Key: "status", Desc: true}},
		{{Key: "id", Desc: true}},
	}
	for _, sort := range sorts {
		want := ids(expectedOrder(imgs, sort))
		q := everything()
		q.Sort = sort
		t.Run(fmt.Sprintf("sort %v", sort), func(t *testing.T) {
			checkOrder(t, "one page", list(t, s, q), want...)
			for _, limit := range []int{1, 2, 3} {
				checkOrder(t, fmt.Sprintf("pages of %d", limit), walkPages(t, s, q, limit), want...)
			}
		})
	}
}

// walkPages lists q page by page, each page starting after the last id of
// the one before, until a short page.
func walkPages(t *testing.T, s image.Store, q image.ListQuery, limit int) []*image.Image {
	t.Helper()
	var all []*image.Image
	q.Limit, q.Marker = limit, ""
	for range 100 {
		page := list(t, s, q)
		if len(page) > limit {
			t.Fatalf("page of %d images with limit %d", len(page), limit)
		}
		all = append(all, page...)
		if len(page) < limit {
			return all
		}
		q.Marker = page[len(page)-1].ID
	}
	t.Fatal("pagination did not end after 100 pages")
	return nil
}

// expectedOrder sorts imgs as the contract says: by the given keys, then
// created_at and id in the direction of the last key (desc when none),
// nulls lowest.
func expectedOrder(imgs []*image.Image, keys []image.SortKey) []*image.Image {
	full := slices.Clone(keys)
	desc := true
	if len(keys) > 0 {
		desc = keys[len(keys)-1].Desc
	}
	for _, k := range []string{"created_at", "id"} {
		if !slices.ContainsFunc(keys, func(sk image.SortKey) bool { return sk.Key == k }) {
			full = append(full, image.SortKey{Key: k, Desc: desc})
		}
	}
	out := slices.Clone(imgs)
	slices.SortFunc(out, func(a, b *image.Image) int {
		for _, k := range full {
			c := compareOn(a, b, k.Key)
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	return out
}

func compareOn(a, b *image.Image, key string) int {
	switch key {
	case "name":
		return cmpNullable(a.Name, b.Name)
	case "status":
		return strings.Compare(string(a.Status), string(b.Status))
	case "container_format":
		return cmpNullable(a.ContainerFormat, b.ContainerFormat)
	case "disk_format":
		return cmpNullable(a.DiskFormat, b.DiskFormat)
	case "size":
		return cmpNullable(a.Size, b.Size)
	case "id":
		return strings.Compare(a.ID, b.ID)
	case "created_at":
		return a.CreatedAt.Compare(b.CreatedAt)
	case "updated_at":
		return a.UpdatedAt.Compare(b.UpdatedAt)
	}
	panic("imagetest: no comparison for sort key " + key)
}

// cmpNullable orders nil before any value.
func cmpNullable[T cmp.Ordered](a, b *T) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return cmp.Compare(*a, *b)
}

func testListMarkerAndLimit(t *testing.T, s image.Store) {
	img := func(id string, created int, st image.Status) *image.Image {
		i := newImage(id)
		i.CreatedAt, i.Status = at(created), st
		return i
	}
	// killed sits between m2 and m3; it is never listed but it exists, so
	// it still works as a marker.
	create(t, s, img("m1", 1, image.StatusActive), img("m2", 2, image.StatusActive),
		img("killed", 3, image.StatusKilled), img("m3", 4, image.StatusActive),
		img("gone", 5, image.StatusActive))
	if _, err := s.DeleteImage(t.Context(), "gone", at(6)); err != nil {
		t.Fatal(err)
	}
	page := func(marker string, limit int) image.ListQuery {
		q := everything()
		q.Marker, q.Limit = marker, limit
		return q
	}
	checkOrder(t, "limit 2", list(t, s, page("", 2)), "m3", "m2")
	checkOrder(t, "after m2", list(t, s, page("m2", 2)), "m1")
	checkOrder(t, "after m1", list(t, s, page("m1", 2)))
	checkOrder(t, "after killed", list(t, s, page("killed", 5)), "m2", "m1")
	checkOrder(t, "limit 0", list(t, s, page("", 0)))

	_, err := s.ListImages(t.Context(), page("nope", 2))
	wantErr(t, "unknown marker", err, image.ErrNotFound)
	_, err = s.ListImages(t.Context(), page("gone", 2))
	wantErr(t, "deleted marker", err, image.ErrNotFound)
}
