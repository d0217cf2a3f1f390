package sqlstore

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// This file turns an image.ListQuery into SQL. It only builds text and
// arguments; list.go runs it. The SQL is kept to what SQLite and PostgreSQL
// both accept ($n placeholders, COALESCE, EXISTS), and every value a caller
// supplies is bound, never spliced: identifiers come only from the fixed
// tables below, after the caller's names were checked against them, and
// the few literals (visibilities, member statuses) from fixed lists. The
// dialect-specific parts are how a time is bound (Dialect.BindTime) and
// how a column is kept off its index (Dialect.NoIndex).

// A listing is a merge of branches. Each branch is one way an image can
// be visible to the caller (a visibility class, the caller's own images,
// the images shared with it), read from one index range that is already
// in the requested order (migrations 00001, 00008), with the
// caller's filters applied to each row and a LIMIT of one page. The
// branches' pages are merged (UNION ALL: they are disjoint, see
// listways.go) and cut to a page,
// and only that page's images are loaded. A page therefore reads at most
// branches × page size index entries that pass the filters, whatever the
// size of the catalog; an OR of the visibility conditions over one index
// would instead make the database collect and sort every visible image.
//
// With a marker, each branch is split once more by the keyset condition
// (see after), so that every part is again one index range.
//
// Some shapes read one range instead: a filter on a column that is nearly
// unique (name, id, checksum, hash) is served by that column's index and
// its few rows sorted; a tag or property in the default order walks its
// rows in creation order (index image_tags_value_order), a tag in name
// order its rows in that order (image_tags_value_name), and in another
// order reads them all and sorts them when few images carry it
// (listsets.go). Visibility is then a condition on each row.
//
// This file plans; listways.go makes the branches of each way an image
// is visible, listsets.go the tags and properties a listing drives by,
// and listsql.go renders the plan.

// listPlan is a listing being built: the conditions every branch applies
// (ANDed), their arguments, the complete sort tuple and the branches.
type listPlan struct {
	where     []string
	args      []any
	order     []orderKey
	branches  []branch
	limit     string   // placeholder of the page size
	marker    []string // placeholders of the marker's sort tuple, if any
	bindTime  func(time.Time) any
	noIndex   func(expr string) string  // Dialect.NoIndex; nil in other plans
	indexedBy func(index string) string // Dialect.IndexedBy
	members   string                    // Dialect.MembersFrom
	rowKey    string                    // Dialect.RowKey
	lazyMerge bool                      // Dialect.LazyMerge
	// gate is a condition on the whole catalog that every listed image
	// needs (some image at all in a range of sizes or times), "" for
	// none. runList asks it alone first, and lists nothing when it
	// fails: a filter that matches nothing would otherwise walk every
	// branch to its end.
	gate string
	// copies are the filters that the caller's memberships can test on
	// their copies of their image's columns (migrations 00029, 00030),
	// as conditions on a membership named probe; see memberGates.
	copies []string
	// ranges are the filters' ranges of sizes and times that the
	// memberships' copies can test, by field, as conditions on a
	// membership named m; see memberRange.
	ranges map[string][]string
	hidden bool // only hidden images are listed
	// eitherHidden is set when hidden and visible images are listed
	// alike: each class is then two branches (listways.go), which compare
	// os_hidden with hiddenArgs.
	eitherHidden bool
	hiddenArgs   []string
	// contains is the condition of a name-substring filter on a
	// branch's scanned rows (column nm), "" for none; scan the
	// placeholder of how many rows each branch scans for it.
	contains, scan string
	containsFn     func(expr, arg string) string // Dialect.Contains
	// namePrefix holds the placeholders of a name prefix's range (the
	// prefix, and what follows every name that has it), for a branch
	// that reads a copy of the name (driveByTagName).
	namePrefix [2]string
}

// containsScan bounds a name-substring search: each branch of a page
// reads at most this many index entries in the listing's order and keeps
// those whose name holds the text. No index finds substrings, so the
// search is bounded instead: a page covers the next containsScan images
// of each branch, and a name further on is found only on later pages of
// a listing that asks for them (or by a prefix, which is indexed).
const containsScan = 10000

// orderKey is one element of the sort tuple.
type orderKey struct {
	key  string // the API's sort key
	expr string // SQL expression on images; nullable columns are mapped so NULL sorts lowest
	desc bool
}

