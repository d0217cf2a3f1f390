package plantest

import (
	"fmt"
	"regexp"
	"strings"
)

// SQLite judges an EXPLAIN QUERY PLAN (indented by ExplainList). Every
// table must be reached through an index (SEARCH, never SCAN: only the
// listing's own subqueries b0, b1, ... and page may be scanned), and rows
// may be sorted only after a branch's LIMIT (the merge) or when an
// equality on a nearly unique column found them (a name, an id, a
// checksum). A sort beside a range on visibility, owner, a tag or the
// caller's memberships would sort every row of that range, so it fails:
// memberships carry every sort key (migration 00029), and a branch that
// sorted them would read all of the caller's memberships, which the
// growth check cannot see (catalog memberships do not grow). SQLite's incremental sort of
// ties ("RIGHT PART OF ORDER BY", for a second sort key) is allowed, and
// so is a sort of the rows of one tag or property (tg0, pr0): the store
// reads a set whole only when few images carry it (see Check), which
// PostgreSQL's growth check holds it to. So is a sort of the memberships
// in a range of their copy of a size or time (memberRange): the store
// reads such a range only when a probe found at most a page in it.
func SQLite(plan []string, _ int) string {
	type node struct {
		depth  int
		detail string
		parent int
	}
	nodes := make([]node, len(plan))
	last := map[int]int{} // depth -> index of the last node seen there
	for i, line := range plan {
		d := (len(line) - len(strings.TrimLeft(line, " "))) / 2
		parent := -1
		if d > 0 {
			parent = last[d-1]
		}
		nodes[i] = node{d, strings.TrimSpace(line), parent}
		last[d] = i
	}
	var problems []string
	for i, n := range nodes {
		if m := sqliteScan.FindStringSubmatch(n.detail); m != nil && !ownSubquery.MatchString(m[1]) {
			problems = append(problems, "reads all of "+m[1]+": "+n.detail)
		}
		if n.detail != "USE TEMP B-TREE FOR ORDER BY" {
			continue
		}
		for j, s := range nodes {
			// A correlated EXISTS probes one key per row; it is not where
			// the rows come from.
			if j != i && s.parent == n.parent && strings.HasPrefix(s.detail, "SEARCH ") &&
				!strings.Contains(s.detail, " EXISTS ") && !selective.MatchString(s.detail) && !rareSet.MatchString(s.detail) && !memberRange.MatchString(s.detail) {
				problems = append(problems, "sorts every row of "+s.detail)
			}
		}
	}
	return strings.Join(problems, "; ")
}

var (
	sqliteScan = regexp.MustCompile(`^SCAN (\S+)`)
	// The listing's own subqueries, and the gate's SELECT of no table.
	ownSubquery = regexp.MustCompile(`^(b\d+|page|CONSTANT)$`)
	// An equality on a column that names one image or a handful (a
	// creation time is one instant: a marker's ties). A name prefix is a
	// range of the name index that holds only the names with that prefix.
	selective = regexp.MustCompile(`[( ](id|name|checksum|os_hash_value|created_at)=\?|[( ]name>=?\?|\(name >= |\(COALESCE\(name, ''::text\)=\?`)
	// The rows of one tag or property that a sorted listing drives by.
	rareSet = regexp.MustCompile(`^SEARCH (tg0|pr0) `)
	// The memberships in a range of a copy that at most a page is in.
	memberRange = regexp.MustCompile(`^SEARCH m USING (COVERING )?INDEX image_members_member_(size|created_at|updated_at) \(member=\? AND status=\? AND image_(size|created_at|updated_at)[<>]`)
)

