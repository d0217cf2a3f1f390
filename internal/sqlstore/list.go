package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/glint-image/glint/internal/image"
)

// ListImages returns one page of the images q selects; see listquery.go
// for how q becomes SQL. With the record cache (records.go) it reads the
// page's ids and revisions and loads only the records the cache does not
// hold at those revisions. The images returned may share their
// properties, tags and optional fields with the cache: callers must not
// modify them.
func (s *Store) ListImages(ctx context.Context, q image.ListQuery) (_ []*image.Image, err error) {
	defer s.markUnavailable(&err)
	var imgs []*image.Image
	if s.records != nil {
		stale := false
		err = s.runList(ctx, q, func(qr querier, p *listPlan) error {
			var err error
			imgs, stale, err = s.cachedPage(ctx, qr, p)
			return err
		})
		if err != nil || !stale {
			return imgs, err
		}
		// An image changed between the page's query and the loading of
		// the records it lacked (two statements outside a transaction):
		// list again the whole way, in one statement.
	}
	err = s.runList(ctx, q, func(qr querier, p *listPlan) error {
		var err error
		imgs, err = s.loadImages(ctx, qr, p.sql(s.selectImages), p.args...)
		return err
	})
	if err != nil {
		return nil, err
	}
	return imgs, nil
}

// missBatches are the lengths of the id lists cachedPage loads; a page
// holds at most image.MaxLimit images.
var missBatches = []int{1, 5, 25, 100, 250, image.MaxLimit}

// cachedPage reads the page of p as ids and revisions, takes the records
// the cache holds at those revisions and loads the others in one query.
// stale reports that a loaded record's revision is not the page's (a
// write came between the two statements): the page is then not returned.
func (s *Store) cachedPage(ctx context.Context, qr querier, p *listPlan) (imgs []*image.Image, stale bool, err error) {
	rows, err := qr.QueryContext(ctx, p.recordsSQL(), p.args...)
	if err != nil {
		return nil, false, err
	}
	type slot struct {
		id  string
		rev int64
	}
	var slots []slot
	for rows.Next() {
		var sl slot
		if err := rows.Scan(&sl.id, &sl.rev); err != nil {
			rows.Close()
			return nil, false, err
		}
		slots = append(slots, sl)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, err
	}
	imgs = make([]*image.Image, len(slots))
	var missing []any
	for i, sl := range slots {
		if imgs[i] = s.records.get(sl.id, sl.rev); imgs[i] == nil {
			missing = append(missing, sl.id)
		}
	}
	if len(missing) == 0 {
		return imgs, false, nil
	}
	if s.betweenPageAndLoad != nil {
		s.betweenPageAndLoad()
	}
	// The list of ids is padded to one of a few lengths with repeats of
	// the first, so that the prepared statements (Dialect.CacheStatements)
	// are a few texts, not one per length.
	n := len(missing) // beyond the largest length: as it is
	for _, b := range missBatches {
		if b >= len(missing) {
			n = b
			break
		}
	}
	args := slices.Grow(missing, n-len(missing))
	for len(args) < n {
		args = append(args, missing[0])
	}
	phs := make([]string, len(args))
	for i := range args {
		phs[i] = "$" + strconv.Itoa(i+1)
	}
	loaded := make(map[string]*image.Image, len(missing))
	revs := make(map[string]int64, len(missing))
	r := s.newImageRow()
	rows, err = qr.QueryContext(ctx, s.selectImages+" FROM images WHERE id IN ("+strings.Join(phs, ", ")+")", args...)
	if err != nil {
		return nil, false, err
	}
	for rows.Next() {
		img, err := r.scan(rows)
		if err != nil {
			rows.Close()
			return nil, false, err
		}
		loaded[img.ID], revs[img.ID] = img, r.rev
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, false, err
	}
	for i, sl := range slots {
		if imgs[i] != nil {
			continue
		}
		img, ok := loaded[sl.id]
		if !ok || revs[sl.id] != sl.rev {
			return nil, true, nil
		}
		s.records.put(img, sl.rev, Stamp{})
		cp := *img
		imgs[i] = &cp
	}
	return imgs, false, nil
}