// branch is one index range a page is merged from.
type branch struct {
	from  string   // the FROM clause: images, or a driving table joined to it
	where []string // its own conditions
	// drive maps sort expressions to the driving table's copies of them,
	// which the branch orders and seeks on instead. Every branch walks
	// an index in the order it is asked for: none reads all its rows and
	// sorts them (the caller's memberships did, in any order but the
	// default, until they carried every sort key: migration 00029).
	drive map[string]string
	// indexes names the branch's index for each first sort key when the
	// branch reads images by visibility or by owner and visibility
	// (visibilityIndex, ownerIndex; migration 00008) or the caller's
	// memberships (memberIndex; 00029); nil otherwise. It is the first
	// table of from, the one the branch walks.
	indexes func(key string) string
	// index, when set, is the index the branch reads whatever the
	// order: a range of it that few rows are in (memberRange).
	index string
}

func (b branch) expr(k orderKey) string {
	if e, ok := b.drive[k.expr]; ok {
		return e
	}
	return k.expr
}

// arg binds v and returns its placeholder. A placeholder may be used more
// than once in the text.
func (p *listPlan) arg(v any) string {
	p.args = append(p.args, v)
	return "$" + strconv.Itoa(len(p.args))
}

func (p *listPlan) and(cond string) { p.where = append(p.where, cond) }

