package sqlstore

import (
	"context"
	"sync/atomic"
	"time"
)

// Query plans depend on the planner's statistics, and statistics gathered
// on a small catalog describe a large one badly: SQLite then sorts every
// visible image for a page of 25 instead of walking an index, PostgreSQL
// picks bitmap scans and sorts. A catalog that grows while the server
// runs (a first import of thousands of images) would keep those plans
// until the next restart, or the next autovacuum. So the store refreshes
// the statistics itself every analyzeEvery image creations, in the
// background.

const analyzeEvery = 1000

// analyzeTimeout bounds one refresh; SQLite's is kept cheap by its
// analysis_limit, PostgreSQL's samples a bounded number of rows.
const analyzeTimeout = time.Minute

type statsRefresh struct {
	created atomic.Int64
	running atomic.Bool
}

// created notes one image creation and starts a refresh when due.
func (s *Store) created() {
	if s.d.Analyze == "" || s.stats.created.Add(1) < analyzeEvery || !s.stats.running.CompareAndSwap(false, true) {
		return
	}
	s.stats.created.Store(0)
	go func() {
		defer s.stats.running.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), analyzeTimeout)
		defer cancel()
		_ = s.Analyze(ctx) // on failure the next refresh tries again; plans stay as they were
	}()
}

// Analyze refreshes the planner's statistics now. The store does it by
// itself as the catalog grows; tests and benchmarks that just seeded a
// catalog call it to be planned as the store would soon be.
func (s *Store) Analyze(ctx context.Context) error {
	if s.d.Analyze == "" {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, s.d.Analyze); err != nil {
		return err
	}
	if s.d.AnalyzeReloads {
		max := s.r.Stats().MaxOpenConnections
		s.r.SetMaxIdleConns(0) // closes the idle connections now
		s.r.SetMaxIdleConns(max)
	}
	return nil
}
