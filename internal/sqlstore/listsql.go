package sqlstore

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The plan rendered as SQL: each branch's rows after the marker, merged
// and cut to a page.

// after restricts the listing to rows that come after the marker row, whose
// sort tuple is marker: keyset pagination over the whole tuple,
//
//	(k1 > m1) OR (k1 = m1 AND k2 > m2) OR ...
//
// with < for descending keys. The tuple ends in id, so it is a total order
// and ties on every other key are still paged exactly once. Each term of
// the OR is one index range (equal on a prefix, a bound on the next key),
// so each becomes a branch of its own (see terms).
func (p *listPlan) after(marker []any) {
	p.marker = make([]string, len(marker))
	for i, v := range marker {
		p.marker[i] = p.arg(v)
	}
}

// terms returns the marker's keyset terms as b writes them, one list of
// ANDed conditions each; without a marker, one empty term.
func (p *listPlan) terms(b branch) [][]string {
	if p.marker == nil {
		return [][]string{nil}
	}
	terms := make([][]string, len(p.order))
	for i, k := range p.order {
		var conds []string
		for j := range i {
			conds = append(conds, b.expr(p.order[j])+" = "+p.marker[j])
		}
		op := " > "
		if k.desc {
			op = " < "
		}
		terms[i] = append(conds, b.expr(k)+op+p.marker[i])
	}
	return terms
}

// sql renders the listing: each branch's page (per marker term), merged
// and cut to one page of ids and sort keys, joined to the images it names.
func (p *listPlan) sql(selectImages string) string {
	keys := func(i int, _ orderKey) string { return "k" + strconv.Itoa(i) }
	return selectImages + " FROM (" + p.pageSQL() + ") AS page JOIN images ON " + p.rowKey + " = page.pid ORDER BY " +
		p.orderBy(func(i int, k orderKey) string { return "page." + keys(i, k) })
}

// recordsSQL is the page as its images' ids and revisions, in order: all
// a listing reads when the store's cache holds its records (records.go).
// The branches read each image's row anyway (its status, deleted_at and
// os_hidden are in no branch index), so the revision costs no seek.
func (p *listPlan) recordsSQL() string {
	return "SELECT page.iid, page.rev FROM (" + p.pageSQL() + ") AS page ORDER BY " +
		p.orderBy(func(i int, _ orderKey) string { return "page.k" + strconv.Itoa(i) })
}

// pageSQL is the page of ids and sort keys: one branch's, or the merge of
// the branches' pages. Each row also carries the image's id and revision
// (iid, rev) for recordsSQL.
//
// The branches are disjoint (see visibility: a membership branch leaves
// out the caller's own images, which its owned branches list), so the
// merge is a UNION ALL, which needs no comparison of whole rows. Its
// ORDER BY and LIMIT apply to every arm. Where the database merges
// lazily (Dialect.LazyMerge), an arm that is a plain SELECT walks its
// index in that order and the merge reads from it only the rows the page
// takes, where an arm with its own ORDER BY ... LIMIT (a subquery) is
// read to its LIMIT and sorted again before it is merged: on a page of
// 1000 from five branches, 1000 rows read instead of 5000. Elsewhere,
// and where the LIMIT matters, an arm keeps its own LIMIT: the bounded
// scan of a substring search, a marker's term that fixes its first keys
// (SQLite sees no order in an expression index under an equality on the
// expression).
func (p *listPlan) pageSQL() string {
	keys := func(i int, _ orderKey) string { return "k" + strconv.Itoa(i) }
	cols := "pid, iid, rev"
	for i := range p.order {
		cols += ", k" + strconv.Itoa(i)
	}
	type arm struct {
		b     branch
		term  []string
		fixed int
	}
	var arms []arm
	for _, b := range p.branches {
		for i, term := range p.terms(b) {
			arms = append(arms, arm{b, term, i})
		}
	}
	if len(arms) == 1 {
		return p.branchSQL(arms[0].b, arms[0].term, arms[0].fixed)
	}
	pages := make([]string, len(arms))
	for i, a := range arms {
		if p.lazyMerge && p.contains == "" && a.fixed == 0 {
			pages[i] = p.armSQL(a.b, a.term)
			continue
		}
		pages[i] = "SELECT " + cols + " FROM (" + p.branchSQL(a.b, a.term, a.fixed) + ") AS b" + strconv.Itoa(i)
	}
	return strings.Join(pages, " UNION ALL ") + " ORDER BY " + p.orderBy(keys) + " LIMIT " + p.limit
}

