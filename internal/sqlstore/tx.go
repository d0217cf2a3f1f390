package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/task"
)

// Tx is a transaction of the store. Its statements go through the store's
// cache of prepared statements where the dialect wants one
// (Dialect.CacheStatements): parsing and planning SQL costs more than
// running it for the small queries an image request makes.
type Tx struct {
	tx *sql.Tx
	db *sql.DB
	s  *Store
	// detached, in a group-commit transaction, keeps a caller's
	// cancellation from reaching the statements: SQLite answers an
	// interrupted write by rolling back the whole transaction, which
	// holds other callers' writes too.
	detached bool
	// misses are texts that ran unprepared; prepareMisses prepares them
	// once the transaction has let its connection go.
	misses []string
	// left is the image the running change left, when the change knows
	// it without reading it back (a create, a save, a delete): Image
	// answers an OutboxHook from it instead of a query. Only a change
	// with a hook sets it (see withOutbox).
	left *image.Image
	// leftTask is the task the running change claimed (ClaimedTask).
	leftTask *task.Task
	// hooked says the running change has an OutboxHook.
	hooked bool
	// committed are what the running change does once it is committed
	// (afterCommit); a change rolled back does none of them.
	committed []func()
}

// afterCommit runs fn once the running change is committed, before its
// caller is answered; never if it is rolled back.
func (t *Tx) afterCommit(fn func()) { t.committed = append(t.committed, fn) }

// takeCommitted returns the running change's afterCommit functions and
// forgets them (a group-commit transaction runs other changes next).
func (t *Tx) takeCommitted() []func() {
	fns := t.committed
	t.committed = nil
	return fns
}

func runAll(fns []func()) {
	for _, fn := range fns {
		fn()
	}
}

func (t *Tx) ctx(ctx context.Context) context.Context {
	if t.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (t *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = t.ctx(ctx)
	if st := t.stmt(query); st != nil {
		return t.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.tx.ExecContext(ctx, query, args...)
}

func (t *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = t.ctx(ctx)
	if st := t.stmt(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.tx.QueryContext(ctx, query, args...)
}

func (t *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = t.ctx(ctx)
	if st := t.stmt(query); st != nil {
		return t.tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.tx.QueryRowContext(ctx, query, args...)
}

// stmt returns the cached statement for query, or nil after noting the
// miss. A statement cannot be prepared here: preparing on the pool needs
// a connection of its own while this transaction holds one, and the
// writer pool has only the one.
func (t *Tx) stmt(query string) *sql.Stmt {
	c := &t.s.stmts
	if !c.enabled {
		return nil
	}
	if st, ok := c.m.Load(stmtKey{t.db, query}); ok {
		return st.(*sql.Stmt)
	}
	if c.n.Load() < maxStatements {
		t.misses = append(t.misses, query)
	}
	return nil
}

// prepareMisses prepares what the transaction ran unprepared, for the
// next one. It must be called after the transaction ended.
func (t *Tx) prepareMisses() {
	for _, q := range t.misses {
		t.s.stmts.prepare(t.db, q)
	}
	t.misses = nil
}

// maxStatements bounds the cache. The store's query texts come in a
// bounded number of shapes (list filters combine, IN lists are padded to
// a few lengths), so in practice it never fills; when it does, further
// texts simply run unprepared.
const maxStatements = 1024

// stmtCache holds prepared statements by pool and text.
type stmtCache struct {
	enabled bool
	m       sync.Map // stmtKey -> *sql.Stmt
	n       atomic.Int64
}

type stmtKey struct {
	db    *sql.DB
	query string
}

// prepare adds query on db to the cache. A text that fails to prepare is
// left out; it keeps running unprepared and reports its own error.
func (c *stmtCache) prepare(db *sql.DB, query string) {
	key := stmtKey{db, query}
	if _, ok := c.m.Load(key); ok || c.n.Load() >= maxStatements {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := db.PrepareContext(ctx, query)
	if err != nil {
		return
	}
	if _, loaded := c.m.LoadOrStore(key, st); loaded {
		st.Close()
		return
	}
	c.n.Add(1)
}

func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}

// pooled runs single statements on a pool outside any transaction, through
// the statement cache. A statement is its own snapshot, so a read that
// needs only one (an image with its packed sets, a page without a marker)
// need not pay for BEGIN and COMMIT around it.
type pooled struct {
	db *sql.DB
	s  *Store
}

func (p pooled) stmt(query string) *sql.Stmt {
	c := &p.s.stmts
	if !c.enabled {
		return nil
	}
	if st, ok := c.m.Load(stmtKey{p.db, query}); ok {
		return st.(*sql.Stmt)
	}
	// No connection is held here, so preparing cannot wait on ourselves.
	c.prepare(p.db, query)
	if st, ok := c.m.Load(stmtKey{p.db, query}); ok {
		return st.(*sql.Stmt)
	}
	return nil
}

func (p pooled) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := p.stmt(query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return p.db.ExecContext(ctx, query, args...)
}

// QueryContext runs a read, again on another connection when the one it
// got was found broken (a database restarted, a connection cut): a read
// is safe to repeat, though the driver cannot know it is a read.
func (p pooled) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	var rows *sql.Rows
	var err error
	for range beginAttempts {
		if st := p.stmt(query); st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = p.db.QueryContext(ctx, query, args...)
		}
		if err == nil || !brokenConn(err) || ctx.Err() != nil {
			return rows, err
		}
	}
	return rows, err
}

// brokenConn reports an error that says the connection failed under the
// statement rather than the statement failing.
func brokenConn(err error) bool {
	return deadConn(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

func (p pooled) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := p.stmt(query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return p.db.QueryRowContext(ctx, query, args...)
}
