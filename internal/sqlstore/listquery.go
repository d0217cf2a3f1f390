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
// branches' pages are merged (UNION: they may overlap) and cut to a page,
// and only that page's images are loaded. A page therefore reads at most
// branches × page size index entries that pass the filters, whatever the
// size of the catalog; an OR of the visibility conditions over one index
// would instead make the database collect and sort every visible image.
//
// With a marker, each branch is split once more by the keyset condition
// (see after), so that every part is again one index range.
//
// Two shapes read one range instead: a filter on a column that is nearly
// unique (name, id, checksum, hash) is served by that column's index and
// its few rows sorted; a tag in the default order walks the tag's rows in
// creation order (index image_tags_value_order). Visibility is then a
// condition on each row.

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
	gate      string                    // a condition for reading any branch at all, "" for none
	// copies are the filters that the caller's memberships can test on
	// their copies of their image's columns (migrations 00029, 00030),
	// as conditions on a membership named probe; see memberGates.
	copies []string
	hidden bool // only hidden images are listed
	// contains is the condition of a name-substring filter on a
	// branch's scanned rows (column nm), "" for none; scan the
	// placeholder of how many rows each branch scans for it.
	contains, scan string
	containsFn     func(expr, arg string) string // Dialect.Contains
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
	// gate is the branch's own condition for being read at all (ANDed
	// with the plan's), "" for none.
	gate string
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

// rareSet is a tag, or a property's value, that few enough images carry
// (at most DefaultSetDriveRows rows) for a sorted listing to read all of
// them and sort them: see planList.
type rareSet struct {
	tag         string // a tag, or "" for a property
	name, value string // the property
}

// DefaultSetDriveRows bounds what a listing sorted by any key but
// creation reads when it drives by a tag or property (rareSet): the
// set's rows, each looked up and sorted. Walking the branches in order
// instead tests each image for the set and stops after a page of those
// that have it, which for a set most branches lack reads all of those
// branches (a tag on one project's images, sorted by name: 222 times a
// show in run S). A thousand rows cost about what a walk of a few
// thousand index entries does.
const DefaultSetDriveRows = 1000

// setCandidates are the tags and properties of q that a listing could
// drive by (see rareSet) if few images carry them: none when q's order
// is the default one (the sets' indexes are in that order, so a page of
// them is read in order whatever their size) or a nearly unique column
// already narrows q to a handful of images.
func setCandidates(q image.ListQuery) []rareSet {
	if len(q.Tags) == 0 && len(q.Properties) == 0 {
		return nil
	}
	order, err := sortOrder(q.Sort)
	if err != nil || (&listPlan{order: order}).newestFirstOrder() {
		return nil
	}
	for _, f := range q.Filters {
		if (f.Op == "eq" || f.Op == "in") && slices.Contains(selectiveFields, f.Field) {
			return nil
		}
	}
	var sets []rareSet
	for _, t := range q.Tags {
		sets = append(sets, rareSet{tag: t})
	}
	for _, n := range slices.Sorted(maps.Keys(q.Properties)) {
		sets = append(sets, rareSet{name: n, value: q.Properties[n]})
	}
	return sets
}

