package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Group commit. A database with a single writer connection (SQLite) runs
// one write transaction at a time, and with synchronous=FULL every commit
// waits for the disk. Instead of queueing whole transactions, writers
// queue their work: one goroutine takes every job waiting, runs each in a
// savepoint of one shared transaction, and commits once, so one sync to
// disk acknowledges them all. Nothing is acknowledged before that commit
// returns, so an answered write survives a power loss; no batch waits
// for company (a lone writer commits at once), so latency does not grow.
//
// Each job sees the changes of the jobs before it in the batch, exactly
// as if they had committed just before it started, and a job that fails
// is rolled back to its savepoint alone.

// maxBatch bounds the jobs of one transaction, so a burst of writers
// cannot make one commit arbitrarily large.
const maxBatch = 128

type writeJob struct {
	ctx  context.Context
	fn   func(tx *Tx) error
	done chan error
}

type groupCommit struct {
	s       *Store
	jobs    chan *writeJob
	stop    chan struct{}
	stopped sync.WaitGroup
	once    sync.Once
}

var errStoreClosed = errors.New("the metadata store is closed")

func newGroupCommit(s *Store) *groupCommit {
	g := &groupCommit{s: s, jobs: make(chan *writeJob), stop: make(chan struct{})}
	g.stopped.Add(1)
	go g.loop()
	return g
}

// run hands fn to the committer and waits for its outcome. Once handed
// over, a job is waited for even when ctx ends: the caller must not be
// told "cancelled" about a write that then commits.
func (g *groupCommit) run(ctx context.Context, fn func(tx *Tx) error) error {
	j := &writeJob{ctx: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.stop:
		return errStoreClosed
	}
	return g.s.unavailable(<-j.done)
}

func (g *groupCommit) close() {
	g.once.Do(func() { close(g.stop) })
	g.stopped.Wait()
}

func (g *groupCommit) loop() {
	defer g.stopped.Done()
	for {
		var first *writeJob
		select {
		case first = <-g.jobs:
		case <-g.stop:
			return
		}
		batch := []*writeJob{first}
	gather:
		for len(batch) < maxBatch {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break gather
			}
		}
		g.commit(batch)
	}
}

// commit runs a batch in one transaction and reports to every job.
func (g *groupCommit) commit(batch []*writeJob) {
	s := g.s
	errs := make([]error, len(batch))
	defer func() {
		for i, j := range batch {
			j.done <- errs[i]
		}
	}()
	failAll := func(err error) {
		for i := range errs {
			if errs[i] == nil {
				errs[i] = err
			}
		}
	}
	// The transaction belongs to no single caller, so no caller's
	// context may end it.
	ctx := context.Background()
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		failAll(fmt.Errorf("%s: begin: %w", s.d.Name, err))
		return
	}
	tx := &Tx{tx: sqlTx, db: s.w, s: s, detached: true}
	// The statements this batch ran unprepared are prepared once its
	// connection is free again and the callers have their answers.
	defer func() { go tx.prepareMisses() }()

	// A lone job needs no savepoint: its failure rolls back everything.
	single := len(batch) == 1
	var committed []func() // of the jobs that succeeded
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		if !single {
			if _, err := sqlTx.ExecContext(ctx, "SAVEPOINT job"); err != nil {
				sqlTx.Rollback()
				failAll(fmt.Errorf("%s: savepoint: %w", s.d.Name, err))
				return
			}
		}
		errs[i] = runJob(j, tx)
		if fns := tx.takeCommitted(); errs[i] == nil {
			committed = append(committed, fns...)
		}
		if single {
			break
		}
		if errs[i] != nil {
			if _, err := sqlTx.ExecContext(ctx, "ROLLBACK TO job"); err != nil {
				sqlTx.Rollback()
				failAll(fmt.Errorf("%s: rollback to savepoint: %w", s.d.Name, err))
				return
			}
		}
		if _, err := sqlTx.ExecContext(ctx, "RELEASE job"); err != nil {
			sqlTx.Rollback()
			failAll(fmt.Errorf("%s: release savepoint: %w", s.d.Name, err))
			return
		}
	}
	if single && errs[0] != nil {
		sqlTx.Rollback()
		return
	}
	if err := sqlTx.Commit(); err != nil {
		failAll(fmt.Errorf("%s: commit: %w", s.d.Name, err))
		return
	}
	runAll(committed)
}

// runJob runs one job, turning a panic into its error so that the
// committer, which every writer depends on, keeps running.
func runJob(j *writeJob, tx *Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in a metadata write: %v", p)
		}
	}()
	return j.fn(tx)
}
