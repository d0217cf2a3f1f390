// Package sqlite is the image.Store over a SQLite file, through the pure-Go
// modernc.org/sqlite driver. It is the default metadata backend and the fast
// one tests run against.
//
// SQLite allows one writer at a time, so the store keeps two pools: a writer
// with a single connection whose transactions begin IMMEDIATE (they take the
// write lock up front instead of failing with SQLITE_BUSY when a read turns
// into a write), and a small pool of read-only connections that WAL mode lets
// run beside the writer.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"glint/internal/image"
)

//go:embed migrations/*.sql
var migrations embed.FS

// readers is the size of the read pool. Reads are short, and the machine
// this runs on is small; a handful is enough to keep lists off the writer.
const readers = 4

// Store is an image.Store backed by one SQLite database file.
type Store struct {
	w *sql.DB // one connection, IMMEDIATE transactions
	r *sql.DB // read-only connections
}

var _ image.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	// The driver reads everything after '?' as connection parameters.
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: unusable database path %q", path)
	}
	w, err := sql.Open("sqlite", dsn(path, false))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)

	if err := migrate(ctx, w); err != nil {
		w.Close()
		return nil, err
	}
	// Refresh the planner's statistics if they are missing or stale. Without
	// them SQLite guesses that visibility (four values) is selective and
	// sorts a large share of the table for the default listing.
	if _, err := w.ExecContext(ctx, "PRAGMA optimize=0x10002"); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: optimize: %w", err)
	}

	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return &Store{w: w, r: r}, nil
}

// dsn builds the driver's connection string. journal_mode is set by the
// writer only: it is a property of the file, and setting it needs a lock a
// reader should not take. Readers are query_only so a stray write on the
// read pool fails loudly instead of racing the writer.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	}
	return path + "?" + q.Encode()
}

// migrate applies the embedded migrations that the file has not seen yet.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close closes both pools, first letting SQLite update the statistics the
// queries of this session showed to be stale, as its documentation advises.
func (s *Store) Close() error {
	_, err := s.w.Exec("PRAGMA optimize")
	return errors.Join(err, s.r.Close(), s.w.Close())
}

// querier is what both *sql.DB and *sql.Tx offer, so the loading helpers
// work inside and outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// write runs fn in a transaction on the writer, committing if fn succeeds.
func (s *Store) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.w, nil, fn)
}

// read runs fn in a read-only transaction, so the several queries that load
// one answer (rows, then their properties and tags) see one snapshot.
func (s *Store) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.r, &sql.TxOptions{ReadOnly: true}, fn)
}

func inTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}

// timeLayout is how times are stored: UTC, fixed width, microseconds, so
// that text order is time order and markers compare exactly.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad stored time %q: %w", s, err)
	}
	return t, nil
}

// Nullable columns. Pointers map to NULL when nil; the data fields that use
// "" for null (checksum, hashes) map "" to NULL, as Glance stores them.

func nullString(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func nullTime(p *time.Time) any {
	if p == nil {
		return nil
	}
	return formatTime(*p)
}

func strPtr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func intPtr(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

// constraintErr maps a constraint violation to a domain error: a repeated
// key is ErrDuplicate, a reference to a missing image ErrNotFound. Other
// errors pass through.
func constraintErr(err error, what string) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return fmt.Errorf("%s already exists: %w", what, image.ErrDuplicate)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return fmt.Errorf("%s: image: %w", what, image.ErrNotFound)
	}
	return err
}