// countSQL counts the rows of set, reading at most limit entries of its
// index.
func (r rareSet) countSQL(limit int) (string, []any) {
	if r.tag != "" {
		return "SELECT COUNT(*) FROM (SELECT 1 FROM image_tags WHERE value = $1 LIMIT $2) AS n", []any{r.tag, limit}
	}
	return "SELECT COUNT(*) FROM (SELECT 1 FROM image_properties WHERE name = $1 AND value = $2 LIMIT $3) AS n",
		[]any{r.name, r.value, limit}
}

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
	// Deleted and killed images never appear in a listing.
	p.and("images.deleted_at IS NULL")
	p.and("images.status NOT IN ('killed', 'deleted')")
	switch {
	case q.Hidden != nil && *q.Hidden:
		// As the partial indexes of hidden images state it (migration
		// 00018): a database uses them only for a query that says so.
		p.and("images.os_hidden")
		p.hidden = true
		p.copies = append(p.copies, "probe.image_hidden")
	case q.Hidden != nil:
		p.and("images.os_hidden = " + p.arg(false))
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
	if len(sizeProbe) > 0 {
		// A size range is tested on each row of a branch's walk (see
		// filter), which reads the whole branch when nothing is in the
		// range. Whether any image at all is in it is a few seeks of the
		// (visibility, size) indexes, a necessary condition (sizes are
		// never negative; NULL sizes are -1 in the index and match no
		// size filter), and it is each branch's LIMIT: SQLite computes a
		// LIMIT once, before the walk, and reads nothing for a LIMIT of 0.
		// (In the WHERE clause SQLite tested the probe's cached answer on
		// every row; as EXISTS it made it a join and changed the plan.)
		//
		// The probe's range must start at the filter's own lower bound
		// when it has one: given "size >= 0" as well, SQLite started the
		// range at 0 and stepped over every smaller size (6 ms at 1M
		// images for size_min=100 MiB, against 0.6 ms for the listing).
		if !sizeFloor {
			sizeProbe = append([]string{"COALESCE(probe.size, -1) >= 0"}, sizeProbe...)
		}
		gates = append(gates, "(SELECT 1 FROM images AS probe WHERE probe.visibility IN "+
			"('public', 'private', 'shared', 'community') AND "+
			strings.Join(sizeProbe, " AND ")+" LIMIT 1) IS NOT NULL")
	}
	for _, field := range []string{"created_at", "updated_at"} {
		// A range of creation or update times, when another key is the
		// order, is the same: one probe of the (visibility, created_at)
		// or (visibility, updated_at) index says whether any image at
		// all is in it. Each probe is its own subquery, so each reads
		// its own index.
		if conds := timeProbes[field]; len(conds) > 0 {
			gates = append(gates, "(SELECT 1 FROM images AS probe WHERE probe.visibility IN "+
				"('public', 'private', 'shared', 'community') AND "+strings.Join(conds, " AND ")+" LIMIT 1) IS NOT NULL")
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
	p.limit = p.arg(q.Limit)
	return p, nil
}

// newestFirstOrder reports whether the order is the default one,
// created_at then id, in one direction.
func (p *listPlan) newestFirstOrder() bool {
	return len(p.order) == 2 && p.order[0].expr == sortExprs["created_at"] &&
		p.order[1].expr == sortExprs["id"] && p.order[0].desc == p.order[1].desc
}

// newestFirst maps the default order's expressions to a driving table's
// copies of its image's created_at and id.
func newestFirst(createdAt, id string) map[string]string {
	return map[string]string{sortExprs["created_at"]: createdAt, sortExprs["id"]: id}
}

// driveByTag makes the listing read the rows of one tag in the order of
// their images' creation (index image_tags_value_order) and join each to
// its image, so a page of a tag costs a page of rows, not every image
// that carries it. The tag rows' image_created_at and image_id are the
// image's created_at and id, so the order and the marker are the same.
func (p *listPlan) driveByTag(tag string) branch {
	return branch{
		from:  "image_tags tg0 CROSS JOIN images",
		where: []string{"tg0.value = " + p.arg(tag), "images.id = tg0.image_id"},
		drive: newestFirst("tg0.image_created_at", "tg0.image_id"),
	}
}

// driveByProperty is driveByTag for a property's value (index
// image_properties_name_value_order, migration 00018).
func (p *listPlan) driveByProperty(name, value string) branch {
	return branch{
		from:  "image_properties pr0 CROSS JOIN images",
		where: []string{"pr0.name = " + p.arg(name), "pr0.value = " + p.arg(value), "images.id = pr0.image_id"},
		drive: newestFirst("pr0.image_created_at", "pr0.image_id"),
	}
}

// way is one way an image can be visible: a condition on the image, or a
// membership of project (a placeholder) in status (a literal; "" for any).
type way struct {
	cond            string
	project, status string
	owned           bool   // cond is an owner and a visibility
	class           string // cond is this visibility class
}

// member reports whether the way is a membership.
func (w way) member() bool { return w.project != "" }

// condition is the way as a condition on one image row.
func (w way) condition() string {
	if !w.member() {
		return w.cond
	}
	cond := `(images.visibility = 'shared' AND EXISTS (SELECT 1 FROM image_members m
		WHERE m.image_id = images.id AND m.member = ` + w.project
	if w.status != "" {
		cond += " AND m.status = " + w.status
	}
	return cond + "))"
}

// memberStatuses are the statuses a membership can have, as literals.
var memberStatuses = []string{"'pending'", "'accepted'", "'rejected'"}

// branches are the index ranges that list the way's images.
func (w way) branches(p *listPlan) []branch {
	if !w.member() {
		indexes := visibilityIndex
		if w.owned {
			indexes = ownerIndex
		}
		return []branch{{from: "images", where: []string{w.cond}, indexes: indexes}}
	}
	// Memberships are read one status at a time, in the order asked for:
	// they carry their image's sort keys (migrations 00008, 00029, kept
	// by triggers), each with an index (member, status, key, created_at,
	// id), so the branch stops after a page whatever the order.
	// CROSS JOIN keeps SQLite from turning the join around.
	statuses := []string{w.status}
	if w.status == "" {
		statuses = memberStatuses
	}
	bs := make([]branch, len(statuses))
	for i, st := range statuses {
		bs[i] = branch{
			from: p.members,
			// The caller's own images are its owned branches' (and
			// the merge is a UNION ALL): a membership in one's own image
			// lists nothing more.
			where: []string{"m.member = " + w.project, "m.status = " + st,
				"images.id = m.image_id", "images.visibility = 'shared'",
				"COALESCE(images.owner, '') <> " + w.project},
			drive:   p.memberDrive(),
			indexes: memberIndex,
			gate:    p.memberGates(w.project, st),
		}
		if p.hidden {
			// The partial index of hidden shares (migration 00030).
			bs[i].where = append(bs[i].where, "m.image_hidden")
		}
	}
	return bs
}

// memberGates is the condition for reading the caller's memberships of
// status st at all: for each filter the memberships' copies can test,
// one of them passes it. Each is one seek of the index keyed by that
// copy (migrations 00029, 00030). A project's shares are few beside
// the catalog, but a filter that none of them passes (status=active
// when they are all queued, a recent updated_at, os_hidden=true) would
// otherwise walk all of them, looking up each image, for no row.
func (p *listPlan) memberGates(project, st string) string {
	gates := make([]string, len(p.copies))
	for i, c := range p.copies {
		gates[i] = "(SELECT 1 FROM image_members AS probe WHERE probe.member = " + project +
			" AND probe.status = " + st + " AND " + c + " LIMIT 1) IS NOT NULL"
	}
	return strings.Join(gates, " AND ")
}

// memberCopies are the memberships' copies of their image's sort keys,
// by key, as sortExprs computes them (NULLs already mapped).
var memberCopies = map[string]string{
	"name":             "m.image_name",
	"status":           "m.image_status",
	"container_format": "m.image_container_format",
	"disk_format":      "m.image_disk_format",
	"size":             "m.image_size",
	"id":               "m.image_id",
	"created_at":       "m.image_created_at",
	"updated_at":       "m.image_updated_at",
}

// memberDrive maps the order's expressions to the memberships' copies.
// An id first in the order may carry a collation (Dialect.IDFirst),
// which the copy then carries too, as the memberships' id index does.
func (p *listPlan) memberDrive() map[string]string {
	drive := make(map[string]string, len(p.order))
	for _, k := range p.order {
		c := memberCopies[k.key]
		if k.expr != sortExprs[k.key] {
			c = strings.Replace(k.expr, sortExprs[k.key], c, 1)
		}
		drive[k.expr] = c
	}
	return drive
}

// visibility returns the ways in which the caller may see images
// (image-api.md §4.3); an image is listed if any of them applies.
func (p *listPlan) visibility(q image.ListQuery) ([]way, error) {
	if q.Caller.Admin {
		return p.adminVisibility(q.Visibility, q.Caller.Project)
	}
	memberStatus, err := memberStatusFilter(q.MemberStatus)
	if err != nil {
		return nil, err
	}
	// The caller's placeholder is bound only when a way uses it:
	// PostgreSQL infers a parameter's type from where the text uses it,
	// and rejects an argument bound but used nowhere.
	var project string
	projectArg := func() string {
		if project == "" {
			project = p.arg(q.Caller.Project)
		}
		return project
	}
	nothing := way{cond: "1 = 0"}
	// An empty project owns nothing and is nobody's member. One's own
	// images are read one visibility at a time (index owner, visibility,
	// ...); one's public images are already in the public class.
	owned := func(vs ...string) []way {
		if q.Caller.Project == "" {
			return []way{nothing}
		}
		ways := make([]way, len(vs))
		for i, v := range vs {
			ways[i] = way{cond: "images.owner = " + projectArg() + " AND images.visibility = '" + v + "'", owned: true}
		}
		return ways
	}
	// A membership only grants access while the image is shared.
	member := func() way {
		if q.Caller.Project == "" {
			return nothing
		}
		return way{project: projectArg(), status: memberStatus}
	}
	switch q.Visibility {
	case "":
		// Community images are not listed by default, except one's own.
		return slices.Concat([]way{class("public")}, owned("private", "shared", "community"), []way{member()}), nil
	case "all":
		return slices.Concat([]way{class("public"), class("community")}, owned("private", "shared"), []way{member()}), nil
	case "public", "community":
		return []way{class(q.Visibility)}, nil
	case "private":
		return owned("private"), nil
	case "shared":
		return append(owned("shared"), member()), nil
	}
	return nil, invalid("Invalid visibility value: %s", q.Visibility)
}

// class is the way of the images of visibility v (a literal from a fixed
// list).
func class(v string) way { return way{cond: "images.visibility = '" + v + "'", class: v} }

// ownerEquality returns the owner that filters select, if they select
// exactly one.
func ownerEquality(fs []image.Filter) string {
	for _, f := range fs {
		if f.Field == "owner" && (f.Op == "eq" || f.Op == "in") && len(f.Values) == 1 {
			return f.Values[0]
		}
	}
	return ""
}

// memberStatusFilter returns the member status a shared image needs for a
// non-admin to list it, as an SQL literal; "" for any.
func memberStatusFilter(s string) (string, error) {
	switch s {
	case "":
		return "'accepted'", nil
	case "all":
		return "", nil
	}
	if !image.MemberStatus(s).Valid() {
		return "", invalid("Invalid member_status value: %s", s)
	}
	// A literal from the fixed list, never the caller's text.
	return memberStatuses[slices.Index(memberStatuses, "'"+s+"'")], nil
}

// adminVisibility: admins see across projects, but community images still
// stay out of the default list unless they own them. Each visibility class
// is a branch of its own, so each is read in order from its index.
func (p *listPlan) adminVisibility(v, project string) ([]way, error) {
	switch {
	case v == "" && project == "":
		return []way{class("public"), class("private"), class("shared")}, nil
	case v == "":
		return []way{class("public"), class("private"), class("shared"),
			{cond: "images.owner = " + p.arg(project) + " AND images.visibility = 'community'", owned: true}}, nil
	case v == "all":
		return []way{class("public"), class("private"), class("shared"), class("community")}, nil
	case image.Visibility(v).Valid():
		return []way{class(v)}, nil
	}
	return nil, invalid("Invalid visibility value: %s", v)
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
	return nil
}

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
	p.and(ref + " >= " + p.arg(v) + " AND " + ref + " < " + p.arg(v+prefixEnd))
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

// orderBy renders the sort tuple with each key written by expr.
func (p *listPlan) orderBy(expr func(i int, k orderKey) string) string {
	parts := make([]string, len(p.order))
	for i, k := range p.order {
		parts[i] = expr(i, k) + " ASC"
		if k.desc {
			parts[i] = expr(i, k) + " DESC"
		}
	}
	return strings.Join(parts, ", ")
}

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
// and where the LIMIT matters, an arm keeps its own LIMIT: the gate of a
// range that may match nothing (a LIMIT of 0 reads nothing), the bounded
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
		if p.lazyMerge && p.gate == "" && a.b.gate == "" && p.contains == "" && a.fixed == 0 {
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
	if gate := strings.Join(slices.DeleteFunc([]string{p.gate, b.gate}, func(g string) bool { return g == "" }), " AND "); gate != "" {
		limit = "CASE WHEN " + gate + " THEN " + p.limit + " ELSE 0 END"
		scan = "CASE WHEN " + gate + " THEN " + p.scan + " ELSE 0 END"
	}
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

// visibilityIndex and ownerIndex name the index of a branch by visibility
// class, or by owner and visibility, that is ordered by key first and then
// by created_at and id (migration 00008).
func visibilityIndex(key string) string {
	if key == "created_at" {
		return "images_visibility"
	}
	return "images_visibility_" + key
}

// memberIndex names the memberships' index ordered by key first
// (migrations 00008, 00029).
func memberIndex(key string) string {
	if key == "created_at" {
		return "image_members_member_order"
	}
	return "image_members_member_" + key
}

func ownerIndex(key string) string {
	if key == "created_at" {
		return "images_owner_visibility"
	}
	return "images_owner_" + key
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
