package sqlstore

import (
	"context"
	"database/sql"
	"time"
)

// TxObserver is told how long each transaction of the store took: kind is
// "read" or "write" (a group-commit job counts from hand-over to commit).
type TxObserver interface {
	ObserveTx(kind string, d time.Duration, err error)
}

// Observe sets the observer of the store's transactions. Call it before
// the store serves.
func (s *Store) Observe(o TxObserver) { s.obs = o }

func (s *Store) observe(kind string, start time.Time, err error) {
	if s.obs != nil {
		s.obs.ObserveTx(kind, time.Since(start), err)
	}
}

// Pools are the writer and reader pools (the same one where the backend
// has a single pool), for connection-pool statistics.
func (s *Store) Pools() (w, r *sql.DB) { return s.w, s.r }

// Ping checks that both pools reach the database.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.w.PingContext(ctx); err != nil {
		return err
	}
	return s.r.PingContext(ctx)
}

// Count is the number of records with one combination of values.
type Count struct {
	Labels []string
	N      int64
}

// ImageCounts counts the live (not deleted) images by status and
// visibility: one grouped scan of the images table, for a gauge refreshed
// now and then (a million images take a fraction of a second).
func (s *Store) ImageCounts(ctx context.Context) ([]Count, error) {
	return s.counts(ctx, `SELECT status, visibility, COUNT(*) FROM images WHERE deleted_at IS NULL GROUP BY status, visibility`, 2)
}

// TaskCounts counts the unexpired tasks by type and status (pending ones
// are the import queue).
func (s *Store) TaskCounts(ctx context.Context) ([]Count, error) {
	return s.counts(ctx, `SELECT type, status, COUNT(*) FROM tasks WHERE expires_at IS NULL GROUP BY type, status`, 2)
}

func (s *Store) counts(ctx context.Context, query string, labels int) ([]Count, error) {
	rows, err := s.r.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		c := Count{Labels: make([]string, labels)}
		dst := make([]any, 0, labels+1)
		for i := range c.Labels {
			dst = append(dst, &c.Labels[i])
		}
		if err := rows.Scan(append(dst, &c.N)...); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}