// Postgres judges an EXPLAIN ANALYZE by the same rules as SQLite: a
// table is read through an index condition (no sequential scan, no walk
// of a whole index with a filter), and rows are sorted only after a
// branch's LIMIT, when a nearly unique column found them, or when they
// are one tag's or property's (the growth check bounds those). It also
// counts the rows the scans read (returned and filtered out, times
// loops), which Check logs.
func Postgres(plan []string, _ int) string {
	var problems []string
	for i, line := range plan {
		m := pgScan.FindStringSubmatch(line)
		if m == nil {
			// An incremental sort orders the ties of an index's first
			// key, group by group, and stops with the LIMIT.
			if pgSort.MatchString(line) && !strings.Contains(line, "Incremental Sort") && i+1 < len(plan) {
				// A join's rows come from its first child (the
				// memberships of a branch of shares, looked up image by
				// image): that is the scan the sort reads all of.
				child := nextNode(plan, i)
				for child >= 0 && strings.Contains(plan[child], "Nested Loop") {
					child = nextNode(plan, child)
				}
				if child >= 0 && pgScan.MatchString(plan[child]) {
					cond := nodeLine(plan, child, "Index Cond:")
					if cond == "" { // a bitmap scan's condition
						cond = nodeLine(plan, child, "Recheck Cond:")
					}
					if !selective.MatchString(strings.ReplaceAll(cond, " = ", "=?")) && !pgSet.MatchString(plan[child]) {
						problems = append(problems, "sorts every row of "+strings.TrimSpace(plan[child])+" "+cond)
					}
				}
			}
			continue
		}
		table := m[1]
		if strings.Contains(line, "Seq Scan") {
			problems = append(problems, "reads all of "+table+": "+strings.TrimSpace(line))
		} else if strings.Contains(line, "Index") && !strings.Contains(line, "Bitmap") && nodeLine(plan, i, "Index Cond:") == "" {
			problems = append(problems, "walks a whole index of "+table+": "+strings.TrimSpace(line))
		}
	}
	return strings.Join(problems, "; ")
}

// RowsRead sums what the scans of an EXPLAIN ANALYZE read: rows returned
// and removed by a filter, times loops.
func RowsRead(plan []string) int {
	total := 0
	for i, line := range plan {
		m := pgRows.FindStringSubmatch(line)
		if m == nil || !pgScan.MatchString(line) {
			continue
		}
		var rows, loops int
		if _, err := fmt.Sscanf(m[1]+" "+m[2], "%d %d", &rows, &loops); err != nil {
			continue // pgRows matched digits; this cannot happen
		}
		var removed int // stays 0 when the node has no such line
		_, _ = fmt.Sscanf(nodeLine(plan, i, "Rows Removed by Filter:"), "Rows Removed by Filter: %d", &removed)
		total += (rows + removed) * loops
	}
	return total
}

func depthOf(line string) int { return len(line) - len(strings.TrimLeft(line, " ")) }

// nodeLine returns the detail line of node i that starts with prefix.
func nodeLine(plan []string, i int, prefix string) string {
	for _, more := range plan[i+1:] {
		if depthOf(more) <= depthOf(plan[i]) || strings.Contains(more, "->") {
			break
		}
		if t := strings.TrimSpace(more); strings.HasPrefix(t, prefix) {
			return t
		}
	}
	return ""
}

// nextNode returns the index of node i's first child, or -1.
func nextNode(plan []string, i int) int {
	for j := i + 1; j < len(plan); j++ {
		if depthOf(plan[j]) <= depthOf(plan[i]) && strings.Contains(plan[j], "->") {
			return -1
		}
		if strings.Contains(plan[j], "->") {
			return j
		}
	}
	return -1
}

var (
	pgScan = regexp.MustCompile(`(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan)(?: Backward)?(?: using \S+)? on (images|image_members|image_tags|image_properties)\b`)
	pgSort = regexp.MustCompile(`->  (?:Incremental )?Sort \(`)
	pgSet  = regexp.MustCompile(` on (image_tags|image_properties) (tg0|pr0)\b`)
	pgRows = regexp.MustCompile(`\(actual rows=(\d+)(?:\.\d+)? loops=(\d+)\)`)
)
