// Package postgres is the image.Store over PostgreSQL, through pgx's
// database/sql driver, for deployments where several API nodes share one
// metadata database. The queries live in sqlstore; this package opens the
// pool, migrates the schema and describes PostgreSQL's dialect.
//
// Unlike SQLite, PostgreSQL has many concurrent writers, so the store relies
// on row locks: every compare-and-set write is one conditional UPDATE, which
// PostgreSQL re-checks against the latest row version after waiting for a
// concurrent writer, and the one write that reads a row before changing it
// (DeleteImage) takes the row with FOR UPDATE. Nothing is retried: a write
// whose outcome is unknown (connection lost at commit) may have happened,
// and repeating a compare-and-set would then report a false conflict or
// apply twice.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Pool limits. Every node opens its own pool against a server whose
// max_connections (100 by default) all nodes share; requests hold a
// connection only for a few short statements, so a small pool per node is
// plenty. Connections are recycled now and then so a pool follows a
// failover or a changed server setting instead of pinning old sessions.
const (
	maxConns        = 10
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

// connectTimeout bounds opening one connection (dial, TLS, authentication)
// when the DSN does not set connect_timeout, so an unreachable server fails
// Open and requests quickly instead of hanging on the caller's context.
const connectTimeout = 10 * time.Second

// Migration lock: nodes that start together wait for the one applying the
// migrations, polling every lockPoll seconds up to lockPolls times (five
// minutes), bounded also by Open's context.
const (
	lockPoll  = 1
	lockPolls = 300
)

// Store is an image.Store backed by a PostgreSQL database. It reads and
// writes through one pool.
type Store struct {
	*sqlstore.Store
}

var _ image.Store = (*Store)(nil)

// Open connects to the database dsn names (a postgres:// URL or key=value
// string, as libpq accepts) and brings its schema up to date. Tables live in
// the connection's current schema: the first existing one on its
// search_path, which the DSN may set (search_path=glint).
func Open(ctx context.Context, dsn string) (*Store, error) {
	// ParseConfig's errors hide the password of the DSN they quote.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		// Lets an operator tell glint's sessions apart in pg_stat_activity.
		cfg.RuntimeParams["application_name"] = "glint"
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)

	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{Store: sqlstore.New(db, db, dialect)}, nil
}

// migrate applies the embedded migrations the database has not seen yet.
// goose holds a session-level advisory lock meanwhile, so of several nodes
// starting at once one migrates and the others then find nothing to do; the
// server drops the lock by itself if the migrating node dies.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(lockPoll, lockPolls))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// dialect is how PostgreSQL differs from the SQL sqlstore writes.
var dialect = sqlstore.Dialect{
	Name:        "postgres",
	BindTime:    bindTime,
	ScanTime:    scanTime,
	Violation:   violation,
	Unavailable: unavailable,
	Outage:      outage,
	// Under the default READ COMMITTED each statement has its own
	// snapshot; a page and the properties loaded for it must share one.
	ReadTx:  sql.TxOptions{Isolation: sql.LevelRepeatableRead},
	LockRow: " FOR UPDATE",
	// Session advisory locks keyed by a hash of the project id: quota
	// checks of one project run one at a time across all nodes.
	LockProject:   "SELECT pg_advisory_lock(hashtextextended($1, 7346))",
	UnlockProject: "SELECT pg_advisory_unlock(hashtextextended($1, 7346))",
	// Autovacuum analyzes too, but only after a minute or more; a
	// catalog seeded in one go would be planned as an empty one until then.
	Analyze:    "ANALYZE images, image_properties, image_tags, image_members",
	ByteLength: "octet_length(%s)",
	Aggregate:  "string_agg(%s, '')",
	Contains:   func(expr, arg string) string { return "strpos(" + expr + ", " + arg + ") > 0" },
	// Each branch of a listing is written to be an ordered index walk
	// that stops after a page (listquery.go). PostgreSQL's planner, which
	// assumes columns independent (owner and visibility are not) and
	// finds a few thousand rows cheap to scan, would otherwise choose
	// bitmap or sequential scans and sort what they find, which costs as
	// much as the catalog is large. A disabled plan node adds a huge cost
	// to every plan that keeps it, which would start the JIT compiler on a
	// query that runs in a millisecond, so jit is off too. The settings
	// last until the transaction ends.
	ListSetup: "SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off",
	// The C and POSIX collations order by bytes alike; see migration
	// 00018's images_visibility_id.
	IDFirst: `images.id COLLATE "POSIX"`,
	// Left free, the planner may walk every shared image in a sort key's
	// order and look each up among the caller's memberships, all of them
	// when the caller has none; a lateral subquery, kept apart by OFFSET
	// 0, looks up the image of each membership instead.
	MembersFrom: "image_members m CROSS JOIN LATERAL (SELECT * FROM images WHERE images.id = m.image_id OFFSET 0) AS images",
	// ANALYZE runs the query: the plan shows the rows each step read.
	Explain: "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) ",
}

// bindTime drops what timestamptz cannot hold. The server would round
// nanoseconds to the nearest microsecond; truncating keeps the instant the
// SQLite store keeps, so both backends agree on order and equality.
func bindTime(t time.Time) any { return t.UTC().Truncate(time.Microsecond) }

// scanTime accepts what pgx returns for a timestamptz column.
func scanTime(src any) (time.Time, error) {
	t, ok := src.(time.Time)
	if !ok {
		return time.Time{}, fmt.Errorf("time column holds %T, not a timestamp", src)
	}
	return t, nil
}

// SQLSTATE codes the store maps: constraint violations, and a database
// that cannot take writes.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	diskFull            = "53100"
	readOnlyTransaction = "25006"
)

// outage tells a server out of disk space or a read-only transaction (a
// hot standby, default_transaction_read_only).
func outage(err error) string {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return ""
	}
	switch pe.Code {
	case diskFull:
		return sqlstore.OutageFull
	case readOnlyTransaction:
		return sqlstore.OutageReadOnly
	}
	return ""
}

// unavailable recognises PostgreSQL's connection exception (08) and
// operator intervention (57P: shutdown, crash) classes, and pgx's
// statements that never reached the server.
func unavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || strings.HasPrefix(pe.Code, "57P")
	}
	return pgconn.SafeToRetry(err)
}

func violation(err error) sqlstore.Violation {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return sqlstore.NoViolation
	}
	switch pe.Code {
	case uniqueViolation:
		return sqlstore.UniqueViolation
	case foreignKeyViolation:
		return sqlstore.ForeignKeyViolation
	}
	return sqlstore.NoViolation
}
