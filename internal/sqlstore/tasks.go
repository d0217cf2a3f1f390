package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/task"
)

// This file is the task.Store half of the SQL store (tables of migration
// 00005). Input, result and the runner's context are JSON text.

var _ task.Store = (*Store)(nil)

const taskColumns = `id, type, status, owner, image_id, user_id, request_id, input, result, message,
	context, node, lease_until, attempts, expires_at, created_at, updated_at`

// runnable selects tasks runner $node may claim with leases ending before
// $exp: pending and not reserved for another runner, or processing under
// a lease that ended or was released.
func runnable(exp, node int) string {
	return fmt.Sprintf(`((status = 'pending' AND (node = '' OR node = $%[2]d OR lease_until IS NULL OR lease_until < $%[1]d))
		OR (status = 'processing' AND (lease_until IS NULL OR lease_until < $%[1]d)))`, exp, node)
}

// CreateTask inserts a task.
func (s *Store) CreateTask(ctx context.Context, t *task.Task) error {
	input, result, err := taskJSON(t)
	if err != nil {
		return err
	}
	taskCtx := string(t.Context)
	if taskCtx == "" {
		taskCtx = "{}"
	}
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tasks (`+taskColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
			t.ID, t.Type, string(t.Status), t.Owner, t.ImageID, t.UserID, t.RequestID, input, result, t.Message,
			taskCtx, t.Node, s.nullTime(t.LeaseUntil), t.Attempts, s.nullTime(t.ExpiresAt),
			s.d.BindTime(t.CreatedAt), s.d.BindTime(t.UpdatedAt))
		if s.d.Violation(err) == UniqueViolation {
			return fmt.Errorf("task %s: %w", t.ID, task.ErrDuplicate)
		}
		return err
	})
}

func taskJSON(t *task.Task) (input, result any, err error) {
	if t.Input != nil {
		b, err := json.Marshal(t.Input)
		if err != nil {
			return nil, nil, err
		}
		input = string(b)
	}
	result, err = jsonOrNull(t.Result)
	return input, result, err
}

func jsonOrNull(m map[string]any) (any, error) {
	if m == nil {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// GetTask returns one task.
func (s *Store) GetTask(ctx context.Context, id string) (_ *task.Task, err error) {
	defer s.markUnavailable(&err)
	ts, err := s.queryTasks(ctx, s.r, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("task %s: %w", id, task.ErrNotFound)
	}
	return ts[0], nil
}

// ImageTasks returns an image's unexpired tasks, oldest first.
func (s *Store) ImageTasks(ctx context.Context, imageID string, now time.Time) (_ []*task.Task, err error) {
	defer s.markUnavailable(&err)
	return s.queryTasks(ctx, s.r, `SELECT `+taskColumns+` FROM tasks
		WHERE image_id = $1 AND (expires_at IS NULL OR expires_at > $2) ORDER BY created_at, id`,
		imageID, s.d.BindTime(now))
}

// ListTasks returns one page of tasks. Pages are keyset-paginated on the
// sort key, then created_at and id, all in one direction, so a marker
// names a row and the next page starts right after it.
func (s *Store) ListTasks(ctx context.Context, q task.ListQuery) (_ []*task.Task, err error) {
	defer s.markUnavailable(&err)
	key := q.SortKey
	if key == "" {
		key = "created_at"
	}
	if !slices.Contains(task.SortKeys, key) {
		return nil, fmt.Errorf("sort key %s: %w", key, task.ErrBadQuery)
	}
	filter := `(expires_at IS NULL OR expires_at > $1)`
	args := []any{s.d.BindTime(q.Now)}
	add := func(cond string, v any) {
		args = append(args, v)
		filter += fmt.Sprintf(" AND "+cond, len(args))
	}
	if q.Owner != "" {
		add("owner = $%d", q.Owner)
	}
	if q.Status != "" {
		add("status = $%d", string(q.Status))
	}
	if q.Type != "" {
		add("type = $%d", q.Type)
	}
	cols := []string{key, "created_at", "id"}
	switch key {
	case "created_at":
		cols = cols[1:]
	case "id":
		cols = cols[2:]
	}
	// Unfinished tasks have no expiry: they sort as the oldest, and the
	// keyset comparison needs a value (bound after the marker check,
	// whose query does not use it).
	noExpiry := func() {
		if key == "expires_at" {
			args = append(args, s.d.BindTime(time.Unix(0, 0).UTC()))
			cols[0] = fmt.Sprintf("COALESCE(expires_at, $%d)", len(args))
		}
	}
	dir, cmp := " DESC", "<"
	if q.SortAsc {
		dir, cmp = " ASC", ">"
	}
	where := filter
	if q.Marker != "" {
		// The marker must be a task this query selects, as Glance's
		// paginate_query requires.
		markerArgs := append(slices.Clone(args), q.Marker)
		m := fmt.Sprintf("$%d", len(markerArgs))
		var one int
		err := s.r.QueryRowContext(ctx, `SELECT 1 FROM tasks WHERE id = `+m+` AND `+filter, markerArgs...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("marker %s: %w", q.Marker, task.ErrBadQuery)
		}
		if err != nil {
			return nil, err
		}
		args = markerArgs
		noExpiry()
		list := strings.Join(cols, ", ")
		where += ` AND (` + list + `) ` + cmp + ` (SELECT ` + list + ` FROM tasks WHERE id = ` + m + `)`
	}
	if q.Marker == "" {
		noExpiry()
	}
	args = append(args, q.Limit)
	return s.queryTasks(ctx, s.r, `SELECT `+taskColumns+` FROM tasks WHERE `+where+
		` ORDER BY `+strings.Join(cols, dir+", ")+dir+fmt.Sprintf(` LIMIT $%d`, len(args)), args...)
}

// ClaimTask leases the oldest runnable task to node.
func (s *Store) ClaimTask(ctx context.Context, node string, expiredBefore, leaseUntil, at time.Time) (*task.Task, error) {
	var claimed *task.Task
	err := s.write(ctx, func(tx *Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id FROM tasks WHERE `+runnable(1, 2)+`
			ORDER BY created_at, id LIMIT 8`, s.d.BindTime(expiredBefore), node)
		if err != nil {
			return err
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return err
		}
		// Another node may take a candidate between the SELECT and the
		// UPDATE; the UPDATE re-checks, so only one claim of a task wins.
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `UPDATE tasks SET status = 'processing', node = $1, lease_until = $2,
				attempts = attempts + 1, updated_at = $3 WHERE id = $4 AND `+runnable(5, 1),
				node, s.d.BindTime(leaseUntil), s.d.BindTime(at), id, s.d.BindTime(expiredBefore))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return err
				}
				continue
			}
			ts, err := s.queryTasks(ctx, tx, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id)
			if err != nil {
				return err
			}
			claimed = ts[0]
			if tx.hooked {
				tx.leftTask = claimed
			}
			return nil
		}
		return nil
	})
	return claimed, err
}

