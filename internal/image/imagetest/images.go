package imagetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// fullImage sets every field, with a distinct value where it can.
func fullImage(id string) *image.Image {
	return &image.Image{
		ID:              id,
		Name:            ptr("cirros"),
		Status:          image.StatusActive,
		Visibility:      image.VisibilityPublic,
		Protected:       true,
		Hidden:          true,
		MinDisk:         10,
		MinRAM:          512,
		DiskFormat:      ptr("qcow2"),
		ContainerFormat: ptr("bare"),
		Owner:           ptr("owner"),
		Size:            ptr(int64(1234)),
		VirtualSize:     ptr(int64(5678)),
		Checksum:        "d41d8cd98f00b204e9800998ecf8427e",
		HashAlgo:        "sha512",
		HashValue:       "cf83e1357eefb8bd",
		CreatedAt:       base,
		UpdatedAt:       at(1).Add(time.Microsecond),
		Tags:            []string{"b", "a"},
		Properties:      map[string]string{"os_distro": "cirros", "empty": ""},
		Location:        "images/" + id,
	}
}

func testCreateGet(t *testing.T, s image.Store) {
	full := fullImage("full")
	// A minimal image: every nullable field null, no properties or tags.
	minimal := &image.Image{ID: "minimal", Status: image.StatusQueued,
		Visibility: image.VisibilityPrivate, CreatedAt: base, UpdatedAt: base}
	// Times given in another zone come back as the same instant in UTC.
	zone := time.FixedZone("UTC+2", 2*3600)
	zoned := newImage("zoned")
	zoned.CreatedAt, zoned.UpdatedAt = at(5).In(zone), at(6).In(zone)
	create(t, s, full, minimal, zoned)

	checkImage(t, "full", get(t, s, "full"), fullImage("full"))
	gotMin := get(t, s, "minimal")
	checkImage(t, "minimal", gotMin, minimal)
	if len(gotMin.Properties) != 0 || len(gotMin.Tags) != 0 {
		t.Errorf("minimal: properties %v tags %v, want none", gotMin.Properties, gotMin.Tags)
	}
	want := newImage("zoned")
	want.CreatedAt, want.UpdatedAt = at(5), at(6)
	checkImage(t, "zoned", get(t, s, "zoned"), want)
}

func testCreateDuplicate(t *testing.T, s image.Store) {
	create(t, s, newImage("a"))
	dup := fullImage("a")
	wantErr(t, "CreateImage(existing id)", s.CreateImage(t.Context(), dup), image.ErrDuplicate)
	checkImage(t, "after duplicate", get(t, s, "a"), newImage("a"))

	if _, err := s.DeleteImage(t.Context(), "a", at(1)); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "CreateImage(deleted id)", s.CreateImage(t.Context(), newImage("a")), image.ErrDuplicate)
}

func testGetMissing(t *testing.T, s image.Store) {
	img, err := s.GetImage(t.Context(), "nope")
	wantErr(t, "GetImage(missing)", err, image.ErrNotFound)
	if img != nil {
		t.Errorf("GetImage(missing) returned an image: %+v", img)
	}
}

func testSaveImage(t *testing.T, s image.Store) {
	orig := newImage("a")
	orig.Properties = map[string]string{"keep": "1", "drop": "2"}
	orig.Tags = []string{"x", "y"}
	create(t, s, orig)

	upd := newImage("a")
	upd.Name, upd.Visibility, upd.Protected, upd.Hidden = ptr("renamed"), image.VisibilityPrivate, true, true
	upd.MinDisk, upd.MinRAM = 3, 256
	upd.DiskFormat, upd.ContainerFormat, upd.Owner = ptr("raw"), ptr("ovf"), ptr("new-owner")
	upd.UpdatedAt = at(7)
	upd.Properties = map[string]string{"keep": "changed", "new": "3"}
	upd.Tags = []string{"y", "z"}
	// Fields a client may not change are ignored, whatever the caller sends.
	upd.Status, upd.Size, upd.Checksum, upd.Location = image.StatusActive, ptr(int64(9)), "c", "loc"
	upd.CreatedAt = at(99)
	if err := s.SaveImage(t.Context(), upd, image.StatusQueued, base); err != nil {
		t.Fatalf("SaveImage: %v", err)
	}
	want := newImage("a")
	want.Name, want.Visibility, want.Protected, want.Hidden = ptr("renamed"), image.VisibilityPrivate, true, true
	want.MinDisk, want.MinRAM = 3, 256
	want.DiskFormat, want.ContainerFormat, want.Owner = ptr("raw"), ptr("ovf"), ptr("new-owner")
	want.UpdatedAt = at(7)
	want.Properties = map[string]string{"keep": "changed", "new": "3"}
	want.Tags = []string{"y", "z"}
	checkImage(t, "after save", get(t, s, "a"), want)

	// Nil sets clear; nil pointers write nulls.
	upd2 := newImage("a")
	upd2.Name, upd2.DiskFormat, upd2.Owner = nil, nil, nil
	upd2.UpdatedAt = at(8)
	if err := s.SaveImage(t.Context(), upd2, image.StatusQueued, at(7)); err != nil {
		t.Fatalf("SaveImage(clear): %v", err)
	}
	want2 := newImage("a")
	want2.Name, want2.Owner, want2.UpdatedAt = nil, nil, at(8)
	checkImage(t, "after clearing save", get(t, s, "a"), want2)
}

