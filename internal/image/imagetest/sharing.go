package imagetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// upload is the result of an upload of content (a name for some bytes)
// written to loc.
func upload(loc, content string, size int64) image.UploadResult {
	return image.UploadResult{Size: size, Checksum: "md5-" + content, HashAlgo: "sha512", HashValue: "sha512-" + content, Location: loc}
}

func savingImage(t *testing.T, s image.Store, id, owner string) {
	t.Helper()
	img := newImage(id)
	img.Status, img.Owner = image.StatusSaving, ptr(owner)
	create(t, s, img)
}

func finishShared(t *testing.T, s image.Store, id string, r image.UploadResult, want string) {
	t.Helper()
	loc, err := s.FinishShared(t.Context(), id, r, at(3))
	if err != nil {
		t.Fatalf("FinishShared(%s): %v", id, err)
	}
	if loc != want {
		t.Errorf("FinishShared(%s) = %q, want %q", id, loc, want)
	}
	got := get(t, s, id)
	if got.Status != image.StatusActive || got.Location != want || got.Size == nil || *got.Size != r.Size || got.HashValue != r.HashValue {
		t.Errorf("after FinishShared(%s): status %s, location %q, size %v, hash %q", id, got.Status, got.Location, got.Size, got.HashValue)
	}
}

func wantRefs(t *testing.T, s image.Store, loc string, want int64) {
	t.Helper()
	n, err := s.DataReferences(t.Context(), loc)
	if err != nil || n != want {
		t.Errorf("DataReferences(%s) = %d, %v; want %d", loc, n, err, want)
	}
}

func release(t *testing.T, s image.Store, id, loc string, want bool) {
	t.Helper()
	unused, err := s.ReleaseData(t.Context(), id, loc)
	if err != nil || unused != want {
		t.Errorf("ReleaseData(%s, %s) = %v, %v; want %v", id, loc, unused, err, want)
	}
}

