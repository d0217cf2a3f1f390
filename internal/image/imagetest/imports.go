package imagetest

import (
	"testing"

	"github.com/glint-image/glint/internal/image"
)

func testLockImport(t *testing.T, s image.Store) {
	create(t, s, newImage("a"), newImage("gone"))
	if _, err := s.DeleteImage(t.Context(), "gone", at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.LockImport(t.Context(), "a", "task-1", at(2)); err != nil {
		t.Fatalf("LockImport: %v", err)
	}
	want := newImage("a")
	want.Properties = map[string]string{image.ImportLock: "task-1"}
	want.UpdatedAt = at(2)
	checkImage(t, "after LockImport", get(t, s, "a"), want)
	wantErr(t, "LockImport(locked)", s.LockImport(t.Context(), "a", "task-2", at(3)), image.ErrConflict)
	checkImage(t, "after refused LockImport", get(t, s, "a"), want)
	wantErr(t, "LockImport(missing)", s.LockImport(t.Context(), "missing", "t", at(3)), image.ErrNotFound)
	wantErr(t, "LockImport(deleted)", s.LockImport(t.Context(), "gone", "t", at(3)), image.ErrNotFound)

	// The same instant again still moves updated_at: PATCHes are
	// conditional on it.
	if err := s.UpdateImport(t.Context(), "a", "task-1", image.ImportUpdate{DelProps: []string{image.ImportLock}}, at(2)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "a"); !got.UpdatedAt.After(at(2)) || len(got.Properties) != 0 {
		t.Errorf("unlock at the same instant: updated_at %v, properties %v", got.UpdatedAt, got.Properties)
	}
}

func testUpdateImport(t *testing.T, s image.Store) {
	a := newImage("a")
	a.Status, a.Properties = image.StatusUploading, map[string]string{"keep": "1", "os_glance_stage_host": "node-1"}
	create(t, s, a, newImage("gone"))
	if _, err := s.DeleteImage(t.Context(), "gone", at(1)); err != nil {
		t.Fatal(err)
	}
	if err := s.LockImport(t.Context(), "a", "task-1", at(2)); err != nil {
		t.Fatal(err)
	}
	step := image.ImportUpdate{IfStatus: []image.Status{image.StatusUploading}, Status: image.StatusImporting,
		SetProps: map[string]string{"os_glance_importing_to_stores": "s1,s2", "os_glance_failed_import": ""},
		DelProps: []string{"os_glance_stage_host", "os_glance_failed_import"}}
	wantErr(t, "UpdateImport(other task)", s.UpdateImport(t.Context(), "a", "task-2", step, at(3)), image.ErrConflict)
	wantErr(t, "UpdateImport(wrong status)", s.UpdateImport(t.Context(), "a", "task-1",
		image.ImportUpdate{IfStatus: []image.Status{image.StatusQueued}, Status: image.StatusImporting}, at(3)), image.ErrConflict)
	if err := s.UpdateImport(t.Context(), "a", "task-1", step, at(4)); err != nil {
		t.Fatalf("UpdateImport: %v", err)
	}
	want := newImage("a")
	want.Status, want.UpdatedAt = image.StatusImporting, at(4)
	want.Properties = map[string]string{"keep": "1", image.ImportLock: "task-1", "os_glance_importing_to_stores": "s1,s2", "os_glance_failed_import": ""}
	checkImage(t, "importing", get(t, s, "a"), want)

	// Data into the first store, then a second location; a location
	// added twice is kept once.
	raw, bare := "raw", "bare"
	data := image.ImportUpdate{IfStatus: []image.Status{image.StatusImporting}, Size: ptr(int64(10)), VirtualSize: ptr(int64(1 << 30)),
		Checksum: "md5", HashAlgo: "sha512", HashValue: "sha", DiskFormat: &raw, ContainerFormat: &bare,
		AddLocations: []string{"s1:a"}}
	if err := s.UpdateImport(t.Context(), "a", "task-1", data, at(5)); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateImport(t.Context(), "a", "task-1", image.ImportUpdate{Status: image.StatusActive,
		AddLocations: []string{"s2:a", "s1:a"}}, at(6)); err != nil {
		t.Fatal(err)
	}
	want.Status, want.UpdatedAt, want.Size, want.VirtualSize = image.StatusActive, at(6), ptr(int64(10)), ptr(int64(1<<30))
	want.Checksum, want.HashAlgo, want.HashValue, want.DiskFormat, want.ContainerFormat = "md5", "sha512", "sha", &raw, &bare
	want.Location = "s1:a,s2:a"
	checkImage(t, "active in two stores", get(t, s, "a"), want)
	if got := get(t, s, "a").StoreIDs(); len(got) != 2 || got[0] != "s1" || got[1] != "s2" {
		t.Errorf("StoreIDs = %v", got)
	}
	if err := s.UpdateImport(t.Context(), "a", "", image.ImportUpdate{RemoveLocations: []string{"s1:a"}}, at(7)); err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "a").Location; got != "s2:a" {
		t.Errorf("after RemoveLocations: %q", got)
	}
	// SetLocations replaces the list while it is still IfLocation; a
	// list changed meanwhile is a conflict and stays.
	set := image.ImportUpdate{SetLocations: []string{"web:u1?e30", "s2:a"}, IfLocation: "s2:a"}
	if err := s.UpdateImport(t.Context(), "a", "", set, at(7)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SetLocations on a changed list", s.UpdateImport(t.Context(), "a", "", set, at(7)), image.ErrConflict)
	if got := get(t, s, "a").Location; got != "web:u1?e30,s2:a" {
		t.Errorf("after SetLocations: %q", got)
	}
	if err := s.UpdateImport(t.Context(), "a", "", image.ImportUpdate{SetLocations: []string{"s2:a"}, IfLocation: "web:u1?e30,s2:a"}, at(7)); err != nil {
		t.Fatal(err)
	}

	// Back to queued: the data goes, whatever else the step says.
	if err := s.UpdateImport(t.Context(), "a", "task-1", image.ImportUpdate{Status: image.StatusQueued, AddLocations: []string{"s3:a"},
		DelProps: []string{image.ImportLock}}, at(8)); err != nil {
		t.Fatal(err)
	}
	got := get(t, s, "a")
	if got.Status != image.StatusQueued || got.Size != nil || got.VirtualSize != nil || got.Checksum != "" || got.HashValue != "" ||
		got.Location != "" || got.Properties[image.ImportLock] != "" || got.Properties["keep"] != "1" {
		t.Errorf("after revert to queued: %+v", got)
	}
	wantErr(t, "UpdateImport(missing)", s.UpdateImport(t.Context(), "missing", "", image.ImportUpdate{}, at(9)), image.ErrNotFound)
	wantErr(t, "UpdateImport(deleted)", s.UpdateImport(t.Context(), "gone", "", image.ImportUpdate{}, at(9)), image.ErrNotFound)
}

func testImports(t *testing.T, s image.Store) {
	img := func(id string, st image.Status, created int) *image.Image {
		i := newImage(id)
		i.Status, i.CreatedAt = st, at(created)
		return i
	}
	copying := img("copying", image.StatusActive, 5)
	copying.Properties = map[string]string{image.ImportLock: "task"}
	create(t, s, img("u2", image.StatusUploading, 2), img("u1", image.StatusUploading, 1), img("i", image.StatusImporting, 3),
		img("q", image.StatusQueued, 0), img("a", image.StatusActive, 0), img("gone", image.StatusImporting, 4), copying)
	if _, err := s.DeleteImage(t.Context(), "gone", at(5)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Imports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	checkOrder(t, "Imports", got, "u1", "u2", "i", "copying")
}
