package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// This file is the image.PartialStore half of the SQL store (migration
// 00024).

const partialColumns = `image_id, kind, owner, store, blob_key, received, total, hash_state, format_state,
	blob_state, created_at, updated_at, expires_at`

// SavePartial inserts or replaces an image's partial upload.
func (s *Store) SavePartial(ctx context.Context, p *image.Partial) error {
	return s.write(ctx, func(tx *Tx) error {
		var live int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM images WHERE id = $1 AND deleted_at IS NULL`, p.ImageID).Scan(&live)
		if err != nil {
			return err
		}
		if live == 0 {
			return fmt.Errorf("image %s: %w", p.ImageID, image.ErrNotFound)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO partial_uploads (`+partialColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (image_id) DO UPDATE SET kind = excluded.kind, owner = excluded.owner,
				store = excluded.store, blob_key = excluded.blob_key, received = excluded.received,
				total = excluded.total, hash_state = excluded.hash_state, format_state = excluded.format_state,
				blob_state = excluded.blob_state, created_at = excluded.created_at,
				updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
			p.ImageID, p.Kind, p.Owner, p.Store, p.Key, p.Offset, p.Total, p.HashState, p.FormatState,
			p.BlobState, s.d.BindTime(p.CreatedAt), s.d.BindTime(p.UpdatedAt), s.d.BindTime(p.ExpiresAt))
		if s.d.Violation(err) == ForeignKeyViolation {
			return fmt.Errorf("image %s: %w", p.ImageID, image.ErrNotFound)
		}
		return err
	})
}

// GetPartial returns an image's partial upload.
func (s *Store) GetPartial(ctx context.Context, imageID string) (_ *image.Partial, err error) {
	defer s.markUnavailable(&err)
	ps, err := s.queryPartials(ctx, `SELECT `+partialColumns+` FROM partial_uploads WHERE image_id = $1`, imageID)
	if err != nil {
		return nil, err
	}
	if len(ps) == 0 {
		return nil, fmt.Errorf("partial upload of %s: %w", imageID, image.ErrNotFound)
	}
	return ps[0], nil
}

// DeletePartial removes an image's partial upload, if it is still the one
// saved at updatedAt (any, for the zero time).
func (s *Store) DeletePartial(ctx context.Context, imageID string, updatedAt time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		if updatedAt.IsZero() {
			_, err := tx.ExecContext(ctx, `DELETE FROM partial_uploads WHERE image_id = $1`, imageID)
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM partial_uploads WHERE image_id = $1 AND updated_at = $2`,
			imageID, s.d.BindTime(updatedAt))
		return err
	})
}

// StalePartials lists partial uploads that expired or lost their image.
func (s *Store) StalePartials(ctx context.Context, now time.Time, limit int) (_ []*image.Partial, err error) {
	defer s.markUnavailable(&err)
	return s.queryPartials(ctx, `SELECT `+partialColumns+` FROM partial_uploads p
		WHERE p.expires_at < $1 OR NOT EXISTS (SELECT 1 FROM images i WHERE i.id = p.image_id AND i.deleted_at IS NULL)
		ORDER BY p.expires_at, p.image_id LIMIT $2`, s.d.BindTime(now), limit)
}

func (s *Store) queryPartials(ctx context.Context, query string, args ...any) ([]*image.Partial, error) {
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*image.Partial
	for rows.Next() {
		var p image.Partial
		var hash, format, state []byte
		created, updated, expires := s.timeColumn(), s.timeColumn(), s.timeColumn()
		if err := rows.Scan(&p.ImageID, &p.Kind, &p.Owner, &p.Store, &p.Key, &p.Offset, &p.Total,
			&hash, &format, &state, created, updated, expires); err != nil {
			return nil, err
		}
		// The driver may reuse its buffers; the partial keeps copies.
		p.HashState, p.FormatState, p.BlobState = clone(hash), clone(format), clone(state)
		p.CreatedAt, p.UpdatedAt, p.ExpiresAt = created.t, updated.t, expires.t
		out = append(out, &p)
	}
	return out, rows.Err()
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
