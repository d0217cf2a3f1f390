package sqlstore

import (
	"regexp"
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
	w := p.text()
	w.WriteString(selectImages)
	w.WriteString(" FROM (")
	p.writePage(w)
	w.WriteString(") AS page JOIN images ON ")
	w.WriteString(p.rowKey)
	w.WriteString(" = page.pid ORDER BY ")
	writeOrder(w, p.order, pageKey("page.k", 0))
	return w.String()
}

// recordsSQL is the page as its images' ids and revisions, in order: all
// a listing reads when the store's cache holds its records (records.go).
// The branches read each image's row anyway, for the conditions their
// indexes do not hold (its status, but in the status order; protected),
// so the revision costs no seek.
func (p *listPlan) recordsSQL() string {
	w := p.text()
	w.WriteString("SELECT page.iid, page.rev FROM (")
	p.writePage(w)
	w.WriteString(") AS page ORDER BY ")
	writeOrder(w, p.order, pageKey("page.k", 0))
	return w.String()
}

// pageSQL is the page of ids and sort keys alone (see writePage).
func (p *listPlan) pageSQL() string {
	w := p.text()
	p.writePage(w)
	return w.String()
}

// text is a builder for the plan's SQL, sized for its branches: the
// listing is rendered on every request, into one buffer (rendered piece
// by piece with +, it made 63 allocations for a member's listing).
func (p *listPlan) text() *strings.Builder {
	arms := len(p.branches)
	if p.marker != nil {
		arms *= len(p.order)
	}
	w := new(strings.Builder)
	w.Grow(128 + 384*arms) // a member's five branches: 1.8 KB
	return w
}

// writePage writes the page of ids and sort keys: one branch's, or the
// merge of the branches' pages. Each row also carries the image's id and
// revision (iid, rev) for recordsSQL.
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
func (p *listPlan) writePage(w *strings.Builder) {
	common := strings.Join(p.where, " AND ")
	arms := len(p.branches)
	if p.marker != nil {
		arms *= len(p.order) // one per keyset term (see terms)
	}
	if arms == 1 {
		p.writeBranch(w, common, p.branches[0], p.terms(p.branches[0])[0], 0)
		return
	}
	arm := 0
	for _, b := range p.branches {
		for fixed, term := range p.terms(b) {
			if arm > 0 {
				w.WriteString(" UNION ALL ")
			}
			if p.lazyMerge && p.contains == "" && fixed == 0 {
				p.writeArm(w, common, b, term)
			} else {
				w.WriteString("SELECT pid, iid, rev")
				for k := range p.order {
					w.WriteString(", k")
					w.WriteString(strconv.Itoa(k))
				}
				w.WriteString(" FROM (")
				p.writeBranch(w, common, b, term, fixed)
				w.WriteString(") AS b")
				w.WriteString(strconv.Itoa(arm))
			}
			arm++
		}
	}
	w.WriteString(" ORDER BY ")
	writeOrder(w, p.order, pageKey("k", 0))
	w.WriteString(" LIMIT ")
	w.WriteString(p.limit)
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

// writeSelect writes "SELECT <cols> FROM <from> WHERE <conds>" of a
// branch's rows after term. The columns are the row key, the image's id
// and revision, the sort tuple as the branch reads it, then extra; the
// conditions are those every branch applies (common, already joined),
// the branch's own and the term's.
func (p *listPlan) writeSelect(w *strings.Builder, common string, b branch, term []string, extra string) {
	w.WriteString("SELECT ")
	w.WriteString(p.rowKey)
	w.WriteString(" AS pid, images.id AS iid, images.revision AS rev")
	for i, k := range p.order {
		w.WriteString(", ")
		w.WriteString(b.expr(k))
		w.WriteString(" AS k")
		w.WriteString(strconv.Itoa(i))
	}
	w.WriteString(extra)
	w.WriteString(" FROM ")
	w.WriteString(p.from(b))
	w.WriteString(" WHERE ")
	sep := ""
	if common != "" {
		w.WriteString(common)
		sep = " AND "
	}
	for _, conds := range [2][]string{b.where, term} {
		for _, c := range conds {
			w.WriteString(sep)
			w.WriteString(c)
			sep = " AND "
		}
	}
}

// writeArm writes a branch's rows after term as one arm of the merge,
// ordered and cut by the merge's ORDER BY and LIMIT (see writePage).
func (p *listPlan) writeArm(w *strings.Builder, common string, b branch, term []string) {
	p.writeSelect(w, common, b, term, "")
}

// writeBranch writes one branch's page of ids and sort keys, after term;
// the term holds the first fixed keys equal to the marker's, which it
// leaves out of its ORDER BY (SQLite sees no order in an index otherwise
// when the fixed key is an expression).
func (p *listPlan) writeBranch(w *strings.Builder, common string, b branch, term []string, fixed int) {
	rest := p.order[fixed:]
	asRead := func(w *strings.Builder, _ int, k orderKey) { w.WriteString(b.expr(k)) }
	if p.contains == "" {
		p.writeSelect(w, common, b, term, "")
		w.WriteString(" ORDER BY ")
		writeOrder(w, rest, asRead)
		w.WriteString(" LIMIT ")
		w.WriteString(p.limit)
		return
	}
	// A substring search reads the branch's next rows in order, at most
	// p.scan of them, and keeps a page of those whose name holds it.
	w.WriteString("SELECT pid, iid, rev")
	for i := range p.order {
		w.WriteString(", k")
		w.WriteString(strconv.Itoa(i))
	}
	w.WriteString(" FROM (")
	p.writeSelect(w, common, b, term, ", images.name AS nm")
	w.WriteString(" ORDER BY ")
	writeOrder(w, rest, asRead)
	w.WriteString(" LIMIT ")
	w.WriteString(p.scan)
	w.WriteString(") AS s WHERE ")
	w.WriteString(p.contains)
	w.WriteString(" ORDER BY ")
	writeOrder(w, rest, pageKey("s.k", fixed))
	w.WriteString(" LIMIT ")
	w.WriteString(p.limit)
}

// writeOrder writes the sort tuple order, each key as key writes it.
func writeOrder(w *strings.Builder, order []orderKey, key func(w *strings.Builder, i int, k orderKey)) {
	for i, k := range order {
		if i > 0 {
			w.WriteString(", ")
		}
		key(w, i, k)
		if k.desc {
			w.WriteString(" DESC")
		} else {
			w.WriteString(" ASC")
		}
	}
}

// pageKey writes the i-th key of the tuple as a column of a page's rows:
// prefix then its number in the whole tuple (offset keys precede it).
func pageKey(prefix string, offset int) func(w *strings.Builder, i int, k orderKey) {
	return func(w *strings.Builder, i int, _ orderKey) {
		w.WriteString(prefix)
		w.WriteString(strconv.Itoa(i + offset))
	}
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
