// Package sqlstore is the image.Store over database/sql that the SQLite and
// PostgreSQL backends share. The SQL is written once, with $N placeholders
// and only constructs both engines accept (COALESCE, EXISTS, ON CONFLICT DO
// NOTHING); what does differ is described by a Dialect value. Opening the
// pools and migrating the schema stays with each backend package.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// Dialect is what the shared queries need to know about one database.
type Dialect struct {
	// Name prefixes the store's own errors ("sqlite: begin: ...").
	Name string

	// BindTime turns a time into the value written to, or compared with, a
	// time column. It must keep microseconds and drop anything finer, so
	// that every backend stores, orders and compares the same instants.
	BindTime func(time.Time) any
	// ScanTime turns what the driver returns for a non-NULL time column
	// back into a time. The store converts the result to UTC.
	ScanTime func(src any) (time.Time, error)

	// Violation tells which constraint, if any, a failed write broke.
	Violation func(err error) Violation
	// Outage tells a database that cannot take writes now (out of disk
	// space, read-only) and words why for the caller; "" for any other
	// error. Such a failure is image.ErrUnavailable (503), not a 500.
	Outage func(err error) string
	// Unavailable tells an error of this database's driver that says the
	// database cannot be reached or is going away (nil: none beyond the
	// broken connections and timeouts every driver reports).
	Unavailable func(err error) bool

	// ReadTx are the options of the read transactions that load one answer
	// with several statements (rows, then their properties and tags, or a
	// marker and then its page). They must give all statements one
	// snapshot.
	ReadTx sql.TxOptions

	// LockRow is appended to a SELECT of the image row a write transaction
	// reads before changing it, so no other writer can change the row in
	// between (" FOR UPDATE"). Empty where write transactions already
	// exclude each other.
	LockRow string
	// LockProject and UnlockProject take and release a lock named by a
	// project id ($1) that every node sharing the database respects (a
	// PostgreSQL advisory lock). Empty where one process owns the database
	// and the image service's own mutex is enough (SQLite).
	LockProject, UnlockProject string

	// Analyze is the SQL that refreshes the planner's statistics of the
	// image tables, run in the background as the catalog grows (see
	// stats.go); AnalyzeReloads says that the read pool's connections
	// only see new statistics once they reconnect.
	Analyze        string
	AnalyzeReloads bool

	// ByteLength is the SQL of the length in bytes of a text column (%s).
	ByteLength string
	// Aggregate is the SQL of an aggregate concatenating a text
	// expression (%s) over a group, in any order, with no separator.
	Aggregate string

	// NoIndex wraps a column reference so that the planner cannot use
	// the column's index for a condition on it (SQLite: unary +); nil
	// where the planner weighs a LIMIT well enough on its own.
	NoIndex func(expr string) string
	// Contains is the condition that the text expression expr holds the
	// text bound at placeholder arg, byte for byte (SQLite's instr,
	// PostgreSQL's strpos).
	Contains func(expr, arg string) string
	// IndexedBy names the index a table of the FROM clause must be read
	// through (SQLite: INDEXED BY), for sorts whose first key an index
	// orders but not the rest; nil where the planner finds the partial
	// order itself (PostgreSQL's incremental sort).
	IndexedBy func(index string) string
	// IDFirst is the expression a listing sorts on when id is its first
	// sort key; "" for images.id. PostgreSQL's planner, given id order,
	// walks the primary key and filters it rather than a branch's
	// (visibility, id) index, reading the whole table for an empty
	// branch: a collation of the same byte order that the primary key
	// lacks leaves it only the branches' indexes, which are built on it.
	IDFirst string
	// MembersFrom is the FROM clause of a listing's branch of the
	// caller's memberships (m) joined to their images, which must read
	// the memberships first; "" for "image_members m CROSS JOIN images",
	// which SQLite joins in the order written.
	MembersFrom string
	// RowKey is the expression that finds an image row fastest once a
	// listing's merged page names it; "" for images.id. SQLite's rowid is
	// one seek of the table's B-tree where the id is a seek of its index
	// and then one of the table.
	RowKey string
	// LazyMerge says that the database merges the ordered arms of a
	// UNION ALL under one ORDER BY ... LIMIT lazily, reading from each arm
	// only the rows the page takes (SQLite's co-routine merge), so that a
	// listing's branches need no LIMIT of their own (pageSQL).
	// PostgreSQL appends such arms whole and sorts them instead.
	LazyMerge bool

	// ListSetup runs in a listing's transaction before a listing merged
	// from several branches: settings that keep the planner on the
	// branches' ordered index walks where its estimates of a small or
	// skewed catalog would have it scan and sort instead.
	ListSetup string

	// Explain is prepended to a listing's SQL to get its plan
	// (ExplainList): four columns id, parent, unused, detail, or one
	// column of indented text.
	Explain string

	// CacheStatements keeps every query prepared, per pool (SQLite: the
	// driver parses each text anew otherwise; pgx caches on its own).
	CacheStatements bool
	// GroupCommit gathers the writes of concurrent callers into shared
	// transactions, so that one commit, and one sync to disk, serves
	// many (see commit.go). For a database with one writer connection.
	GroupCommit bool
}

