package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/glint-image/glint/internal/image"
)

// ListImages returns one page of the images q selects; see listquery.go
// for how q becomes SQL.
func (s *Store) ListImages(ctx context.Context, q image.ListQuery) (_ []*image.Image, err error) {
	defer s.markUnavailable(&err)
	p, err := planList(q, s.d.BindTime)
	if err != nil {
		return nil, err
	}
	marker, limit := q.Marker, q.Limit
	page := func(q querier) ([]*image.Image, error) {
		query := s.selectImages + ` FROM ` + p.from + ` WHERE ` + strings.Join(p.where, " AND ") +
			` ORDER BY ` + p.orderBy() + ` LIMIT ` + p.arg(limit)
		return s.loadImages(ctx, q, query, p.args...)
	}
	if marker == "" {
		return page(pooled{s.r, s})
	}
	var imgs []*image.Image
	err = s.read(ctx, func(tx *Tx) error {
		// The marker is read in the same snapshot as the page, so a write
		// between the two cannot shift the page.
		m, err := markerTuple(ctx, tx, p, marker)
		if err != nil {
			return err
		}
		p.after(m)
		imgs, err = page(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	return imgs, nil
}

// markerTuple reads the sort tuple of the marker image, which must exist
// and not be deleted.
func markerTuple(ctx context.Context, tx *Tx, p *listPlan, id string) ([]any, error) {
	values := make([]any, len(p.order))
	dest := make([]any, len(values))
	for i := range values {
		dest[i] = &values[i]
	}
	err := tx.QueryRowContext(ctx, p.markerQuery(), id).Scan(dest...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, &image.Error{Kind: image.ErrNotFound, Msg: fmt.Sprintf("marker %s not found", id)}
	}
	if err != nil {
		return nil, err
	}
	return values, nil
}