// testSharedData: the first upload of some data keeps its copy, later
// ones of the same size and sha512 in the same store refer to it, never
// across stores or to data of another size or hash; the data is unused
// only once its last reference goes, and releasing is idempotent.
func testSharedData(t *testing.T, s image.Store) {
	for _, id := range []string{"a", "b", "c", "d", "e", "f"} {
		savingImage(t, s, id, "p-"+id)
	}
	finishShared(t, s, "a", upload("file:a", "x", 100), "file:a")
	finishShared(t, s, "b", upload("file:b", "x", 100), "file:a")
	finishShared(t, s, "c", upload("s3:c", "x", 100), "s3:c")     // another store
	finishShared(t, s, "d", upload("file:d", "y", 100), "file:d") // another hash
	finishShared(t, s, "e", upload("file:e", "x", 99), "file:e")  // another size
	finishShared(t, s, "f", upload("file:f", "x", 100), "file:a")
	wantRefs(t, s, "file:a", 3)
	wantRefs(t, s, "file:b", 0)
	wantRefs(t, s, "s3:c", 1)

	sharing, err := s.DataSharing(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := []image.StoreSharing{
		{Store: "file", Blobs: 3, Images: 5, Bytes: 299, Saved: 200},
		{Store: "s3", Blobs: 1, Images: 1, Bytes: 100, Saved: 0},
	}
	if !slices.Equal(sharing, want) {
		t.Errorf("DataSharing = %+v, want %+v", sharing, want)
	}

	// Releasing: the data stays while one image refers to it, whoever
	// uploaded it first.
	release(t, s, "a", "file:a", false)
	release(t, s, "a", "file:a", false) // again: nothing changes
	wantRefs(t, s, "file:a", 2)
	release(t, s, "f", "file:a", false)
	release(t, s, "b", "file:a", true)
	release(t, s, "b", "file:a", true)
	wantRefs(t, s, "file:a", 0)
	release(t, s, "legacy", "file:legacy", true) // never shared

	// Gone data is not adopted: the next upload keeps its own copy.
	savingImage(t, s, "g", "p-g")
	finishShared(t, s, "g", upload("file:g", "x", 100), "file:g")
}

// testSharedDataConflict: an image no longer saving takes no reference
// and registers no data.
func testSharedDataConflict(t *testing.T, s image.Store) {
	create(t, s, newImage("queued"))
	_, err := s.FinishShared(t.Context(), "queued", upload("file:queued", "x", 10), at(3))
	wantErr(t, "FinishShared(queued)", err, image.ErrConflict)
	_, err = s.FinishShared(t.Context(), "missing", upload("file:missing", "x", 10), at(3))
	wantErr(t, "FinishShared(missing)", err, image.ErrNotFound)
	wantRefs(t, s, "file:queued", 0)
	savingImage(t, s, "b", "p")
	finishShared(t, s, "b", upload("file:b", "x", 10), "file:b")
}

// testImportShared: an import's copy refers to data already shared in
// its store, or becomes that data, in the same write as the import step;
// a step refused (another task's lock, another status, a deleted image)
// takes no reference and registers no data.
func testImportShared(t *testing.T, s image.Store) {
	savingImage(t, s, "up", "p")
	finishShared(t, s, "up", upload("file:up", "x", 100), "file:up")
	imp := newImage("imp")
	imp.Status = image.StatusImporting
	create(t, s, imp)
	if err := s.LockImport(t.Context(), "imp", "task-1", at(2)); err != nil {
		t.Fatal(err)
	}
	step := image.ImportUpdate{IfStatus: []image.Status{image.StatusImporting}, Size: ptr(int64(100)),
		HashAlgo: "sha512", HashValue: "sha512-x", AddLocations: []string{"s3:imp"}}
	for _, c := range []struct {
		name, id, task string
		u              image.ImportUpdate
		kind           error
	}{
		{"another task's lock", "imp", "task-2", step, image.ErrConflict},
		{"another status", "imp", "task-1", image.ImportUpdate{IfStatus: []image.Status{image.StatusQueued}}, image.ErrConflict},
		{"a missing image", "missing", "task-1", step, image.ErrNotFound},
	} {
		_, err := s.ImportShared(t.Context(), c.id, c.task, c.u, upload("file:"+c.id, "z", 100), at(3))
		wantErr(t, "ImportShared("+c.name+")", err, c.kind)
		wantRefs(t, s, "file:"+c.id, 0)
	}
	// Refused steps registered nothing: data z is still new here.
	loc, err := s.ImportShared(t.Context(), "imp", "task-1", step, upload("file:imp", "z", 100), at(4))
	if err != nil || loc != "file:imp" {
		t.Fatalf("ImportShared(new data) = %q, %v; want file:imp", loc, err)
	}
	wantRefs(t, s, "file:imp", 1)
	// Data x is the upload's: the import refers to it.
	loc, err = s.ImportShared(t.Context(), "imp", "task-1", image.ImportUpdate{}, upload("other:imp", "x", 100), at(5))
	if err != nil || loc != "other:imp" {
		t.Fatalf("ImportShared(x in another store) = %q, %v", loc, err)
	}
	loc, err = s.ImportShared(t.Context(), "imp", "task-1", image.ImportUpdate{Status: image.StatusActive}, upload("file:imp2", "x", 100), at(6))
	if err != nil || loc != "file:up" {
		t.Fatalf("ImportShared(x) = %q, %v; want file:up", loc, err)
	}
	wantRefs(t, s, "file:up", 2)
	got := get(t, s, "imp")
	if want := image.JoinLocations([]string{"s3:imp", "file:imp", "other:imp", "file:up"}); got.Location != want || got.Status != image.StatusActive {
		t.Errorf("imported image: %s at %q, want active at %q", got.Status, got.Location, want)
	}
}

// testSharedDataRace races the release of data's last reference against
// an upload of the same data, many times: either the release finds the
// data unused and the upload keeps its own copy, or the upload refers to
// the data and the release leaves it; never both (data removed while an
// image refers to it).
func testSharedDataRace(t *testing.T, s image.Store) {
	adopted := 0
	for i := range 40 {
		first, second := fmt.Sprintf("first-%d", i), fmt.Sprintf("second-%d", i)
		content := fmt.Sprintf("c%d", i)
		savingImage(t, s, first, "p1")
		savingImage(t, s, second, "p2")
		finishShared(t, s, first, upload("file:"+first, content, 1000), "file:"+first)

		var wg sync.WaitGroup
		var unused bool
		var loc string
		var errRelease, errFinish error
		wg.Go(func() { unused, errRelease = s.ReleaseData(t.Context(), first, "file:"+first) })
		wg.Go(func() {
			loc, errFinish = s.FinishShared(t.Context(), second, upload("file:"+second, content, 1000), at(4))
		})
		wg.Wait()
		if errRelease != nil || errFinish != nil {
			t.Fatalf("round %d: ReleaseData: %v; FinishShared: %v", i, errRelease, errFinish)
		}
		switch {
		case unused && loc == "file:"+second:
			wantRefs(t, s, loc, 1)
		case !unused && loc == "file:"+first:
			wantRefs(t, s, loc, 1)
			adopted++
		default:
			t.Fatalf("round %d: release found the data unused: %v, and the upload recorded %s", i, unused, loc)
		}
	}
	t.Logf("the upload adopted the data in %d of 40 rounds, kept its own copy in the others", adopted)
}
