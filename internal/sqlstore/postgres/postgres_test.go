package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/image/imagetest"
	"github.com/glint-image/glint/internal/sqlstore"
	"github.com/glint-image/glint/internal/sqlstore/plantest"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
	"github.com/glint-image/glint/internal/sqlstore/recordtest"
)

// The server the tests use is named by GLINT_TEST_POSTGRES_DSN (see
// pgtest), e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
// Each test works in a schema of its own there, dropped when it ends.

func newSchema(t *testing.T) string { return pgtest.Schema(t) }
func testDSN(t *testing.T) string   { return pgtest.DSN(t) }

func TestStore(t *testing.T) {
	testDSN(t) // skip once here rather than in every case
	imagetest.Run(t, func(t *testing.T) image.Store {
		return open(t, newSchema(t))
	})
}

// TestConcurrentOpen starts several stores on one empty schema at once, as
// API nodes starting together do: the advisory lock must let exactly one
// of them migrate, and all of them must then work on the same tables.
func TestConcurrentOpen(t *testing.T) {
	dsn := newSchema(t)
	const n = 6
	stores := make([]*postgres.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = postgres.Open(t.Context(), dsn) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		t.Cleanup(func() { stores[i].Close() })
	}

	db := connect(t, dsn)
	var applied int
	err := db.QueryRowContext(t.Context(),
		`SELECT count(*) FROM goose_db_version WHERE version_id = 1 AND is_applied`).Scan(&applied)
	if err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Errorf("migration 1 recorded %d times, want 1", applied)
	}
	var schema string
	err = db.QueryRowContext(t.Context(),
		`SELECT schemaname FROM pg_tables WHERE tablename = 'images' AND schemaname = current_schema()`).Scan(&schema)
	if err != nil {
		t.Errorf("images table not in the search_path schema: %v", err)
	}

	img := &image.Image{ID: "a", Status: image.StatusQueued, Visibility: image.VisibilityPrivate,
		CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := stores[0].CreateImage(t.Context(), img); err != nil {
		t.Fatalf("CreateImage: %v", err)
	}
	if _, err := stores[n-1].GetImage(t.Context(), "a"); err != nil {
		t.Errorf("GetImage through another store: %v", err)
	}
}