// from is b's FROM clause, with the index its walked table is read
// through when the planner must be told (Dialect.IndexedBy).
func (p *listPlan) from(b branch) string {
	if b.index != "" && p.indexedBy != nil {
		walked, joined, found := strings.Cut(b.from, " CROSS JOIN ")
		if found {
			joined = " CROSS JOIN " + joined
		}
		return walked + p.indexedBy(b.index) + joined
	}
	if b.indexes == nil || p.indexedBy == nil || p.indexOrdered() {
		return b.from
	}
	// The hint goes to the first table, the one the branch walks.
	walked, joined, found := strings.Cut(b.from, " CROSS JOIN ")
	from := walked + p.indexedBy(b.indexes(p.order[0].key))
	if found {
		from += " CROSS JOIN " + joined
	}
	return from
}

// branchCols are the columns of a branch's rows: the row key, the
// image's id and revision, and the sort tuple as the branch reads it.
func (p *listPlan) branchCols(b branch) string {
	cols := p.rowKey + " AS pid, images.id AS iid, images.revision AS rev"
	for i, k := range p.order {
		cols += ", " + b.expr(k) + " AS k" + strconv.Itoa(i)
	}
	return cols
}

// armSQL is a branch's rows after term as one arm of the merge, ordered
// and cut by the merge's ORDER BY and LIMIT (see pageSQL).
func (p *listPlan) armSQL(b branch, term []string) string {
	from := p.from(b)
	return "SELECT " + p.branchCols(b) + " FROM " + from + " WHERE " + strings.Join(slices.Concat(p.where, b.where, term), " AND ")
}

// branchSQL is one branch's page of ids and sort keys, after term; the
// term holds the first fixed keys equal to the marker's, which it leaves
// out of its ORDER BY (SQLite sees no order in an index otherwise when
// the fixed key is an expression).
func (p *listPlan) branchSQL(b branch, term []string, fixed int) string {
	cols := p.branchCols(b)
	where := slices.Concat(p.where, b.where, term)
	rest := &listPlan{order: p.order[fixed:]}
	from := p.from(b)
	limit, scan := p.limit, p.scan
	if p.contains == "" {
		return "SELECT " + cols + " FROM " + from + " WHERE " + strings.Join(where, " AND ") +
			" ORDER BY " + rest.orderBy(func(_ int, k orderKey) string { return b.expr(k) }) + " LIMIT " + limit
	}
	// A substring search reads the branch's next rows in order, at most
	// p.scan of them, and keeps a page of those whose name holds it.
	keys := "pid, iid, rev"
	for i := range p.order {
		keys += ", k" + strconv.Itoa(i)
	}
	scanned := "SELECT " + cols + ", images.name AS nm FROM " + from + " WHERE " + strings.Join(where, " AND ") +
		" ORDER BY " + rest.orderBy(func(_ int, k orderKey) string { return b.expr(k) }) + " LIMIT " + scan
	return "SELECT " + keys + " FROM (" + scanned + ") AS s WHERE " + p.contains +
		" ORDER BY " + rest.orderBy(func(i int, _ orderKey) string { return "s.k" + strconv.Itoa(i+fixed) }) + " LIMIT " + p.limit
}

// markerQuery selects the marker row's sort tuple; $1 is its id.
func (p *listPlan) markerQuery() string {
	exprs := make([]string, len(p.order))
	for i, k := range p.order {
		exprs[i] = k.expr
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM images WHERE images.id = $1 AND images.deleted_at IS NULL"
}

// indexOrdered reports whether a branch's index gives the whole sort
// tuple: one key then created_at and id (or id alone), all in one
// direction. Otherwise (two keys, or directions mixed) the branch walks
// its first key's index and sorts the ties of each of its values, which
// with a LIMIT stops after a page and the ties of its last value.
func (p *listPlan) indexOrdered() bool {
	for _, k := range p.order {
		if k.desc != p.order[0].desc {
			return false
		}
	}
	switch len(p.order) {
	case 1:
		return p.order[0].key == "id"
	case 2:
		return p.order[0].key == "created_at" && p.order[1].key == "id"
	case 3:
		return p.order[1].key == "created_at" && p.order[2].key == "id"
	}
	return false
}

// gateSQL is the plan's gate as a query of its own, with its own
// arguments: the gate's placeholders renumbered in order, each bound to
// the value it had in the plan (PostgreSQL rejects an argument that the
// text does not use).
func (p *listPlan) gateSQL() (string, []any) {
	var args []any
	seen := map[string]string{}
	text := placeholder.ReplaceAllStringFunc(p.gate, func(ph string) string {
		if re, ok := seen[ph]; ok {
			return re
		}
		n, _ := strconv.Atoi(ph[1:]) // the pattern holds only digits
		args = append(args, p.args[n-1])
		seen[ph] = "$" + strconv.Itoa(len(args))
		return seen[ph]
	})
	return "SELECT CASE WHEN " + text + " THEN 1 ELSE 0 END", args
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)