func invalid(format string, args ...any) error {
	return &image.Error{Kind: image.ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

// selectiveFields are the filter columns whose values name a handful of
// images; an equality on one of them is best served by its own index.
var selectiveFields = []string{"id", "name", "checksum", "os_hash_value"} // each indexed

// planList checks q and translates everything but the marker, which needs
// a database lookup (see list.go). rare, if not nil, is one of q's tags
// or properties that few images carry (list.go counts them).
func planList(q image.ListQuery, d *Dialect, rare *rareSet) (*listPlan, error) {
	if q.Limit < 0 {
		return nil, invalid("limit must be zero or more, not %d", q.Limit)
	}
	order, err := sortOrder(q.Sort)
	if err != nil {
		return nil, err
	}
	if order[0].key == "id" && d.IDFirst != "" {
		order[0].expr = d.IDFirst
	}
	p := &listPlan{order: order, bindTime: d.BindTime, noIndex: d.NoIndex, indexedBy: d.IndexedBy, members: d.MembersFrom,
		containsFn: d.Contains, rowKey: d.RowKey, lazyMerge: d.LazyMerge}
	if p.members == "" {
		p.members = "image_members m CROSS JOIN images"
	}
	if p.rowKey == "" {
		p.rowKey = "images.id"
	}
	// Bound first: a membership branch's range probe (memberRange)
	// stops after a page.
	p.limit = p.arg(q.Limit)
	// Deleted and killed images never appear in a listing.
	p.and("images.deleted_at IS NULL")
	p.and("images.status NOT IN ('killed', 'deleted')")
	// os_hidden is an equality of every branch that walks the images'
	// indexes, right after its class (migration 00032).
	switch {
	case q.Hidden != nil && *q.Hidden:
		p.and("images.os_hidden = " + p.arg(true))
		p.hidden = true
		p.copies = append(p.copies, "probe.image_hidden")
	case q.Hidden != nil:
		p.and("images.os_hidden = " + p.arg(false))
	default:
		p.eitherHidden = true
	}
	if q.Protected != nil {
		p.and("images.protected = " + p.arg(*q.Protected))
	}
	oneRange := false
	var sizeProbe []string
	sizeFloor := false // a lower bound of sizes that leaves out NULL sizes (-1)
	timeProbes := map[string][]string{}
	for _, f := range q.Filters {
		selective := (f.Op == "eq" || f.Op == "in") && slices.Contains(selectiveFields, f.Field)
		// A name prefix is one range of the name index, unless names are
		// the order: then each branch reads its own index by name.
		if f.Op == "prefix" && len(f.Values) == 1 && f.Values[0] != "" {
			selective = p.order[0].expr != sortExprs["name"]
		}
		if err := p.filter(f, selective); err != nil {
			return nil, err
		}
		oneRange = oneRange || selective
		if op, ok := comparisons[f.Op]; ok && f.Op != "eq" && len(f.Values) == 1 {
			switch f.Field {
			case "size":
				sizeProbe = append(sizeProbe, "COALESCE(probe.size, -1) "+op+" "+"$"+strconv.Itoa(len(p.args)))
				if n, ok := p.args[len(p.args)-1].(int64); ok && (f.Op == "gt" || f.Op == "gte") && n >= 0 {
					sizeFloor = true
				}
			case "created_at", "updated_at":
				if p.order[0].expr != sortExprs[f.Field] { // else the range is the walk's
					timeProbes[f.Field] = append(timeProbes[f.Field], "probe."+f.Field+" "+op+" $"+strconv.Itoa(len(p.args)))
				}
			}
		}
	}
	var gates []string
	// A probe reads the images' indexes (visibility, os_hidden, key, ...)
	// of the live images (migration 00032): it says which, with literals,
	// as the gate is a statement of its own (gateSQL).
	probeFrom := "(SELECT 1 FROM images AS probe WHERE probe.visibility IN " +
		"('public', 'private', 'shared', 'community') AND probe.deleted_at IS NULL AND "
	switch {
	case q.Hidden == nil:
		probeFrom += "probe.os_hidden IN (false, true) AND "
	case *q.Hidden:
		probeFrom += "probe.os_hidden = true AND "
	default:
		probeFrom += "probe.os_hidden = false AND "
	}
	if len(sizeProbe) > 0 {
		// A size range is tested on each row of a branch's walk (see
		// filter), which reads the whole branch when nothing is in the
		// range. Whether any image at all is in it is a few seeks of the
		// (visibility, size) indexes, a necessary condition (sizes are
		// never negative; NULL sizes are -1 in the index and match no
		// size filter), asked before the listing (see the gate).
		//
		// The probe's range must start at the filter's own lower bound
		// when it has one: given "size >= 0" as well, SQLite started the
		// range at 0 and stepped over every smaller size (6 ms at 1M
		// images for size_min=100 MiB, against 0.6 ms for the listing).
		if !sizeFloor {
			sizeProbe = append([]string{"COALESCE(probe.size, -1) >= 0"}, sizeProbe...)
		}
		gates = append(gates, probeFrom+strings.Join(sizeProbe, " AND ")+" LIMIT 1) IS NOT NULL")
	}
	for _, field := range []string{"created_at", "updated_at"} {
		// A range of creation or update times, when another key is the
		// order, is the same: one probe of the (visibility, created_at)
		// or (visibility, updated_at) index says whether any image at
		// all is in it. Each probe is its own subquery, so each reads
		// its own index.
		if conds := timeProbes[field]; len(conds) > 0 {
			gates = append(gates, probeFrom+strings.Join(conds, " AND ")+" LIMIT 1) IS NOT NULL")
		}
	}
	p.gate = strings.Join(gates, " AND ")
	props := slices.Sorted(maps.Keys(q.Properties))
	tags := q.Tags
	main := branch{from: "images"}
	switch {
	case len(tags) > 0 && p.newestFirstOrder():
		main = p.driveByTag(tags[0])
		tags = tags[1:]
		oneRange = true
	case len(tags) > 0 && p.order[0].key == "name" && !oneRange:
		main = p.driveByTagName(tags[0])
		tags = tags[1:]
		oneRange = true
	case len(props) > 0 && p.newestFirstOrder():
		main = p.driveByProperty(props[0], q.Properties[props[0]])
		props = props[1:]
		oneRange = true
	case rare != nil && rare.tag != "" && slices.Contains(tags, rare.tag):
		// Another order: the set's rows are read whole and sorted, since
		// their index is in creation order; few enough to be cheaper
		// than walking branches that may hold none of them.
		main = p.driveByTag(rare.tag)
		main.drive = nil
		tags = slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return t == rare.tag })
		oneRange = true
	case rare != nil && rare.tag == "" && q.Properties[rare.name] == rare.value && slices.Contains(props, rare.name):
		main = p.driveByProperty(rare.name, rare.value)
		main.drive = nil
		props = slices.DeleteFunc(props, func(n string) bool { return n == rare.name })
		oneRange = true
	}
	for _, name := range props {
		p.and(`EXISTS (SELECT 1 FROM image_properties pr WHERE pr.image_id = images.id
			AND pr.name = ` + p.arg(name) + ` AND pr.value = ` + p.arg(q.Properties[name]) + `)`)
	}
	for _, tag := range tags {
		p.and(`EXISTS (SELECT 1 FROM image_tags tg WHERE tg.image_id = images.id
			AND tg.value = ` + p.arg(tag) + `)`)
	}
	ways, err := p.visibility(q)
	if err != nil {
		return nil, err
	}
	if oneRange {
		conds := make([]string, len(ways))
		for i, w := range ways {
			conds[i] = w.condition()
		}
		main.where = append(main.where, "("+strings.Join(conds, " OR ")+")")
		p.branches = []branch{main}
	} else {
		owner := ownerEquality(q.Filters)
		for _, w := range ways {
			if owner != "" && w.class != "" {
				// A class of images of one owner is that owner's range
				// of the class, not the class walked and filtered.
				w = way{cond: "images.owner = " + p.arg(owner) + " AND images.visibility = '" + w.class + "'", owned: true}
			}
			p.branches = append(p.branches, w.branches(p)...)
		}
	}
	return p, nil
}