// Violation is a kind of constraint violation the store maps to a domain
// error.
type Violation int

const (
	NoViolation         Violation = iota // not a constraint error the store knows
	UniqueViolation                      // primary key or unique: ErrDuplicate
	ForeignKeyViolation                  // reference to a missing image: ErrNotFound
)

// Store is an image.Store over a writer pool and a reader pool, which may
// be the same *sql.DB.
type Store struct {
	w, r *sql.DB
	d    Dialect
	// selectImages is "SELECT <the image columns, revision and packed sets>".
	selectImages string
	stmts        stmtCache
	group        *groupCommit // nil unless Dialect.GroupCommit
	stats        statsRefresh
	obs          TxObserver   // nil: not observed (observe.go)
	records      *recordCache // nil: listings load every record (records.go)
	// stamp, if set, reads the database's stamp (SetStamp).
	stamp func() (Stamp, bool)
	// setDriveRows: a sorted listing drives by a tag or property that at
	// most this many images carry (listquery.go, rareSet).
	setDriveRows int
	// betweenPageAndLoad, if set, runs in cachedPage after the page's
	// ids and revisions are read and before the missing records are
	// loaded: tests write there to force the stale path (export_test.go).
	betweenPageAndLoad func()
}

var _ image.Store = (*Store)(nil)

// New returns a store that writes through w and reads through r, which
// must already hold the schema. The store owns both pools: Close closes
// them.
func New(w, r *sql.DB, d Dialect) *Store {
	if d.BindTime == nil || d.ScanTime == nil || d.Violation == nil || d.ByteLength == "" || d.Aggregate == "" {
		panic("sqlstore: incomplete Dialect " + d.Name)
	}
	s := &Store{w: w, r: r, d: d, selectImages: "SELECT " + imageColumns + ", revision" + setColumns(d),
		records: newRecordCache(DefaultRecordCache), setDriveRows: DefaultSetDriveRows}
	s.stmts.enabled = d.CacheStatements
	if d.GroupCommit {
		s.group = newGroupCommit(s)
	}
	return s
}

// Close stops the group commit, drops the prepared statements and closes
// the pools, the shared one once.
func (s *Store) Close() error {
	if s.group != nil {
		s.group.close()
	}
	s.stmts.close()
	if s.r == s.w {
		return s.w.Close()
	}
	return errors.Join(s.r.Close(), s.w.Close())
}

// querier is what both *sql.DB and *sql.Tx offer, so the loading helpers
// work inside and outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// deadConn reports an error that says the connection was dead before the
// statement was sent (pgx marks these SafeToRetry).
func deadConn(err error) bool {
	var retry interface{ SafeToRetry() bool }
	return errors.Is(err, driver.ErrBadConn) || (errors.As(err, &retry) && retry.SafeToRetry())
}

// write runs fn in a transaction on the writer, committing if fn succeeds.
// It never retries: the compare-and-set writes are not safe to repeat
// blindly, and the caller decides what a conflict means. With group
// commit (Dialect.GroupCommit) fn shares its transaction with other
// writers' (see commit.go); it sees their changes as if they ran just
// before it, and its own are kept or undone as a whole.
func (s *Store) write(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if s.obs != nil {
		defer func(start time.Time) { s.observe("write", start, err) }(time.Now())
	}
	// Notifications of this change go into the outbox in its own
	// transaction (outbox.go).
	fn = withOutbox(ctx, fn)
	if s.group != nil {
		err = s.group.run(ctx, fn)
	} else {
		err = s.inTx(ctx, s.w, nil, fn)
	}
	return s.outage(err)
}

