package sqlite_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/image/imagetest"
	"github.com/glint-image/glint/internal/sqlstore"
	"github.com/glint-image/glint/internal/sqlstore/plantest"
	"github.com/glint-image/glint/internal/sqlstore/recordtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestStore(t *testing.T) {
	imagetest.Run(t, func(t *testing.T) image.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestReopen checks that data survives closing the file and that running
// the migrations again on a current schema is a no-op.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glint.db")
	s := open(t, path)
	img := &image.Image{ID: "a", Status: image.StatusQueued, Visibility: image.VisibilityPrivate,
		Tags: []string{"t"}, Properties: map[string]string{"k": "v"}}
	if err := s.CreateImage(t.Context(), img); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		s = open(t, path)
		got, err := s.GetImage(t.Context(), "a")
		if err != nil {
			t.Fatalf("GetImage after reopen: %v", err)
		}
		if len(got.Tags) != 1 || got.Tags[0] != "t" || got.Properties["k"] != "v" {
			t.Errorf("after reopen: tags %v properties %v", got.Tags, got.Properties)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

// TestDollarPlaceholders pins down what sqlstore's shared SQL relies on: the
// driver binds $N to the N-th argument, even out of order and repeated. In
// plain SQLite $1 is a named parameter; if a driver upgrade changes this,
// the fix is rewriting $N to ?N in the dialect.
func TestDollarPlaceholders(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var a, b, c int
	if err := db.QueryRowContext(t.Context(), "SELECT $2, $1, $2", 1, 2).Scan(&a, &b, &c); err != nil {
		t.Fatal(err)
	}
	if a != 2 || b != 1 || c != 2 {
		t.Errorf("SELECT $2, $1, $2 with (1, 2) = %d %d %d, want 2 1 2", a, b, c)
	}
}

func BenchmarkStore(b *testing.B) {
	imagetest.Bench(b, func(b *testing.B) image.Store {
		s, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "glint.db"))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

func TestListPlans(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "glint.db"))
	t.Cleanup(func() { s.Close() })
	ties := "after a marker, a branch finds the rows that tie with the marker's first key (a name or a time) by that key rather than by the rest of the tuple, and sorts those"
	nameTies := "after a marker, the images whose name ties with the marker's are found by that name and sorted: the few that share one name"
	plantest.Check(t, s, plantest.SQLite, map[string]string{
		"sort-name-asc/marker":                 ties,
		"sort-name-desc/marker":                ties,
		"sort-name-asc-lonely/marker":          ties,
		"sort-updated_at-asc/marker":           ties,
		"sort-updated_at-desc/marker":          ties,
		"name-prefix-sort-name/marker":         nameTies,
		"sort-name-asc,size-desc/marker":       ties,
		"sort-updated_at-desc,name-asc/marker": ties,
	})
}

// TestOutage: a database out of space (max_page_count reached, as on a
// full disk) or read-only answers writes with ErrUnavailable and a message
// that says so, not an unclassified driver error (a 500 before).
func TestOutage(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "glint.db"))
	defer s.Close()
	ctx := t.Context()
	create := func(id string) error {
		return s.CreateImage(ctx, &image.Image{ID: id, Status: image.StatusQueued, Visibility: image.VisibilityPrivate,
			Properties: map[string]string{"big": strings.Repeat("x", 200<<10)}})
	}
	if err := create("a"); err != nil {
		t.Fatal(err)
	}
	pages, err := sqlite.PageCount(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Pragma(s, fmt.Sprintf("max_page_count = %d", pages)); err != nil {
		t.Fatal(err)
	}
	err = create("b")
	var de *image.Error
	if !errors.Is(err, image.ErrUnavailable) || !errors.As(err, &de) || de.Msg != sqlstore.OutageFull {
		t.Fatalf("write to a full database: %v", err)
	}
	if err := sqlite.Pragma(s, "max_page_count = 1073741823"); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.Pragma(s, "query_only = 1"); err != nil {
		t.Fatal(err)
	}
	err = create("c")
	if !errors.Is(err, image.ErrUnavailable) || !errors.As(err, &de) || de.Msg != sqlstore.OutageReadOnly {
		t.Fatalf("write to a read-only database: %v", err)
	}
	if _, err := s.GetImage(ctx, "a"); err != nil {
		t.Fatalf("read from a read-only database: %v", err)
	}
}

// TestRecordRevisions: the revisions the record cache relies on, and two
// stores on one file (a server and an admin command).
func TestRecordRevisions(t *testing.T) {
	recordtest.Run(t, func(t *testing.T) recordtest.Stores {
		path := filepath.Join(t.TempDir(), "glint.db")
		a, b := open(t, path), open(t, path)
		t.Cleanup(func() { a.Close(); b.Close() })
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return recordtest.Stores{A: a.Store, B: b.Store, DB: db}
	})
}

// staleCopies counts the memberships whose copies of their image's sort
// keys (migration 00029) or of its os_hidden (00030) differ from the image's.
const staleCopies = `SELECT count(*) FROM image_members m JOIN images i ON i.id = m.image_id
	WHERE m.image_name IS NOT COALESCE(i.name, '') OR m.image_status IS NOT i.status
	OR m.image_container_format IS NOT COALESCE(i.container_format, '')
	OR m.image_disk_format IS NOT COALESCE(i.disk_format, '') OR m.image_size IS NOT COALESCE(i.size, -1)
	OR m.image_updated_at IS NOT i.updated_at OR m.image_created_at IS NOT i.created_at
	OR m.image_hidden IS NOT i.os_hidden`

// TestMemberSortKeysBackfill: memberships made before migration 00029
// get their images' sort keys when it runs (and whether the image is
// hidden, 00030), and a listing of shares
// sorted by name then reads them in the images' order.
func TestMemberSortKeysBackfill(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glint.db")
	s := open(t, path)
	imagetest.SeedShares(t, s)
	if err := sqlite.MigrateDownTo(s, 28); err != nil {
		t.Fatal(err)
	}
	// As the store wrote memberships before 00029, and then a change of
	// every sort key.
	for _, id := range []string{"sh0", "sh1", "sh2"} {
		if err := sqlite.Exec(s, `INSERT INTO image_members (image_id, member, status, created_at, updated_at, image_created_at)
			SELECT id, 'acc', 'accepted', created_at, created_at, created_at FROM images WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := sqlite.Exec(s, `UPDATE images SET name = 'z', status = 'active', size = 7, disk_format = 'raw',
		container_format = 'bare', updated_at = '2030-01-01T00:00:00.000000Z', os_hidden = 1 WHERE id = 'sh2'`); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s = open(t, path)
	defer s.Close()
	if n, err := sqlite.QueryInt(s, `SELECT count(*) FROM image_members WHERE image_name IS NOT NULL`); err != nil || n != 3 {
		t.Fatalf("memberships with copies: %d, %v; want 3", n, err)
	}
	if n, err := sqlite.QueryInt(s, staleCopies); err != nil || n != 0 {
		t.Fatalf("memberships with stale copies: %d, %v; want 0", n, err)
	}
	imagetest.CheckSharesByName(t, s)
}
