package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/task"
)

// The notification outbox. A notification of a change is written by the
// transaction that makes the change, so it exists exactly when the change
// does: a crash or a broker outage loses none, and a rolled-back change
// sends none. A publisher (internal/notify) reads the table in id order
// and deletes what the broker confirmed; one node at a time publishes,
// under a lease held in notification_publisher.

// OutboxMessage is one notification waiting to be published. Body is the
// complete message as the broker receives it.
type OutboxMessage struct {
	ID        int64
	EventType string
	Priority  string
	Body      []byte
	CreatedAt time.Time
}

// OutboxHook builds, inside a write transaction and after its change, the
// notifications of that change. tx reads the state the change left.
type OutboxHook func(ctx context.Context, tx *Tx) ([]OutboxMessage, error)

type outboxKey struct{}

// WithOutboxHook returns a context under which the store's next write
// calls h before it commits and stores what h returns in the same
// transaction. A hook that fails fails the write.
func WithOutboxHook(ctx context.Context, h OutboxHook) context.Context {
	return context.WithValue(ctx, outboxKey{}, h)
}

// withOutbox wraps a write's work with the hook ctx carries, if any.
func withOutbox(ctx context.Context, fn func(tx *Tx) error) func(tx *Tx) error {
	h, _ := ctx.Value(outboxKey{}).(OutboxHook)
	if h == nil {
		return fn
	}
	return func(tx *Tx) error {
		// A group-commit transaction is shared: what an earlier job left
		// is not this change's.
		tx.left, tx.leftTask, tx.hooked = nil, nil, true
		defer func() { tx.left, tx.leftTask, tx.hooked = nil, nil, false }()
		if err := fn(tx); err != nil {
			return err
		}
		msgs, err := h(ctx, tx)
		if err != nil {
			return fmt.Errorf("notifications: %w", err)
		}
		return tx.insertOutbox(ctx, msgs)
	}
}

func (t *Tx) insertOutbox(ctx context.Context, msgs []OutboxMessage) error {
	for _, m := range msgs {
		if _, err := t.ExecContext(ctx, `INSERT INTO notification_outbox (event_type, priority, body, created_at)
			VALUES ($1, $2, $3, $4)`, m.EventType, m.Priority, string(m.Body), t.s.d.BindTime(m.CreatedAt)); err != nil {
			return fmt.Errorf("%s: outbox: %w", t.s.d.Name, err)
		}
	}
	return nil
}

// Image returns an image as the transaction's change left it (for an
// OutboxHook): the image the change wrote when it knows it whole, else
// read inside the transaction. The caller must not modify it.
func (t *Tx) Image(ctx context.Context, id string) (*image.Image, error) {
	if t.left != nil && t.left.ID == id {
		return t.left, nil
	}
	return t.s.getImage(ctx, t, id, "")
}

// wrote tells an OutboxHook that img is the image as the change left it,
// so that Image needs no query. Without a hook it does nothing.
func (t *Tx) wrote(img *image.Image) {
	if t.hooked {
		t.left = img
	}
}

// ClaimedTask is the task the transaction's change claimed (ClaimTask),
// as it left it, or nil when it claimed none (for an OutboxHook).
func (t *Tx) ClaimedTask() *task.Task { return t.leftTask }

// Task reads a task inside the transaction (for an OutboxHook).
func (t *Tx) Task(ctx context.Context, id string) (*task.Task, error) {
	ts, err := t.s.queryTasks(ctx, t, `SELECT `+taskColumns+` FROM tasks WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("task %s: %w", id, task.ErrNotFound)
	}
	return ts[0], nil
}

// Member reads an image member inside the transaction (for an
// OutboxHook).
func (t *Tx) Member(ctx context.Context, imageID, memberID string) (*image.Member, error) {
	row := t.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM image_members
		WHERE image_id = $1 AND member = $2`, imageID, memberID)
	m, err := t.s.scanMember(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, memberNotFound(imageID, memberID)
	}
	return m, err
}

// AppendOutbox stores notifications that belong to no change of the
// records (a download ended) in a transaction of their own.
func (s *Store) AppendOutbox(ctx context.Context, msgs ...OutboxMessage) error {
	return s.write(ctx, func(tx *Tx) error { return tx.insertOutbox(ctx, msgs) })
}

// LeaseOutbox makes node the outbox's publisher until until, if no other
// node holds an unexpired lease; it reports whether node holds it.
func (s *Store) LeaseOutbox(ctx context.Context, node string, until, now time.Time) (bool, error) {
	var held bool
	err := s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO notification_publisher (id, node, lease_until) VALUES (1, $1, $2)
			ON CONFLICT (id) DO UPDATE SET node = $1, lease_until = $2
			WHERE notification_publisher.node = $1 OR notification_publisher.lease_until < $3`,
			node, s.d.BindTime(until), s.d.BindTime(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		held = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("%s: outbox lease: %w", s.d.Name, err)
	}
	return held, nil
}

// PendingOutbox returns up to limit waiting notifications, oldest first.
func (s *Store) PendingOutbox(ctx context.Context, limit int) ([]OutboxMessage, error) {
	rows, err := pooled{s.r, s}.QueryContext(ctx, `SELECT id, event_type, priority, body, created_at FROM notification_outbox
		ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("%s: outbox: %w", s.d.Name, err)
	}
	defer rows.Close()
	var out []OutboxMessage
	for rows.Next() {
		var m OutboxMessage
		var created any
		if err := rows.Scan(&m.ID, &m.EventType, &m.Priority, &m.Body, &created); err != nil {
			return nil, fmt.Errorf("%s: outbox: %w", s.d.Name, err)
		}
		if m.CreatedAt, err = s.d.ScanTime(created); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// DeleteOutbox removes published notifications. The id list is padded to
// a power of two, so its statement is one of a few cached ones.
func (s *Store) DeleteOutbox(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	ids = padded(ids)
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("$" + strconv.Itoa(i+1))
		args[i] = id
	}
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM notification_outbox WHERE id IN (`+b.String()+`)`, args...)
		return err
	})
}

// OutboxBacklog counts the notifications waiting.
func (s *Store) OutboxBacklog(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM notification_outbox`).Scan(&n)
	return n, err
}

// TrimOutbox keeps the newest max notifications and drops the older ones,
// returning how many it dropped: the outbox is bounded even when no
// broker takes anything for a long time.
func (s *Store) TrimOutbox(ctx context.Context, max int64) (int64, error) {
	var dropped int64
	err := s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM notification_outbox WHERE id <= (
			SELECT id FROM notification_outbox ORDER BY id DESC LIMIT 1 OFFSET $1)`, max)
		if err != nil {
			return err
		}
		dropped, err = res.RowsAffected()
		return err
	})
	return dropped, err
}