// outage turns a database that cannot take writes into the domain's
// ErrUnavailable, with the dialect's words for why; the driver's error
// stays in the chain for the log.
func (s *Store) outage(err error) error {
	if err == nil || s.d.Outage == nil {
		return err
	}
	if why := s.d.Outage(err); why != "" {
		return fmt.Errorf("%w: %w", &image.Error{Kind: image.ErrUnavailable, Msg: why}, err)
	}
	return err
}

// Messages for Dialect.Outage.
const (
	OutageFull     = "The image service's database is out of disk space: no change can be saved until an operator frees space. Try again later."
	OutageReadOnly = "The image service's database is read-only: no change can be saved until an operator makes it writable. Try again later."
)

// read runs fn in a read-only transaction with the dialect's snapshot
// options.
func (s *Store) read(ctx context.Context, fn func(tx *Tx) error) (err error) {
	if s.obs != nil {
		defer func(start time.Time) { s.observe("read", start, err) }(time.Now())
	}
	opts := s.d.ReadTx
	opts.ReadOnly = true
	return s.inTx(ctx, s.r, &opts, fn)
}

// beginAttempts bounds how often a transaction start is retried on pooled
// connections found dead (a database restarted under the pool): starting
// sends nothing that could apply twice, so it is always safe to repeat.
const beginAttempts = 16

func (s *Store) inTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, fn func(tx *Tx) error) error {
	var tx *sql.Tx
	var err error
	for range beginAttempts {
		if tx, err = db.BeginTx(ctx, opts); err == nil || !deadConn(err) {
			break
		}
	}
	if err != nil {
		return s.unavailable(fmt.Errorf("%s: begin: %w", s.d.Name, err))
	}
	t := &Tx{tx: tx, db: db, s: s}
	defer t.prepareMisses()
	if err := fn(t); err != nil {
		tx.Rollback()
		return s.unavailable(err)
	}
	if err := tx.Commit(); err != nil {
		return s.unavailable(fmt.Errorf("%s: commit: %w", s.d.Name, err))
	}
	runAll(t.takeCommitted())
	return nil
}

// unavailable marks an error that says the database cannot be reached
// (refused or cut connections, timeouts, a server shutting down) as
// image.ErrUnavailable: the request may succeed later without anyone
// fixing glint. Other errors pass through.
func (s *Store) unavailable(err error) error {
	var netErr net.Error
	switch {
	case err == nil, errors.Is(err, image.ErrUnavailable):
		return err
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr),
		s.d.Unavailable != nil && s.d.Unavailable(err):
		return fmt.Errorf("%w: %w", image.ErrUnavailable, err)
	}
	return err
}

// markUnavailable is unavailable for a deferred named error result, in
// the reads that use the pools directly.
func (s *Store) markUnavailable(err *error) { *err = s.unavailable(*err) }

// constraintErr maps a constraint violation to a domain error: a repeated
// key is ErrDuplicate, a reference to a missing image ErrNotFound. Other
// errors pass through.
func (s *Store) constraintErr(err error, what string) error {
	switch s.d.Violation(err) {
	case UniqueViolation:
		return fmt.Errorf("%s already exists: %w", what, image.ErrDuplicate)
	case ForeignKeyViolation:
		return fmt.Errorf("%s: image: %w", what, image.ErrNotFound)
	}
	return err
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

func (s *Store) nullTime(p *time.Time) any {
	if p == nil {
		return nil
	}
	return s.d.BindTime(*p)
}

func strPtr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

// timeColumn is a scan destination for a time column: the dialect decodes
// whatever the driver returns (text for SQLite, time.Time for PostgreSQL).
type timeColumn struct {
	d     *Dialect
	t     time.Time
	valid bool // false for NULL
}

func (c *timeColumn) Scan(src any) error {
	if src == nil {
		c.t, c.valid = time.Time{}, false
		return nil
	}
	t, err := c.d.ScanTime(src)
	if err != nil {
		return fmt.Errorf("%s: bad stored time: %w", c.d.Name, err)
	}
	c.t, c.valid = t.UTC(), true
	return nil
}

func (s *Store) timeColumn() *timeColumn { return &timeColumn{d: &s.d} }