// newestFirstOrder reports whether the order is the default one,
// created_at then id, in one direction.
func (p *listPlan) newestFirstOrder() bool {
	return len(p.order) == 2 && p.order[0].expr == sortExprs["created_at"] &&
		p.order[1].expr == sortExprs["id"] && p.order[0].desc == p.order[1].desc
}

// Filter columns are compared as text unless listed here.
var (
	intColumns  = []string{"size", "virtual_size", "min_disk", "min_ram"}
	timeColumns = []string{"created_at", "updated_at"}
)

var comparisons = map[string]string{"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// filter adds one condition on a core column. Only an equality, a
// selective filter or a range on the first sort key's column may steer
// the database to the column's index: a range or a list of values found
// through an index comes out unordered, and sorting it costs as much as
// the range is wide, where walking the branch in order and testing each
// row stops after a page.
func (p *listPlan) filter(f image.Filter, selective bool) error {
	if !slices.Contains(image.FilterFields, f.Field) {
		return invalid("Invalid filter field: %s", f.Field)
	}
	col := "images." + f.Field // FilterFields are column names
	ref := col
	if f.Op != "eq" && !selective && p.order[0].expr != col && p.noIndex != nil {
		ref = p.noIndex(col)
	}
	values := make([]any, len(f.Values))
	for i, s := range f.Values {
		v, err := p.filterValue(f.Field, s)
		if err != nil {
			return err
		}
		values[i] = v
	}
	if f.Op == "prefix" {
		return p.prefix(f)
	}
	if f.Op == "contains" {
		return p.substring(f)
	}
	if f.Op == "in" {
		if len(values) == 0 {
			return invalid("Filter %s in: needs at least one value", f.Field)
		}
		phs := make([]string, len(values))
		for i, v := range values {
			phs[i] = p.arg(v)
		}
		p.and(ref + " IN (" + strings.Join(phs, ", ") + ")")
		p.copyFilter(f.Field, " IN ("+strings.Join(phs, ", ")+")")
		return nil
	}
	if len(values) != 1 {
		return invalid("Filter %s %s: needs exactly one value", f.Field, f.Op)
	}
	if f.Op == "neq" {
		// A NULL column is "not equal" to any value, though SQL's <> alone
		// would drop it.
		p.and("(" + col + " IS NULL OR " + ref + " <> " + p.arg(values[0]) + ")")
		return nil
	}
	sqlOp, ok := comparisons[f.Op]
	if !ok {
		return invalid("Invalid filter operator %q for %s", f.Op, f.Field)
	}
	ph := p.arg(values[0])
	p.and(ref + " " + sqlOp + " " + ph)
	p.copyFilter(f.Field, " "+sqlOp+" "+ph)
	if c, ok := memberCopies[f.Field]; ok && f.Op != "eq" && slices.Contains(rangeFields, f.Field) && p.order[0].key != f.Field {
		if p.ranges == nil {
			p.ranges = map[string][]string{}
		}
		p.ranges[f.Field] = append(p.ranges[f.Field], c+" "+sqlOp+" "+ph)
	}
	return nil
}

// rangeFields are the fields whose ranges a membership branch may read
// through the memberships' index of the field (memberRange), in the
// order it prefers them.
var rangeFields = []string{"updated_at", "created_at", "size"}

// copyFilter records a filter on field as a condition on the
// memberships' copy of the column, if they have one (see memberGates).
// The copies map NULL to a value below any real one, as the sort keys
// do; a filter that holds for an image holds for its copies, since no
// comparison or list holds for NULL.
func (p *listPlan) copyFilter(field, test string) {
	if c, ok := memberCopies[field]; ok {
		p.copies = append(p.copies, "probe."+strings.TrimPrefix(c, "m.")+test)
	}
}

// prefixEnd follows every name that starts with a prefix: U+10FFFF is
// the highest code point, so in byte order (SQLite's BINARY, PostgreSQL's
// "C" collation) prefix+U+10FFFF sorts after prefix+anything else a name
// holds (a name that itself continues with U+10FFFF, a noncharacter, is
// the one miss).
const prefixEnd = "\U0010FFFF"

// prefix adds a name-prefix condition as a range, so an index serves it:
// when names are the first sort key, each branch's own (visibility or
// owner, name, ...) index, read in order and stopped after a page;
// otherwise the name index (images_name), whose range holds exactly the
// names with the prefix, sorted afterwards. An empty prefix is no filter.
func (p *listPlan) prefix(f image.Filter) error {
	if f.Field != "name" || len(f.Values) != 1 {
		return invalid("Filter %s prefix: only names, with one value", f.Field)
	}
	v := f.Values[0]
	if v == "" {
		return nil
	}
	ref := "images.name"
	if p.order[0].expr == sortExprs["name"] {
		ref = sortExprs["name"]
	}
	p.namePrefix = [2]string{p.arg(v), p.arg(v + prefixEnd)}
	p.and(ref + " >= " + p.namePrefix[0] + " AND " + ref + " < " + p.namePrefix[1])
	return nil
}

// substring keeps the names that hold a text, among the containsScan
// rows each branch reads in order (see containsScan).
func (p *listPlan) substring(f image.Filter) error {
	if f.Field != "name" || len(f.Values) != 1 {
		return invalid("Filter %s contains: only names, with one value", f.Field)
	}
	if f.Values[0] == "" {
		return nil
	}
	if p.contains != "" || p.containsFn == nil {
		return invalid("Filter name contains: one text at a time")
	}
	p.contains = p.containsFn("s.nm", p.arg(f.Values[0]))
	p.scan = p.arg(containsScan)
	return nil
}

// filterValue converts a filter value to the column's stored form, so that
// integers compare as numbers and times as stored times.
func (p *listPlan) filterValue(col, s string) (any, error) {
	switch {
	case slices.Contains(intColumns, col):
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, invalid("Invalid value for %s: %q is not an integer", col, s)
		}
		return n, nil
	case slices.Contains(timeColumns, col):
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, invalid("Invalid value for %s: %q is not an RFC 3339 time", col, s)
		}
		return p.bindTime(t), nil
	}
	return s, nil
}