// RenewReservations extends node's reservations of pending tasks.
func (s *Store) RenewReservations(ctx context.Context, node string, until time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE tasks SET lease_until = $1 WHERE status = 'pending' AND node = $2`,
			s.d.BindTime(until), node)
		return err
	})
}

// RenewTask extends a lease and records progress.
func (s *Store) RenewTask(ctx context.Context, id, node string, leaseUntil time.Time, p task.Progress, at time.Time) error {
	result, err := jsonOrNull(p.Result)
	if err != nil {
		return err
	}
	return s.leased(ctx, id, node, `lease_until = $4, message = $5, result = $6, updated_at = $7`,
		s.d.BindTime(leaseUntil), p.Message, result, s.d.BindTime(at))
}

// ReleaseTask drops node's lease.
func (s *Store) ReleaseTask(ctx context.Context, id, node string, at time.Time) error {
	return s.leased(ctx, id, node, `lease_until = NULL, node = '', updated_at = $4`, s.d.BindTime(at))
}

// leased runs UPDATE tasks SET set for a processing task node holds; set's
// arguments start at $4.
func (s *Store) leased(ctx context.Context, id, node, set string, args ...any) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET `+set+`
			WHERE id = $1 AND node = $2 AND status = $3`, append([]any{id, node, string(task.StatusProcessing)}, args...)...)
		if err != nil {
			return err
		}
		return s.taskChanged(ctx, tx, res, id)
	})
}

// FinishTask ends a task.
func (s *Store) FinishTask(ctx context.Context, id, node string, f task.Final, at time.Time) error {
	if !f.Status.Finished() {
		return fmt.Errorf("sqlstore: FinishTask with status %q", f.Status)
	}
	result, err := jsonOrNull(f.Result)
	if err != nil {
		return err
	}
	args := []any{string(f.Status), result, f.Message, s.d.BindTime(f.ExpiresAt), s.d.BindTime(at), id}
	cond := `status IN ('pending', 'processing')`
	if node != "" {
		cond = `status = 'processing' AND node = $7`
		args = append(args, node)
	}
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE tasks SET status = $1, result = $2, message = $3, expires_at = $4,
			updated_at = $5, node = '', lease_until = NULL WHERE id = $6 AND `+cond, args...)
		if err != nil {
			return err
		}
		return s.taskChanged(ctx, tx, res, id)
	})
}

// taskChanged turns a conditional task write that matched nothing into
// ErrNotFound or ErrConflict.
func (s *Store) taskChanged(ctx context.Context, tx *Tx, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil || n > 0 {
		return err
	}
	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM tasks WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("task %s: %w", id, task.ErrNotFound)
	}
	if err != nil {
		return err
	}
	return fmt.Errorf("task %s: %w", id, task.ErrConflict)
}

// DeleteExpiredTasks removes expired tasks.
func (s *Store) DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM tasks WHERE expires_at IS NOT NULL AND expires_at <= $1`, s.d.BindTime(now))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func (s *Store) queryTasks(ctx context.Context, q querier, query string, args ...any) ([]*task.Task, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*task.Task{}
	for rows.Next() {
		t, err := s.scanTask(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) scanTask(rows *sql.Rows) (*task.Task, error) {
	var t task.Task
	var status, taskCtx string
	var input, result sql.NullString
	lease, expires, created, updated := s.timeColumn(), s.timeColumn(), s.timeColumn(), s.timeColumn()
	if err := rows.Scan(&t.ID, &t.Type, &status, &t.Owner, &t.ImageID, &t.UserID, &t.RequestID, &input, &result,
		&t.Message, &taskCtx, &t.Node, lease, &t.Attempts, expires, created, updated); err != nil {
		return nil, err
	}
	t.Status = task.Status(status)
	t.Context = json.RawMessage(taskCtx)
	for _, c := range []struct {
		src sql.NullString
		dst *map[string]any
	}{{input, &t.Input}, {result, &t.Result}} {
		if !c.src.Valid {
			continue
		}
		if err := json.Unmarshal([]byte(c.src.String), c.dst); err != nil {
			return nil, fmt.Errorf("%s: task %s: bad stored JSON: %w", s.d.Name, t.ID, err)
		}
	}
	if lease.valid {
		t.LeaseUntil = &lease.t
	}
	if expires.valid {
		t.ExpiresAt = &expires.t
	}
	t.CreatedAt, t.UpdatedAt = created.t, updated.t
	return &t, nil
}