func testSaveImageConflict(t *testing.T, s image.Store) {
	orig := newImage("a")
	orig.Properties = map[string]string{"k": "v"}
	orig.Tags = []string{"t"}
	create(t, s, orig)

	upd := newImage("a")
	upd.Name, upd.UpdatedAt = ptr("changed"), at(5)
	upd.Properties, upd.Tags = map[string]string{"other": "x"}, nil
	wantErr(t, "SaveImage(status moved)", s.SaveImage(t.Context(), upd, image.StatusActive, base), image.ErrConflict)
	checkImage(t, "after conflict", get(t, s, "a"), orig)
	// A save based on an older read loses to the write that came between:
	// the caller must read again (optimistic concurrency on updated_at).
	wantErr(t, "SaveImage(stale read)", s.SaveImage(t.Context(), upd, image.StatusQueued, at(-1)), image.ErrConflict)
	checkImage(t, "after stale save", get(t, s, "a"), orig)

	upd.ID = "missing"
	wantErr(t, "SaveImage(missing)", s.SaveImage(t.Context(), upd, image.StatusQueued, base), image.ErrNotFound)

	create(t, s, newImage("gone"))
	if _, err := s.DeleteImage(t.Context(), "gone", at(1)); err != nil {
		t.Fatal(err)
	}
	upd.ID = "gone"
	wantErr(t, "SaveImage(deleted)", s.SaveImage(t.Context(), upd, image.StatusDeleted, at(1)), image.ErrConflict)
}

func testSetStatus(t *testing.T, s image.Store) {
	create(t, s, newImage("a"))
	if err := s.SetStatus(t.Context(), "a", image.StatusQueued, image.StatusSaving, at(5)); err != nil {
		t.Fatalf("SetStatus(queued→saving): %v", err)
	}
	want := newImage("a")
	want.Status, want.UpdatedAt = image.StatusSaving, at(5)
	checkImage(t, "after SetStatus", get(t, s, "a"), want)

	err := s.SetStatus(t.Context(), "a", image.StatusQueued, image.StatusSaving, at(6))
	wantErr(t, "SetStatus(wrong from)", err, image.ErrConflict)
	checkImage(t, "after conflict", get(t, s, "a"), want)

	err = s.SetStatus(t.Context(), "missing", image.StatusQueued, image.StatusSaving, at(6))
	wantErr(t, "SetStatus(missing)", err, image.ErrNotFound)

	// Going back to queued forgets the data; other moves keep it.
	withData := func(id string, st image.Status) *image.Image {
		img := fullImage(id)
		img.Status = st
		return img
	}
	create(t, s, withData("back", image.StatusSaving), withData("keep", image.StatusActive))
	if err := s.SetStatus(t.Context(), "back", image.StatusSaving, image.StatusQueued, at(7)); err != nil {
		t.Fatalf("SetStatus(saving→queued): %v", err)
	}
	wantBack := withData("back", image.StatusQueued)
	wantBack.Size, wantBack.VirtualSize, wantBack.Location = nil, nil, ""
	wantBack.Checksum, wantBack.HashAlgo, wantBack.HashValue = "", "", ""
	wantBack.UpdatedAt = at(7)
	checkImage(t, "back to queued", get(t, s, "back"), wantBack)

	if err := s.SetStatus(t.Context(), "keep", image.StatusActive, image.StatusDeactivated, at(8)); err != nil {
		t.Fatalf("SetStatus(active→deactivated): %v", err)
	}
	wantKeep := withData("keep", image.StatusDeactivated)
	wantKeep.UpdatedAt = at(8)
	checkImage(t, "deactivated", get(t, s, "keep"), wantKeep)

	// A deleted image is a conflict even when from matches its status.
	if _, err := s.DeleteImage(t.Context(), "keep", at(9)); err != nil {
		t.Fatal(err)
	}
	err = s.SetStatus(t.Context(), "keep", image.StatusDeleted, image.StatusActive, at(10))
	wantErr(t, "SetStatus(deleted image)", err, image.ErrConflict)
	if got := get(t, s, "keep"); got.Status != image.StatusDeleted {
		t.Errorf("deleted image status = %s after failed SetStatus", got.Status)
	}
}