// TestTimeTruncated checks that times finer than a microsecond are cut,
// not rounded as the server would: the SQLite store cuts them, and both
// must agree on which instant was stored.
func TestTimeTruncated(t *testing.T) {
	s := open(t, newSchema(t))
	want := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	img := &image.Image{ID: "a", Status: image.StatusQueued, Visibility: image.VisibilityPrivate,
		CreatedAt: want.Add(999 * time.Nanosecond), UpdatedAt: want}
	if err := s.CreateImage(t.Context(), img); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetImage(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(want) || got.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %s, want %s", got.CreatedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

// TestOpenUnreachable needs no server: Open must fail, promptly, and must
// not repeat the password of the DSN in its error.
func TestOpenUnreachable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, "postgres://glint:s3cret@127.0.0.1:1/glint?sslmode=disable&connect_timeout=5")
	if err == nil {
		s.Close()
		t.Fatal("Open of a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
	if _, err := postgres.Open(ctx, "postgres://glint:s3cret@[bad"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(malformed DSN) = %v, want an error without the password", err)
	}
}

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect opens a plain database/sql pool, closed when t ends.
func connect(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestProjectLock checks that the project lock excludes a second holder,
// as two nodes checking one project's quota need.
func TestProjectLock(t *testing.T) {
	dsn := newSchema(t)
	a, b := open(t, dsn), open(t, dsn)
	unlock, err := a.LockProject(t.Context(), "p1")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		u, err := b.LockProject(context.Background(), "p1")
		if err == nil {
			u()
		}
		close(got)
	}()
	other, err := b.LockProject(t.Context(), "p2")
	if err != nil {
		t.Fatalf("another project's lock: %v", err)
	}
	other()
	select {
	case <-got:
		t.Fatal("second holder got the lock while the first held it")
	case <-time.After(300 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("second holder never got the lock")
	}
}

func BenchmarkStore(b *testing.B) {
	pgtest.DSN(b)
	imagetest.Bench(b, func(b *testing.B) image.Store {
		s, err := postgres.Open(b.Context(), pgtest.Schema(b))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}

func TestListPlans(t *testing.T) {
	plantest.Check(t, open(t, newSchema(t)), plantest.Postgres, map[string]string{
		// Seen once the branch of shares stopped reading all 600 of the
		// caller's memberships (migration 00029), whose constant count
		// had kept this shape under the growth limit.
		"sort-name-asc,size-desc/marker": "after a marker, the images' branches find the names that tie with the marker's " +
			"by walking the size index and filtering on the name, which grows with the catalog",
	})
}

// TestOutage: a server that refuses writes (a read-only transaction,
// SQLSTATE 25006, as on a hot standby or after default_transaction_read_only)
// answers writes with ErrUnavailable and a message that says so.
func TestOutage(t *testing.T) {
	dsn := newSchema(t)
	open(t, dsn) // migrates the schema
	ro := open(t, dsn+"&default_transaction_read_only=on")
	err := ro.CreateImage(t.Context(), &image.Image{ID: "a", Status: image.StatusQueued, Visibility: image.VisibilityPrivate})
	var de *image.Error
	if !errors.Is(err, image.ErrUnavailable) || !errors.As(err, &de) || de.Msg != sqlstore.OutageReadOnly {
		t.Fatalf("write to a read-only database: %v", err)
	}
}

// TestRecordRevisions: the revisions the record cache relies on, and two
// nodes on one database.
func TestRecordRevisions(t *testing.T) {
	testDSN(t)
	recordtest.Run(t, func(t *testing.T) recordtest.Stores {
		dsn := newSchema(t)
		return recordtest.Stores{A: open(t, dsn).Store, B: open(t, dsn).Store, DB: connect(t, dsn)}
	})
}

// TestMemberSortKeysBackfill: memberships made before migration 00029
// get their images' sort keys when it runs, and whether the image is
// hidden when 00030 runs (the twin of the SQLite test).
func TestMemberSortKeysBackfill(t *testing.T) {
	dsn := newSchema(t)
	s := open(t, dsn)
	imagetest.SeedShares(t, s)
	s.Close()
	if err := postgres.MigrateDownTo(t.Context(), dsn, 28); err != nil {
		t.Fatal(err)
	}
	// As the store wrote memberships before 00029, and then a change of
	// every sort key.
	db := connect(t, dsn)
	if _, err := db.ExecContext(t.Context(), `INSERT INTO image_members (image_id, member, status, created_at, updated_at, image_created_at)
		SELECT id, 'acc', 'accepted', created_at, created_at, created_at FROM images`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(t.Context(), `UPDATE images SET name = 'z', status = 'active', size = 7, disk_format = 'raw',
		container_format = 'bare', updated_at = '2030-01-01T00:00:00Z', os_hidden = TRUE WHERE id = 'sh2'`); err != nil {
		t.Fatal(err)
	}

	s = open(t, dsn)
	var copied, stale int
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM image_members WHERE image_name IS NOT NULL`).Scan(&copied); err != nil || copied != 3 {
		t.Fatalf("memberships with copies: %d, %v; want 3", copied, err)
	}
	if err := db.QueryRowContext(t.Context(), `SELECT count(*) FROM image_members m JOIN images i ON i.id = m.image_id
		WHERE m.image_name IS DISTINCT FROM COALESCE(i.name, '') OR m.image_status IS DISTINCT FROM i.status
		OR m.image_container_format IS DISTINCT FROM COALESCE(i.container_format, '')
		OR m.image_disk_format IS DISTINCT FROM COALESCE(i.disk_format, '')
		OR m.image_size IS DISTINCT FROM COALESCE(i.size, -1)
		OR m.image_updated_at IS DISTINCT FROM i.updated_at OR m.image_created_at IS DISTINCT FROM i.created_at
		OR m.image_hidden IS DISTINCT FROM i.os_hidden`).Scan(&stale); err != nil || stale != 0 {
		t.Fatalf("memberships with stale copies: %d, %v; want 0", stale, err)
	}
	imagetest.CheckSharesByName(t, s)
}