// CountImages counts what q lists, reading at most max+1 rows: each
// branch of the listing stops after max+1 index entries, as a page of
// that size would.
func (s *Store) CountImages(ctx context.Context, q image.ListQuery, max int) (n int, err error) {
	defer s.markUnavailable(&err)
	q.Marker, q.Limit = "", max+1
	err = s.runList(ctx, q, func(qr querier, p *listPlan) error {
		return qr.QueryRowContext(ctx, "SELECT COUNT(*) FROM ("+p.pageSQL()+") AS counted", p.args...).Scan(&n)
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
	// The gate is a statement of its own, asked before the listing (see
	// runList): its plan comes first, so that a probe that reads a whole
	// index is judged as a branch that does would be.
	p, err := s.plan(ctx, q)
	if err != nil {
		return nil, err
	}
	var lines []string
	if p.gate != "" {
		query, args := p.gateSQL()
		err := s.withListSetup(ctx, func(qr querier) (err error) {
			lines, err = s.explain(ctx, qr, query, args)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	err = s.runPlan(ctx, q, p, func(qr querier, p *listPlan) error {
		query := p.sql(s.selectImages)
		if s.records != nil {
			query = p.recordsSQL() // what ListImages runs
		}
		more, err := s.explain(ctx, qr, query, p.args)
		lines = append(lines, more...)
		return err
	})
	return lines, err
}

// explain returns the plan of query as lines of text, indented by depth.
func (s *Store) explain(ctx context.Context, qr querier, query string, args []any) ([]string, error) {
	rows, err := qr.QueryContext(ctx, s.d.Explain+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var lines []string
	depth := map[int]int{} // SQLite: node id -> depth
	for rows.Next() {
		if len(cols) == 1 { // PostgreSQL: the text is already indented
			var line string
			if err := rows.Scan(&line); err != nil {
				return nil, err
			}
			lines = append(lines, line)
			continue
		}
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			return nil, err
		}
		depth[id] = depth[parent] + 1
		lines = append(lines, strings.Repeat("  ", depth[id]-1)+detail)
	}
	return lines, rows.Err()
}

// runList plans q and runs the plan (runPlan).
func (s *Store) runList(ctx context.Context, q image.ListQuery, run func(qr querier, p *listPlan) error) error {
	p, err := s.plan(ctx, q)
	if err != nil {
		return err
	}
	return s.runPlan(ctx, q, p, run)
}

// plan plans the listing q, with the tag or property it may drive by.
func (s *Store) plan(ctx context.Context, q image.ListQuery) (*listPlan, error) {
	rare, err := s.rarestSet(ctx, q)
	if err != nil {
		return nil, err
	}
	return planList(q, &s.d, rare)
}

// runPlan calls run with p, the plan of q, after reading the marker's
// sort tuple into it if there is one. It does not call run when the
// plan's gate shows that nothing is listed and there is no marker to
// check.
func (s *Store) runPlan(ctx context.Context, q image.ListQuery, p *listPlan, run func(qr querier, p *listPlan) error) error {
	if p.gate != "" {
		// Outside the listing's snapshot, like the counts: if no image
		// at all was in the range a moment ago, the empty page is the
		// answer of that moment.
		query, args := p.gateSQL()
		var open int
		err := s.withListSetup(ctx, func(qr querier) error {
			return qr.QueryRowContext(ctx, query, args...).Scan(&open)
		})
		if err != nil {
			return err
		}
		if open == 0 && q.Marker == "" {
			return nil // nothing to list, nor a marker to check
		}
		if open == 0 {
			p.and("1 = 0")
		}
		p.gate = ""
	}
	setup := s.d.ListSetup
	if len(p.branches) == 1 && p.branches[0].drive == nil {
		setup = "" // one index range of the planner's choosing
	}
	if q.Marker == "" && setup == "" {
		return run(pooled{s.r, s}, p)
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
		return run(tx, p)
	})
}

// withListSetup runs fn with the dialect's listing setup (PostgreSQL's
// planner told to read indexes, Dialect.ListSetup) in a read transaction
// of its own, or on the pool when the dialect has none. A gate's probes
// need it as the branches do: on a small table PostgreSQL otherwise
// scans it for the first row in range, which reads all of it when none
// is.
func (s *Store) withListSetup(ctx context.Context, fn func(qr querier) error) error {
	if s.d.ListSetup == "" {
		return fn(pooled{s.r, s})
	}
	return s.read(ctx, func(tx *Tx) error {
		if _, err := tx.tx.ExecContext(ctx, s.d.ListSetup); err != nil {
			return err
		}
		return fn(tx)
	})
}

// rarestSet counts the rows of each tag and property q could drive by
// (setCandidates), up to s.setDriveRows+1 each, and returns the one with
// the fewest if it has at most s.setDriveRows, else nil. A count is one
// short range of the set's index, read outside the listing's snapshot:
// it only chooses the plan, and either plan lists the same images.
func (s *Store) rarestSet(ctx context.Context, q image.ListQuery) (*rareSet, error) {
	var rarest *rareSet
	fewest := s.setDriveRows + 1
	for _, set := range setCandidates(q) {
		query, args := set.countSQL(s.setDriveRows + 1)
		var n int
		if err := (pooled{s.r, s}).QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
			return nil, err
		}
		if n < fewest {
			rarest, fewest = &set, n
		}
	}
	return rarest, nil
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

// SetRecordCache sets how many decoded image records the store keeps
// for listings (records.go); 0 keeps none, and every listing loads its
// records. Call it before the store is used.
func (s *Store) SetRecordCache(n int) { s.records = newRecordCache(n) }

// SetSetDriveRows sets how many images may carry a tag or property for
// a listing in another order than creation's to read them all and sort
// them (DefaultSetDriveRows). The plan tests lower it, so
// that their small catalog has sets on both sides of the bound. Call it
// before the store is used.
func (s *Store) SetSetDriveRows(n int) { s.setDriveRows = n }

// RecordsCached is how many image records the store's cache holds (for
// tests and diagnostics).
func (s *Store) RecordsCached() int {
	if s.records == nil {
		return 0
	}
	return s.records.len()
}
