// Package plantest proves that every listing shape of imagetest's catalog
// reads an index range in order and stops after a page, on each SQL
// backend: its tests call Check with their store.
package plantest

import (
	"context"
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
func Check(t *testing.T, s Explainer, judge func(plan []string, limit int) string, known map[string]string) {
	if err := catalog.Seed(t.Context(), s, 0, catalogSize); err != nil {
		t.Fatal(err)
	}
	if err := s.Analyze(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, sh := range catalog.Shapes(catalogSize) {
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
			msg := judge(plan, page.Limit)
			if msg != "" || testing.Verbose() {
				t.Logf("%s (%d rows read):\n%s", name, RowsRead(plan), indent(plan))
			}
			switch reason, isKnown := known[name]; {
			case isKnown && msg != "":
				t.Logf("%s: known: %s: %s", name, reason, msg)
			case msg != "":
				t.Errorf("%s: %s", name, msg)
			}
		}
	}
}

func indent(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "    " + l + "\n"
	}
	return out
}
