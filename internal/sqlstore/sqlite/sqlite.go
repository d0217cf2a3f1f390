// Package sqlite is the image.Store over a SQLite file, through the pure-Go
// modernc.org/sqlite driver. It is the default metadata backend and the fast
// one tests run against.
//
// SQLite allows one writer at a time, so the store keeps two pools: a writer
// with a single connection whose transactions begin IMMEDIATE (they take the
// write lock up front instead of failing with SQLITE_BUSY when a read turns
// into a write), and a small pool of read-only connections that WAL mode lets
// run beside the writer. The queries themselves live in sqlstore; this
// package opens the pools, migrates the file and describes SQLite's dialect.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// readers is the size of the read pool. Reads are short, and the machine
// this runs on is small; a handful is enough to keep lists off the writer.
const readers = 4

// Store is an image.Store backed by one SQLite database file.
type Store struct {
	*sqlstore.Store
	w     *sql.DB   // one connection, IMMEDIATE transactions; also owned by Store
	r     *sql.DB   // the read pool; also owned by Store
	stamp *walStamp // nil where the WAL index cannot be read
}

var _ image.Store = (*Store)(nil)

// Open opens (creating if needed) the database at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	// The driver reads everything after '?' as connection parameters.
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: unusable database path %q", path)
	}
	// The file holds password hashes and private metadata: a new one is
	// made readable by its owner only, and SQLite gives the -wal and -shm
	// files the database's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("sqlite: create %s: %w", path, err)
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
	if _, err := w.ExecContext(ctx, optimizePragma); err != nil {
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
	// Statistics are read when a connection opens; connections renewed
	// now and then pick up what the periodic optimize gathered.
	r.SetConnMaxLifetime(10 * time.Minute)
	s := &Store{Store: sqlstore.New(w, r, dialect), w: w, r: r}
	// Without the WAL index's header (a platform without shared
	// mappings, say) every show asks the database for the image's
	// revision, which is correct, only slower.
	if ws, err := openWALStamp(ctx, path); err == nil {
		s.stamp = ws
		s.SetStamp(ws.read)
	}
	return s, nil
}

// optimizePragma refreshes the planner's statistics of the tables whose
// size changed a lot since they were last gathered (or that have none),
// sampling at most analysis_limit rows per index so it stays cheap.
const optimizePragma = "PRAGMA optimize=0x10002"

// dsn builds the driver's connection string. journal_mode is set by the
// writer only: it is a property of the file, and setting it needs a lock a
// reader should not take. Readers are query_only so a stray write on the
// read pool fails loudly instead of racing the writer.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "analysis_limit(1000)")
	// FULL: a commit is on disk before it is acknowledged, so an answered
	// request survives a power loss. Group commit (sqlstore) keeps that
	// affordable: one sync serves every writer waiting.
	q.Add("_pragma", "synchronous(FULL)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		// The statement journal in memory: the revision triggers
		// (migration 00028) make a create or a save update its image row
		// again within the statement, which journals the pages the
		// transaction already changed; in a temporary file that doubled
		// the bytes a create writes (158 -> 322 KB) and cost some 40 %
		// more CPU. It holds only pages the transaction already holds.
		q.Add("_pragma", "temp_store(MEMORY)")
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
	err = errors.Join(err, s.Store.Close())
	if s.stamp != nil {
		err = errors.Join(err, s.stamp.close())
	}
	return err
}

// dialect is how SQLite differs from the SQL sqlstore writes.
var dialect = sqlstore.Dialect{
	Name:      "sqlite",
	BindTime:  formatTime,
	ScanTime:  scanTime,
	Violation: violation,
	Outage:    outage,
	// A read transaction in WAL mode sees one snapshot from its first
	// read on; SQLite has no isolation levels to ask for.
	ReadTx: sql.TxOptions{},
	// The single writer connection with IMMEDIATE transactions already
	// excludes every other writer, and SQLite has no FOR UPDATE.
	LockRow: "",
	// Other connections keep the statistics they loaded when they
	// opened, so the read pool is renewed after each refresh.
	Analyze:        optimizePragma,
	AnalyzeReloads: true,
	ByteLength:     "length(CAST(%s AS BLOB))",
	Aggregate:      "group_concat(%s, '')",
	// SQLite picks the index of a range filter and sorts all it finds
	// over walking an index in order and stopping after a page.
	NoIndex:  func(expr string) string { return "+" + expr },
	Contains: func(expr, arg string) string { return "instr(" + expr + ", " + arg + ") > 0" },
	// For a sort on two keys SQLite would read a branch through its
	// narrowest index and sort all of it, rather than walk the first
	// key's index and sort only the ties of each value.
	IndexedBy:       func(index string) string { return " INDEXED BY " + index },
	RowKey:          "images.rowid",
	LazyMerge:       true,
	Explain:         "EXPLAIN QUERY PLAN ",
	CacheStatements: true,
	GroupCommit:     true,
}

// timeLayout is how times are stored: UTC, fixed width, microseconds, so
// that text order is time order and markers compare exactly.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func formatTime(t time.Time) any { return t.UTC().Format(timeLayout) }

// scanTime parses a stored time; the driver returns TEXT columns as string.
func scanTime(src any) (time.Time, error) {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return time.Time{}, fmt.Errorf("time column holds %T, not text", src)
	}
	return time.Parse(timeLayout, s)
}

// violation classifies SQLite's extended result codes.
func violation(err error) sqlstore.Violation {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return sqlstore.NoViolation
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
		return sqlstore.UniqueViolation
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}

// outage tells SQLite's out-of-space and read-only results (primary code,
// any extended one).
func outage(err error) string {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return sqlstore.OutageFull
	case sqlite3.SQLITE_READONLY:
		return sqlstore.OutageReadOnly
	}
	return ""
}