// sortExprs maps each allowed sort key to the expression ordered on.
// Nullable columns are coalesced to a value below any real one (names and
// formats are never "", sizes never negative) so NULLs sort first ascending
// on every database, and the marker comparison uses the same expression.
// Text compares byte-wise on both: SQLite's default BINARY collation, and
// COLLATE "C" on PostgreSQL's text columns.
var sortExprs = map[string]string{
	"name":             "COALESCE(images.name, '')",
	"status":           "images.status",
	"container_format": "COALESCE(images.container_format, '')",
	"disk_format":      "COALESCE(images.disk_format, '')",
	"size":             "COALESCE(images.size, -1)",
	"id":               "images.id",
	"created_at":       "images.created_at",
	"updated_at":       "images.updated_at",
}

// sortOrder validates keys and completes them into a total order: created_at
// and then id are appended when absent, in the direction of the last key
// (descending when there are no keys). A key repeated later adds nothing,
// and neither does any key after id, which is unique: the tuple stays a
// prefix of the indexes' columns.
func sortOrder(keys []image.SortKey) ([]orderKey, error) {
	var order []orderKey
	seen := map[string]bool{}
	desc := true
	for _, k := range keys {
		expr, ok := sortExprs[k.Key]
		if !ok || !slices.Contains(image.SortKeys, k.Key) {
			return nil, invalid("Invalid sort key: %s. It should be one of the following: %s",
				k.Key, strings.Join(image.SortKeys, ", "))
		}
		desc = k.Desc
		if seen[k.Key] {
			continue
		}
		seen[k.Key] = true
		order = append(order, orderKey{key: k.Key, expr: expr, desc: k.Desc})
	}
	for _, k := range []string{"created_at", "id"} {
		if !seen[k] {
			order = append(order, orderKey{key: k, expr: sortExprs[k], desc: desc})
		}
	}
	for i, k := range order {
		if k.expr == sortExprs["id"] {
			return order[:i+1], nil
		}
	}
	return order, nil
}
