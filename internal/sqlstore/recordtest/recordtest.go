// Package recordtest checks, on each SQL backend, what the store's cache
// of image records relies on (sqlstore/records.go, migration 00028):
// every change to what a show or a listing returns of an image changes
// its revision, whoever makes it, and a store never lists a record older
// than the database's, even when another store on the same database
// made the change. The backends' tests call Run.
package recordtest

import (
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore"
)

// Stores are two stores on one empty database, and a plain pool on it
// for changes made behind the stores' backs (another process, an
// operator's SQL).
type Stores struct {
	A, B *sqlstore.Store
	DB   *sql.DB
}

// Run runs the checks; open returns fresh Stores each time it is called.
func Run(t *testing.T, open func(t *testing.T) Stores) {
	t.Run("EveryChangeBumpsRevision", func(t *testing.T) { everyChange(t, open(t)) })
	t.Run("SecondStoreNeverStale", func(t *testing.T) { secondStore(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { concurrent(t, open(t)) })
	t.Run("SaveFromCache", func(t *testing.T) { saveFromCache(t, open(t)) })
}

var t0 = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)

func newImage(id string, i int) *image.Image {
	name, owner := fmt.Sprintf("img-%d", i), "p1"
	at := t0.Add(time.Duration(i) * time.Second)
	return &image.Image{ID: id, Name: &name, Owner: &owner, Status: image.StatusQueued,
		Visibility: image.VisibilityPublic, CreatedAt: at, UpdatedAt: at,
		Properties: map[string]string{"a": "1", "b": "2"}, Tags: []string{"t1", "t2"}}
}

func id(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func revision(t *testing.T, db *sql.DB, id string) int64 {
	t.Helper()
	var rev int64
	if err := db.QueryRowContext(t.Context(), "SELECT revision FROM images WHERE id = $1", id).Scan(&rev); err != nil {
		t.Fatalf("revision of %s: %v", id, err)
	}
	return rev
}

// everyChange makes each kind of change in plain SQL, as code that knows
// nothing of revisions would, and checks that the revision grew.
func everyChange(t *testing.T, s Stores) {
	ctx := t.Context()
	img := newImage(id(1), 1)
	if err := s.A.CreateImage(ctx, img); err != nil {
		t.Fatal(err)
	}
	changes := []struct{ what, sql string }{
		{"a column of the image", "UPDATE images SET name = 'renamed' WHERE id = $1"},
		{"the image's location", "UPDATE images SET location = 'file:x' WHERE id = $1"},
		{"an update that changes nothing", "UPDATE images SET name = name WHERE id = $1"},
		{"a new property", "INSERT INTO image_properties (image_id, name, value, image_created_at) SELECT id, 'c', '3', created_at FROM images WHERE id = $1"},
		{"a property's value", "UPDATE image_properties SET value = '4' WHERE image_id = $1 AND name = 'c'"},
		{"a property's name", "UPDATE image_properties SET name = 'd' WHERE image_id = $1 AND name = 'c'"},
		{"a property removed", "DELETE FROM image_properties WHERE image_id = $1 AND name = 'd'"},
		{"a new tag", "INSERT INTO image_tags (image_id, value, image_created_at) SELECT id, 't3', created_at FROM images WHERE id = $1"},
		{"a tag renamed", "UPDATE image_tags SET value = 't4' WHERE image_id = $1 AND value = 't3'"},
		{"a tag removed", "DELETE FROM image_tags WHERE image_id = $1 AND value = 't4'"},
		{"a soft delete", "UPDATE images SET status = 'deleted', deleted_at = updated_at WHERE id = $1"},
	}
	seen := map[int64]bool{}
	prev := revision(t, s.DB, img.ID)
	seen[prev] = true
	for _, c := range changes {
		if _, err := s.DB.ExecContext(ctx, c.sql, img.ID); err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		rev := revision(t, s.DB, img.ID)
		if rev <= prev {
			t.Errorf("%s: revision %d, was %d", c.what, rev, prev)
		}
		seen[rev] = true
		prev = rev
	}
	// Through the store's own writes too, each of which must show.
	img2 := newImage(id(2), 2)
	if err := s.A.CreateImage(ctx, img2); err != nil {
		t.Fatal(err)
	}
	prev = revision(t, s.DB, img2.ID)
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		rev := revision(t, s.DB, img2.ID)
		if rev <= prev {
			t.Errorf("%s: revision %d, was %d", what, rev, prev)
		}
		prev = rev
	}
	step("AddTag", s.A.AddTag(ctx, img2.ID, "t9", t0.Add(time.Hour)))
	step("RemoveTag", s.A.RemoveTag(ctx, img2.ID, "t9", t0.Add(2*time.Hour)))
	got, err := s.A.GetImage(ctx, img2.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Properties["a"] = "changed"
	step("SaveImage", s.A.SaveImage(ctx, got, got.Status, got.UpdatedAt))
	step("SetStatus", s.A.SetStatus(ctx, img2.ID, image.StatusQueued, image.StatusSaving, t0.Add(3*time.Hour)))
	step("FinishUpload", s.A.FinishUpload(ctx, img2.ID, image.UploadResult{Size: 5, Checksum: "c", HashAlgo: "sha512",
		HashValue: "h", Location: "file:y"}, t0.Add(4*time.Hour)))
	step("ClearLocation", s.A.ClearLocation(ctx, img2.ID))
	_, err = s.A.DeleteImage(ctx, img2.ID, t0.Add(5*time.Hour))
	step("DeleteImage", err)

	// A purged image made again with the same id must not start at a
	// revision its old copy held.
	for _, q := range []string{"DELETE FROM image_properties WHERE image_id = $1", "DELETE FROM image_tags WHERE image_id = $1",
		"DELETE FROM image_members WHERE image_id = $1", "DELETE FROM images WHERE id = $1"} {
		if _, err := s.DB.ExecContext(ctx, q, img.ID); err != nil {
			t.Fatalf("purge: %v", err)
		}
	}
	if err := s.A.CreateImage(ctx, newImage(img.ID, 1)); err != nil {
		t.Fatal(err)
	}
	if rev := revision(t, s.DB, img.ID); seen[rev] {
		t.Errorf("the image made again after a purge has revision %d, one its old record had", rev)
	}
}

// secondStore lists through B, changes the images through A and behind
// both stores' backs, and checks that each of B's listings is what a
// store without a cache lists.
func secondStore(t *testing.T, s Stores) {
	ctx := t.Context()
	const n = 6
	for i := range n {
		if err := s.A.CreateImage(ctx, newImage(id(i), i)); err != nil {
			t.Fatal(err)
		}
	}
	notHidden := false
	q := image.ListQuery{Caller: image.Scope{Project: "p1"}, Hidden: &notHidden, Limit: 25}
	check := func(what string) {
		t.Helper()
		// The listings of A are reference: A's cache was never filled
		// (ListImages below is the first on A after SetRecordCache(0)).
		want, err := s.A.ListImages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.B.ListImages(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("after %s, the second store lists\n%s\nthe database holds\n%s", what, show(got), show(want))
		}
		// GetImage through B's cache, twice: the first may fill the
		// cache, the second is served from it; what a caller does to
		// the image it got must not reach the cache.
		for i := range n {
			want, err := s.A.GetImage(ctx, id(i))
			if err != nil {
				t.Fatal(err)
			}
			for round := range 2 {
				got, err := s.B.GetImage(ctx, id(i))
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("after %s, GetImage %d of the second store is\n%s\nthe database holds\n%s",
						what, round, show([]*image.Image{got}), show([]*image.Image{want}))
				}
				got.Properties["scribbled"] = "x"
				got.Tags[0] = "scribbled"
				*got.Name = "scribbled"
			}
		}
	}
	s.A.SetRecordCache(0)
	check("nothing")
	if s.B.RecordsCached() == 0 {
		t.Fatal("the second store's listing cached no record: this test would not test the cache")
	}
	get := func(i int) *image.Image {
		img, err := s.A.GetImage(ctx, id(i))
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	img := get(0)
	name := "renamed"
	img.Name = &name
	must(t, s.A.SaveImage(ctx, img, img.Status, img.UpdatedAt))
	check("a rename")
	img = get(1)
	img.Properties["b"] = "changed"
	img.Properties["new"] = "x"
	must(t, s.A.SaveImage(ctx, img, img.Status, img.UpdatedAt))
	check("a property changed and one added")
	img = get(2)
	img.Tags = []string{"t1"}
	must(t, s.A.SaveImage(ctx, img, img.Status, img.UpdatedAt))
	check("a tag dropped")
	must(t, s.A.AddTag(ctx, id(3), "z", t0.Add(time.Hour)))
	check("AddTag")
	must(t, s.A.SetStatus(ctx, id(4), image.StatusQueued, image.StatusSaving, t0.Add(time.Hour)))
	check("SetStatus")
	must(t, s.A.FinishUpload(ctx, id(4), image.UploadResult{Size: 7, Checksum: "c", HashAlgo: "sha512", HashValue: "h",
		Location: "file:z"}, t0.Add(2*time.Hour)))
	check("FinishUpload")
	_, err := s.A.DeleteImage(ctx, id(5), t0.Add(time.Hour))
	must(t, err)
	check("DeleteImage")
	// Behind both stores: a value changed in place with the same length
	// and the same updated_at, which nothing but the revision tells.
	for _, q := range []string{"UPDATE image_properties SET value = '9' WHERE image_id = $1 AND name = 'a'",
		"UPDATE image_tags SET value = 't7' WHERE image_id = $1 AND value = 't2'",
		"UPDATE images SET min_ram = 64 WHERE id = $1"} {
		if _, err := s.DB.ExecContext(ctx, q, id(3)); err != nil {
			t.Fatal(err)
		}
		check(q)
	}
}

// concurrent lists through B while A writes, each listing checked for
// records of one snapshot: an image's name and its property "n" are
// written together, so a record that pairs them wrongly is a mix.
func concurrent(t *testing.T, s Stores) {
	ctx := t.Context() // bounded by its rounds, not a clock: a loaded machine is slow
	const n = 5
	for i := range n {
		img := newImage(id(i), i)
		img.Properties["n"] = *img.Name
		must(t, s.A.CreateImage(ctx, img))
	}
	done := make(chan error, 1)
	go func() {
		for round := range 20 {
			for i := range n {
				img, err := s.A.GetImage(ctx, id(i))
				if err != nil {
					done <- err
					return
				}
				name := fmt.Sprintf("img-%d-%d", i, round)
				img.Name = &name
				img.Properties["n"] = name
				if err := s.A.SaveImage(ctx, img, img.Status, img.UpdatedAt); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	notHidden := false
	q := image.ListQuery{Caller: image.Scope{Project: "p1"}, Hidden: &notHidden, Limit: 25}
	lists := 0
	for {
		select {
		case err := <-done:
			must(t, err)
			if lists == 0 {
				t.Fatal("no listing ran while the writes did")
			}
			return
		default:
		}
		imgs, err := s.B.ListImages(ctx, q)
		must(t, err)
		lists++
		if len(imgs) != n {
			t.Fatalf("listed %d images, want %d", len(imgs), n)
		}
		for _, img := range imgs {
			if img.Properties["n"] != *img.Name {
				t.Fatalf("image %s listed with name %q and property n=%q: a record of two states", img.ID, *img.Name, img.Properties["n"])
			}
		}
	}
}

// saveFromCache saves through B, whose cache holds the image: SaveImage
// takes what the database holds from the cache when the cached revision
// is the row's, and must read the row when something changed it behind
// B's back, or it would leave what the save replaces (a property, a tag,
// a column set in plain SQL).
func saveFromCache(t *testing.T, s Stores) {
	ctx := t.Context()
	s.A.SetRecordCache(0) // the reference reads the database
	cases := []struct {
		behind string // SQL run behind B's back before the save
		empty  bool   // the save drops every property and tag
	}{
		{}, // the cache's record is current
		{behind: "INSERT INTO image_properties (image_id, name, value, image_created_at) SELECT id, 'z', '1', created_at FROM images WHERE id = $1"},
		{empty: true},
	}
	for i, c := range cases {
		must(t, s.B.CreateImage(ctx, newImage(id(i), i)))
		_, err := s.B.GetImage(ctx, id(i)) // fills B's cache
		must(t, err)
		img, err := s.B.GetImage(ctx, id(i)) // from it
		must(t, err)
		if c.behind != "" {
			for _, q := range []string{c.behind, "UPDATE image_tags SET value = 't9' WHERE image_id = $1 AND value = 't2'",
				"UPDATE images SET min_ram = 7 WHERE id = $1"} {
				if _, err := s.DB.ExecContext(ctx, q, id(i)); err != nil {
					t.Fatal(err)
				}
			}
		}
		name := "saved"
		img.Name = &name
		wantProps, wantTags := map[string]string{"b": "changed", "c": "new"}, []string{"t2", "t3"}
		delete(img.Properties, "a")
		img.Properties["b"] = "changed"
		img.Properties["c"] = "new"
		img.Tags = []string{"t3", "t2", "t3"} // unsorted, repeated: the database keeps a set
		if c.empty {
			img.Properties, img.Tags = nil, nil
			wantProps, wantTags = map[string]string{}, []string{}
		}
		before := img.UpdatedAt
		img.UpdatedAt = before.Add(time.Second + 1234*time.Nanosecond) // finer than the database keeps
		must(t, s.B.SaveImage(ctx, img, img.Status, before))
		got, err := s.A.GetImage(ctx, id(i))
		must(t, err)
		if deref(got.Name) != "saved" || got.MinRAM != 0 || !reflect.DeepEqual(got.Properties, wantProps) ||
			!reflect.DeepEqual(got.Tags, wantTags) {
			t.Errorf("saved image %d (%+v) is\n%s", i, c, show([]*image.Image{got}))
		}
		// B's next GetImage is the database's, whether it comes from
		// the record the save left in the cache or from a load.
		again, err := s.B.GetImage(ctx, id(i))
		must(t, err)
		if !reflect.DeepEqual(again, got) {
			t.Errorf("after the save of image %d (%+v), B gets\n%+v\nthe database holds\n%+v", i, c, again, got)
		}
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func show(imgs []*image.Image) string {
	out := ""
	for _, img := range imgs {
		out += fmt.Sprintf("  %s name=%v status=%s props=%v tags=%v min_ram=%d size=%v deleted=%v\n", img.ID,
			deref(img.Name), img.Status, img.Properties, img.Tags, img.MinRAM, img.Size, img.DeletedAt != nil)
	}
	return out
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}
