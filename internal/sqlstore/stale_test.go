package sqlstore_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// TestStalePage forces what a write between a listing's two statements
// causes (the page's ids and revisions, then the records the cache
// lacks): the loaded records are newer than the page, and ListImages
// must list again in one statement and return the state after the write,
// not the page it read before it.
func TestStalePage(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stalePage(t, s.Store)
	})
	t.Run("postgres", func(t *testing.T) {
		s, err := postgres.Open(t.Context(), pgtest.Schema(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stalePage(t, s.Store)
	})
}

func stalePage(t *testing.T, s *sqlstore.Store) {
	ctx := t.Context()
	t0 := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 3 {
		name, owner := fmt.Sprintf("img-%d", i), "p1"
		at := t0.Add(time.Duration(i) * time.Second)
		img := &image.Image{ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: &name, Owner: &owner,
			Status: image.StatusQueued, Visibility: image.VisibilityPublic, CreatedAt: at, UpdatedAt: at,
			Properties: map[string]string{"a": "1"}, Tags: []string{"t1"}}
		if err := s.CreateImage(ctx, img); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, img.ID)
	}
	// The store is new, so its cache holds none of the page's records
	// and the first listing loads all three after reading the page.
	// Between the two, image 0 is renamed and image 1 deleted.
	writes := 0
	sqlstore.SetBetweenPageAndLoad(s, func() {
		writes++
		if writes > 1 {
			return // only once: a second stale page would need a second write
		}
		img, err := s.GetImage(ctx, ids[0])
		if err != nil {
			t.Error(err)
			return
		}
		renamed := "renamed"
		img.Name = &renamed
		if err := s.SaveImage(ctx, img, img.Status, img.UpdatedAt); err != nil {
			t.Error(err)
		}
		if _, err := s.DeleteImage(ctx, ids[1], t0.Add(time.Hour)); err != nil {
			t.Error(err)
		}
	})
	// One index range, no marker: the two statements run outside a
	// transaction on both backends (runList), which is where a write can
	// come between them. (Listings in a read transaction read both in
	// one snapshot.) os_hidden=false, as the service always asks: with
	// neither, hidden and visible images are two ranges.
	visible := false
	q := image.ListQuery{Caller: image.Scope{Admin: true}, Visibility: "public", Hidden: &visible, Limit: 25}
	got, err := s.ListImages(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if writes != 1 {
		t.Fatalf("the writes between page and load ran %d times, want 1 (the listing did not load its records)", writes)
	}
	var listed []string
	for _, img := range got {
		listed = append(listed, fmt.Sprintf("%s %s", img.ID, *img.Name))
	}
	want := []string{ids[2] + " img-2", ids[0] + " renamed"} // created_at desc; image 1 deleted
	if !slices.Equal(listed, want) {
		t.Fatalf("listing after a write between its statements:\n got %q\nwant %q", listed, want)
	}

	// A second listing, with no write between, gives the same answer.
	sqlstore.SetBetweenPageAndLoad(s, nil)
	again, err := s.ListImages(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	listed = listed[:0]
	for _, img := range again {
		listed = append(listed, fmt.Sprintf("%s %s", img.ID, *img.Name))
	}
	if !slices.Equal(listed, want) {
		t.Fatalf("second listing:\n got %q\nwant %q", listed, want)
	}
}