func testSetStatusConcurrent(t *testing.T, s image.Store) {
	create(t, s, newImage("a"))
	const n = 10
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.SetStatus(t.Context(), "a", image.StatusQueued, image.StatusSaving, at(i+1))
		})
	}
	wg.Wait()
	wins := 0
	for i, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, image.ErrConflict):
			t.Errorf("goroutine %d: err = %v, want nil or ErrConflict", i, err)
		}
	}
	if wins != 1 {
		t.Errorf("%d goroutines moved queued→saving, want exactly 1", wins)
	}
	if got := get(t, s, "a"); got.Status != image.StatusSaving {
		t.Errorf("status = %s, want saving", got.Status)
	}
}

func testFinishUpload(t *testing.T, s image.Store) {
	saving := newImage("a")
	saving.Status = image.StatusSaving
	saving.VirtualSize = ptr(int64(77))
	create(t, s, saving, newImage("queued"))

	r := image.UploadResult{Size: 42, Checksum: "md5sum", HashAlgo: "sha512", HashValue: "sha", Location: "images/a"}
	if err := s.FinishUpload(t.Context(), "a", r, at(3)); err != nil {
		t.Fatalf("FinishUpload: %v", err)
	}
	want := newImage("a")
	want.Status, want.Size, want.VirtualSize = image.StatusActive, ptr(int64(42)), ptr(int64(77))
	want.Checksum, want.HashAlgo, want.HashValue, want.Location = "md5sum", "sha512", "sha", "images/a"
	want.UpdatedAt = at(3)
	checkImage(t, "after FinishUpload", get(t, s, "a"), want)

	r2 := image.UploadResult{Size: 1, Checksum: "other", Location: "elsewhere"}
	wantErr(t, "FinishUpload(again)", s.FinishUpload(t.Context(), "a", r2, at(4)), image.ErrConflict)
	checkImage(t, "after second FinishUpload", get(t, s, "a"), want)
	wantErr(t, "FinishUpload(queued)", s.FinishUpload(t.Context(), "queued", r2, at(4)), image.ErrConflict)
	checkImage(t, "queued after FinishUpload", get(t, s, "queued"), newImage("queued"))
	wantErr(t, "FinishUpload(missing)", s.FinishUpload(t.Context(), "missing", r2, at(4)), image.ErrNotFound)

	// A virtual size found by the upload's format inspector is recorded.
	b := newImage("b")
	b.Status = image.StatusSaving
	create(t, s, b)
	rb := image.UploadResult{Size: 5, Checksum: "c", HashAlgo: "sha512", HashValue: "h", VirtualSize: ptr(int64(1 << 40)), Location: "images/b"}
	if err := s.FinishUpload(t.Context(), "b", rb, at(5)); err != nil {
		t.Fatalf("FinishUpload(b): %v", err)
	}
	if got := get(t, s, "b").VirtualSize; got == nil || *got != 1<<40 {
		t.Errorf("virtual size after FinishUpload = %v, want %d", got, int64(1<<40))
	}
}

