// Package imagetest is the conformance suite for image.Store. Each
// implementation's test calls Run with a constructor for an empty store, so
// every backend is held to the same contract:
//
//	func TestStore(t *testing.T) {
//		imagetest.Run(t, func(t *testing.T) image.Store {
//			s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Besides what the image.Store doc comments state, the suite pins down a
// few choices they leave open; they are noted where they are tested.
package imagetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// Run runs the whole suite. newStore must return a new, empty store and
// arrange for it to be closed when t ends (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) image.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s image.Store)
	}{
		{"CreateGet", testCreateGet},
		{"CreateDuplicate", testCreateDuplicate},
		{"GetMissing", testGetMissing},
		{"SaveImage", testSaveImage},
		{"SaveImageConflict", testSaveImageConflict},
		{"SetStatus", testSetStatus},
		{"SetStatusConcurrent", testSetStatusConcurrent},
		{"FinishUpload", testFinishUpload},
		{"DeleteImage", testDeleteImage},
		{"Tags", testTags},
		{"Members", testMembers},
		{"Recovery", testRecovery},
		{"ListVisibility", testListVisibility},
		{"ListFlags", testListFlags},
		{"ListFilters", testListFilters},
		{"ListFilterErrors", testListFilterErrors},
		{"ListPrefix", testListPrefix},
		{"CountImages", testCountImages},
		{"ListPropertiesTags", testListPropertiesTags},
		{"ListSortKeys", testListSortKeys},
		{"ListTieBreakers", testListTieBreakers},
		{"ListPagination", testListPagination},
		{"ListSharedSort", testListSharedSort},
		{"ListMarkerAndLimit", testListMarkerAndLimit},
		{"Quotas", testQuotas},
		{"LockImport", testLockImport},
		{"UpdateImport", testUpdateImport},
		{"Imports", testImports},
		{"PutImage", testPutImage},
		{"SharedData", testSharedData},
		{"SharedDataConflict", testSharedDataConflict},
		{"ImportShared", testImportShared},
		{"SharedDataRace", testSharedDataRace},
		{"Partials", testPartials},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// base is the suite's clock. It has microseconds, the precision every
// store must keep.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

// at returns base plus sec seconds.
func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

// newImage returns a minimal queued image owned by project "owner".
func newImage(id string) *image.Image {
	return &image.Image{
		ID:         id,
		Name:       ptr("image " + id),
		Status:     image.StatusQueued,
		Visibility: image.VisibilityShared,
		Owner:      ptr("owner"),
		CreatedAt:  base,
		UpdatedAt:  base,
	}
}

func create(t *testing.T, s image.Store, imgs ...*image.Image) {
	t.Helper()
	for _, img := range imgs {
		if err := s.CreateImage(t.Context(), img); err != nil {
			t.Fatalf("CreateImage(%s): %v", img.ID, err)
		}
	}
}

func get(t *testing.T, s image.Store, id string) *image.Image {
	t.Helper()
	img, err := s.GetImage(t.Context(), id)
	if err != nil {
		t.Fatalf("GetImage(%s): %v", id, err)
	}
	if img == nil {
		t.Fatalf("GetImage(%s) returned nil, nil", id)
	}
	return img
}

// describe renders every field of img as text, so two images compare as
// two maps and a mismatch names the field. Tags compare as a set and nil
// and empty collections are the same: the contract leaves both open.
func describe(img *image.Image) map[string]string {
	str := func(p *string) string {
		if p == nil {
			return "<nil>"
		}
		return fmt.Sprintf("%q", *p)
	}
	num := func(p *int64) string {
		if p == nil {
			return "<nil>"
		}
		return fmt.Sprint(*p)
	}
	tm := func(t time.Time) string { return t.Format(time.RFC3339Nano) + " " + t.Location().String() }
	deleted := "<nil>"
	if img.DeletedAt != nil {
		deleted = tm(*img.DeletedAt)
	}
	var props []string
	for _, k := range slices.Sorted(maps.Keys(img.Properties)) {
		props = append(props, k+"="+img.Properties[k])
	}
	tags := slices.Clone(img.Tags)
	slices.Sort(tags)
	return map[string]string{
		"ID": img.ID, "Name": str(img.Name), "Status": string(img.Status),
		"Visibility": string(img.Visibility), "Protected": fmt.Sprint(img.Protected),
		"Hidden": fmt.Sprint(img.Hidden), "MinDisk": fmt.Sprint(img.MinDisk),
		"MinRAM": fmt.Sprint(img.MinRAM), "DiskFormat": str(img.DiskFormat),
		"ContainerFormat": str(img.ContainerFormat), "Owner": str(img.Owner),
		"Size": num(img.Size), "VirtualSize": num(img.VirtualSize), "Checksum": img.Checksum,
		"HashAlgo": img.HashAlgo, "HashValue": img.HashValue, "Location": img.Location,
		"CreatedAt": tm(img.CreatedAt), "UpdatedAt": tm(img.UpdatedAt), "DeletedAt": deleted,
		"Tags": fmt.Sprintf("%q", tags), "Properties": fmt.Sprintf("%q", props),
	}
}

// checkImage reports every field where got differs from want.
func checkImage(t *testing.T, label string, got, want *image.Image) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil image, want %s", label, want.ID)
		return
	}
	g, w := describe(got), describe(want)
	for _, k := range slices.Sorted(maps.Keys(w)) {
		if g[k] != w[k] {
			t.Errorf("%s: %s = %s, want %s", label, k, g[k], w[k])
		}
	}
}

// wantErr checks that err is of the given domain kind.
func wantErr(t *testing.T, label string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: err = %v, want %v", label, err, kind)
	}
}

func ids(imgs []*image.Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.ID
	}
	return out
}

// list runs ListImages and fails the test on error.
func list(t *testing.T, s image.Store, q image.ListQuery) []*image.Image {
	t.Helper()
	imgs, err := s.ListImages(t.Context(), q)
	if err != nil {
		t.Fatalf("ListImages(%+v): %v", q, err)
	}
	return imgs
}

// checkOrder compares the ids of a listing with want, in order.
func checkOrder(t *testing.T, label string, got []*image.Image, want ...string) {
	t.Helper()
	if g := ids(got); !slices.Equal(g, want) {
		t.Errorf("%s: got %s, want %s", label, strings.Join(g, ","), strings.Join(want, ","))
	}
}

// checkSet compares the ids of a listing with want, in any order.
func checkSet(t *testing.T, label string, got []*image.Image, want ...string) {
	t.Helper()
	g, w := ids(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("%s: got {%s}, want {%s}", label, strings.Join(g, ","), strings.Join(w, ","))
	}
}

// everything is a listing query that any visible image passes: admin, all
// visibilities, a limit above any fixture.
func everything() image.ListQuery {
	return image.ListQuery{Caller: image.Scope{Admin: true}, Visibility: "all", Limit: 1000}
}
