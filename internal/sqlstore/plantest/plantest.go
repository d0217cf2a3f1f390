// Package plantest proves that every listing shape of imagetest's catalog
// reads an index range in order and stops after a page, on each SQL
// backend: its tests call Check with their store.
package plantest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/image/catalog"
	"github.com/glint-image/glint/internal/sqlstore"
)

// Explainer is what Check needs of a store: sqlstore.Store has it.
type Explainer interface {
	image.Store
	ExplainList(ctx context.Context, q image.ListQuery) ([]string, error)
	Analyze(ctx context.Context) error
	SetSetDriveRows(n int)
}

var _ Explainer = (*sqlstore.Store)(nil)

// catalogSize is large enough that reading the whole catalog, or a whole
// visibility class, is many pages; each shape's page is small (limit 10).
const catalogSize = 3000

// Check seeds the catalog in s (empty) and checks the plan of every shape,
// first page and a page after a marker, with judge, which returns what is
// wrong with a plan ("" when nothing). known names the shapes the backend
// may plan badly, with the reason: their plans are logged instead (the
// planner's choice can differ from one sample of statistics to the next).
//
// Where the plan says how many rows it read (PostgreSQL's EXPLAIN
// ANALYZE, RowsRead), Check then doubles the catalog and asks the same
// shapes again: a shape that reads more than growthLimit times as many
// rows at twice the size grows with the catalog, and fails, whatever
// indexes its plan names. (The caller's memberships do not grow with the
// catalog: a branch that reads all of them stays constant.)
func Check(t *testing.T, s Explainer, judge func(plan []string, limit int) string, known map[string]string) {
	// A sorted listing reads a tag's rows whole and sorts them when few
	// images carry it (sqlstore.DefaultSetDriveRows, a thousand). Here
	// the bound is a hundredth of the catalog, so that the catalog has
	// tags on both sides of it: "rare" below (tag-rare-sort-name), t7
	// above (tag-sort-name), and the growth check sees a set that is
	// wrongly read whole.
	s.SetSetDriveRows(catalogSize / 100)
	if err := catalog.Seed(t.Context(), s, 0, catalogSize); err != nil {
		t.Fatal(err)
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
	shapes := catalog.Shapes(catalogSize)
	before := explainAll(t, s, shapes, judge, known)
	counted := false
	for _, n := range before {
		counted = counted || n > 0
	}
	if !counted {
		return
	}
	if err := catalog.Seed(t.Context(), s, catalogSize, 2*catalogSize); err != nil {
		t.Fatal(err)
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
	after := explainAll(t, s, shapes, judge, known)
	compare(t, before, after, known, fmt.Sprintf("at %d images and %%d at %d: it grows with the catalog", catalogSize, 2*catalogSize))

	// Deleted images stay in the table (a soft delete) and no listing
	// shows them, so they must cost none: the newest images of a cloud
	// that makes and deletes snapshots are deleted ones, which a
	// newest-first listing would otherwise step over on every page.
	if err := catalog.SeedDeleted(t.Context(), s, 2*catalogSize, 3*catalogSize); err != nil {
		t.Fatal(err)
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
	gone := explainAll(t, s, shapes, judge, known)
	compare(t, after, gone, known, fmt.Sprintf("before %d images were made and deleted and %%d after: deleted images cost it", catalogSize))
}

// compare fails each shape that reads more than growthLimit times as
// many rows in now as in was; msg describes it, with a %d for now's count.
func compare(t *testing.T, was, now map[string]int, known map[string]string, msg string) {
	for _, name := range slices.Sorted(maps.Keys(was)) {
		b, a := was[name], now[name]
		if float64(a) <= growthLimit*float64(b)+growthSlack {
			continue
		}
		m := fmt.Sprintf("reads %d rows "+msg, b, a)
		if reason, ok := known[name]; ok {
			t.Logf("%s: known: %s: %s", name, reason, m)
		} else {
			t.Errorf("%s: %s", name, m)
		}
	}
}

// A shape that reads O(page) rows reads about as many at any catalog
// size; one that reads a share of the catalog reads twice as many at
// twice the size. The slack absorbs a page's worth of rows that the
// planner's choice of branch order can add.
const (
	growthLimit = 1.4
	growthSlack = 40
)

// explainAll judges the plan of every shape, first page and a page after
// a marker, and returns the rows each read (0 where the plan does not
// say), by name.
func explainAll(t *testing.T, s Explainer, shapes []catalog.Shape, judge func(plan []string, limit int) string, known map[string]string) map[string]int {
	read := map[string]int{}
	for _, sh := range shapes {
		q := sh.Query
		q.Limit = max(q.Limit/20, 10) // 25 -> 10, 1000 -> 50: pages far smaller than the catalog
		first, err := s.ListImages(t.Context(), q)
		if err != nil {
			t.Fatalf("%s: %v", sh.Name, err)
		}
		pages := []image.ListQuery{q}
		if len(first) > 1 {
			next := q
			next.Marker = first[len(first)/2].ID
			pages = append(pages, next)
		}
		for _, page := range pages {
			name := sh.Name
			if page.Marker != "" {
				name += "/marker"
			}
			start := time.Now()
			plan, err := s.ExplainList(t.Context(), page)
			if d := time.Since(start); d > time.Second {
				t.Logf("%s: explained in %v", name, d)
			}
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			read[name] = RowsRead(plan)
			msg := judge(plan, page.Limit)
			if msg != "" || testing.Verbose() {
				t.Logf("%s (%d rows read):\n%s", name, read[name], indent(plan))
			}
			switch reason, isKnown := known[name]; {
			case isKnown && msg != "":
				t.Logf("%s: known: %s: %s", name, reason, msg)
			case msg != "":
				t.Errorf("%s: %s", name, msg)
			}
		}
	}
	return read
}

func indent(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "    " + l + "\n"
	}
	return out
}