func testDeleteImage(t *testing.T, s image.Store) {
	create(t, s, fullImage("a"), newImage("b"))
	prior, err := s.DeleteImage(t.Context(), "a", at(9))
	if err != nil {
		t.Fatalf("DeleteImage: %v", err)
	}
	checkImage(t, "returned prior", prior, fullImage("a"))

	got := get(t, s, "a")
	want := fullImage("a")
	want.Status, want.DeletedAt = image.StatusDeleted, ptr(at(9))
	want.UpdatedAt = got.UpdatedAt // the contract leaves updated_at on delete open
	checkImage(t, "after delete", got, want)
	if !got.IsDeleted() {
		t.Error("IsDeleted() = false after delete")
	}
	checkSet(t, "list after delete", list(t, s, everything()), "b")

	_, err = s.DeleteImage(t.Context(), "a", at(10))
	wantErr(t, "DeleteImage(twice)", err, image.ErrNotFound)
	_, err = s.DeleteImage(t.Context(), "missing", at(10))
	wantErr(t, "DeleteImage(missing)", err, image.ErrNotFound)
}

func testTags(t *testing.T, s image.Store) {
	create(t, s, newImage("a"), newImage("gone"))
	if _, err := s.DeleteImage(t.Context(), "gone", at(1)); err != nil {
		t.Fatal(err)
	}
	check := func(label string, updated time.Time, tags ...string) {
		t.Helper()
		want := newImage("a")
		want.Tags, want.UpdatedAt = tags, updated
		checkImage(t, label, get(t, s, "a"), want)
	}
	step := func(label string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
	}
	step("AddTag x", s.AddTag(t.Context(), "a", "x", at(2)))
	check("after AddTag x", at(2), "x")
	step("AddTag x again", s.AddTag(t.Context(), "a", "x", at(3)))
	check("after AddTag x again", at(3), "x")
	step("AddTag y", s.AddTag(t.Context(), "a", "y", at(4)))
	check("after AddTag y", at(4), "x", "y")
	step("RemoveTag x", s.RemoveTag(t.Context(), "a", "x", at(5)))
	check("after RemoveTag x", at(5), "y")

	wantErr(t, "RemoveTag(absent)", s.RemoveTag(t.Context(), "a", "x", at(6)), image.ErrNotFound)
	check("after failed RemoveTag", at(5), "y")
	wantErr(t, "AddTag(missing image)", s.AddTag(t.Context(), "missing", "x", at(6)), image.ErrNotFound)
	wantErr(t, "RemoveTag(missing image)", s.RemoveTag(t.Context(), "missing", "x", at(6)), image.ErrNotFound)
	wantErr(t, "AddTag(deleted image)", s.AddTag(t.Context(), "gone", "x", at(6)), image.ErrNotFound)
}

func testRecovery(t *testing.T, s image.Store) {
	img := func(id string, st image.Status, created int, location string) *image.Image {
		i := newImage(id)
		i.Status, i.CreatedAt, i.Location = st, at(created), location
		return i
	}
	create(t, s,
		img("queued", image.StatusQueued, 0, ""),
		img("saving1", image.StatusSaving, 2, ""),
		img("saving2", image.StatusSaving, 1, ""),
		img("saving-deleted", image.StatusSaving, 3, ""),
		img("active-deleted", image.StatusActive, 4, "images/active-deleted"),
		img("queued-deleted", image.StatusQueued, 5, ""),
		img("active", image.StatusActive, 6, "images/active"),
	)
	for _, id := range []string{"saving-deleted", "active-deleted", "queued-deleted"} {
		if _, err := s.DeleteImage(t.Context(), id, at(10)); err != nil {
			t.Fatal(err)
		}
	}
	stranded, err := s.Stranded(t.Context())
	if err != nil {
		t.Fatalf("Stranded: %v", err)
	}
	checkSet(t, "Stranded", stranded, "saving1", "saving2")

	withData, err := s.DeletedWithData(t.Context())
	if err != nil {
		t.Fatalf("DeletedWithData: %v", err)
	}
	checkSet(t, "DeletedWithData", withData, "active-deleted")
	if len(withData) == 1 && withData[0].Location != "images/active-deleted" {
		t.Errorf("DeletedWithData location = %q", withData[0].Location)
	}

	if err := s.ClearLocation(t.Context(), "active-deleted"); err != nil {
		t.Fatalf("ClearLocation: %v", err)
	}
	if loc := get(t, s, "active-deleted").Location; loc != "" {
		t.Errorf("location after ClearLocation = %q", loc)
	}
	withData, err = s.DeletedWithData(t.Context())
	if err != nil {
		t.Fatalf("DeletedWithData: %v", err)
	}
	checkSet(t, "DeletedWithData after ClearLocation", withData)
	wantErr(t, "ClearLocation(missing)", s.ClearLocation(t.Context(), "missing"), image.ErrNotFound)
}
