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
	var imgs []*image.Image
	err = s.runList(ctx, q, func(qr querier, query string, args []any) error {
		var err error
		imgs, err = s.loadImages(ctx, qr, query, args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return imgs, nil
}

// CountImages counts what q lists, reading at most max+1 rows: each
// branch of the listing stops after max+1 index entries, as a page of
// that size would.
func (s *Store) CountImages(ctx context.Context, q image.ListQuery, max int) (n int, err error) {
	defer s.markUnavailable(&err)
	q.Marker, q.Limit = "", max+1
	err = s.runList(ctx, q, func(qr querier, _ string, args []any) error {
		p, err := planList(q, &s.d)
		if err != nil {
			return err
		}
		return qr.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+p.pageSQL()+") AS counted", args...).Scan(&n)
	})
	return n, err
}

// ExplainList returns the database's plan for the listing q, one line per
// step, indented by depth: SQLite's EXPLAIN QUERY PLAN, or PostgreSQL's
// EXPLAIN ANALYZE with the rows each step actually read (Dialect.Explain).
// Tests use it to prove that every listing reads an index range in order.
func (s *Store) ExplainList(ctx context.Context, q image.ListQuery) ([]string, error) {
	if s.d.Explain == "" {
		return nil, fmt.Errorf("%s: no EXPLAIN in the dialect", s.d.Name)
	}
	var lines []string
	err := s.runList(ctx, q, func(qr querier, query string, args []any) error {
		rows, err := qr.QueryContext(ctx, s.d.Explain+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		depth := map[int]int{} // SQLite: node id -> depth
		for rows.Next() {
			if len(cols) == 1 { // PostgreSQL: the text is already indented
				var line string
				if err := rows.Scan(&line); err != nil {
					return err
				}
				lines = append(lines, line)
				continue
			}
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				return err
			}
			depth[id] = depth[parent] + 1
			lines = append(lines, strings.Repeat("  ", depth[id]-1)+detail)
		}
		return rows.Err()
	})
	return lines, err
}

// runList plans q and calls run with the listing's SQL and arguments,
// after reading the marker's sort tuple if there is one.
func (s *Store) runList(ctx context.Context, q image.ListQuery, run func(qr querier, query string, args []any) error) error {
	p, err := planList(q, &s.d)
	if err != nil {
		return err
	}
	setup := s.d.ListSetup
	if len(p.branches) == 1 && p.branches[0].drive == nil {
		setup = "" // one index range of the planner's choosing
	}
	if q.Marker == "" && setup == "" {
		return run(pooled{s.r, s}, p.sql(s.selectImages), p.args)
	}
	return s.read(ctx, func(tx *Tx) error {
		if setup != "" {
			if _, err := tx.tx.ExecContext(ctx, setup); err != nil {
				return err
			}
		}
		if q.Marker != "" {
			// The marker is read in the same snapshot as the page, so a
			// write between the two cannot shift the page.
			m, err := markerTuple(ctx, tx, p, q.Marker)
			if err != nil {
				return err
			}
			p.after(m)
		}
		return run(tx, p.sql(s.selectImages), p.args)
	})
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
