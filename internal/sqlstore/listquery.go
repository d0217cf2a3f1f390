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
// tables below, after the caller's names were checked against them. The
// only dialect-specific value is how a time is bound (Dialect.BindTime).

// listPlan is a listing being built: WHERE conditions (ANDed), their
// arguments, and the complete sort tuple.
type listPlan struct {
	from     string // the FROM clause: images, or a tag's rows joined to them
	where    []string
	args     []any
	order    []orderKey
	bindTime func(time.Time) any
}

// orderKey is one element of the sort tuple.
type orderKey struct {
	expr string // SQL expression; nullable columns are mapped so NULL sorts lowest
	desc bool
	// marker is the same value computed from the images table alone, for
	// reading the marker row's tuple; empty when it is expr.
	marker string
}

func (k orderKey) markerExpr() string {
	if k.marker != "" {
		return k.marker
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

// planList checks q and translates everything but the marker, which needs
// a database lookup (see list.go).
func planList(q image.ListQuery, bindTime func(time.Time) any) (*listPlan, error) {
	if q.Limit < 0 {
		return nil, invalid("limit must be zero or more, not %d", q.Limit)
	}
	p := &listPlan{from: "images", bindTime: bindTime}
	// Deleted and killed images never appear in a listing.
	p.and("deleted_at IS NULL")
	p.and("status NOT IN ('killed', 'deleted')")
	if err := p.visibility(q); err != nil {
		return nil, err
	}
	if q.Hidden != nil {
		p.and("os_hidden = " + p.arg(*q.Hidden))
	}
	if q.Protected != nil {
		p.and("protected = " + p.arg(*q.Protected))
	}
	for _, f := range q.Filters {
		if err := p.filter(f); err != nil {
			return nil, err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(q.Properties)) {
		p.and(`EXISTS (SELECT 1 FROM image_properties pr WHERE pr.image_id = images.id
			AND pr.name = ` + p.arg(name) + ` AND pr.value = ` + p.arg(q.Properties[name]) + `)`)
	}
	order, err := sortOrder(q.Sort)
	if err != nil {
		return nil, err
	}
	p.order = order
	tags := q.Tags
	if len(tags) > 0 && p.newestFirstOrder() {
		p.driveByTag(tags[0])
		tags = tags[1:]
	}
	for _, tag := range tags {
		p.and(`EXISTS (SELECT 1 FROM image_tags tg WHERE tg.image_id = images.id
			AND tg.value = ` + p.arg(tag) + `)`)
	}
	return p, nil
}

// newestFirstOrder reports whether the order is the default one,
// created_at then id, in one direction.
func (p *listPlan) newestFirstOrder() bool {
	return len(p.order) == 2 && p.order[0].expr == sortExprs["created_at"] &&
		p.order[1].expr == sortExprs["id"] && p.order[0].desc == p.order[1].desc
}

// driveByTag makes the listing read the rows of one tag in the order of
// their images' creation (index image_tags_value_order) and join each to
// its image, so a page of a tag costs a page of rows, not every image
// that carries it. The tag rows' image_created_at and image_id are the
// image's created_at and id, so the order and the marker are the same.
func (p *listPlan) driveByTag(tag string) {
	p.from = "image_tags tg0 JOIN images ON images.id = tg0.image_id"
	p.and("tg0.value = " + p.arg(tag))
	p.order[0].expr, p.order[0].marker = "tg0.image_created_at", p.order[0].expr
	p.order[1].expr, p.order[1].marker = "tg0.image_id", p.order[1].expr
}

// visibility adds the condition that decides which images the caller may
// list (image-api.md §4.3).
func (p *listPlan) visibility(q image.ListQuery) error {
	if q.Caller.Admin {
		return p.adminVisibility(q.Visibility, q.Caller.Project)
	}
	memberStatus, err := memberStatusFilter(q.MemberStatus)
	if err != nil {
		return err
	}
	// The conditions on the caller are built only by the branches that use
	// them: PostgreSQL infers a parameter's type from where the text uses
	// it, and rejects an argument bound but used nowhere.
	var project string // the caller's placeholder, bound on first use
	projectArg := func() string {
		if project == "" {
			project = p.arg(q.Caller.Project)
		}
		return project
	}
	// An empty project owns nothing and is nobody's member.
	owned := func() string {
		if q.Caller.Project == "" {
			return "1 = 0"
		}
		return "owner = " + projectArg()
	}
	member := func() string {
		if q.Caller.Project == "" {
			return "1 = 0"
		}
		cond := `EXISTS (SELECT 1 FROM image_members m WHERE m.image_id = images.id
			AND m.member = ` + projectArg()
		if memberStatus != "" {
			cond += " AND m.status = " + p.arg(memberStatus)
		}
		return cond + ")"
	}
	// A membership only grants access while the image is shared.
	shared := func() string { return "(visibility = 'shared' AND " + member() + ")" }
	switch q.Visibility {
	case "":
		// Community images are not listed by default, except one's own.
		p.and("(visibility = 'public' OR " + owned() + " OR " + shared() + ")")
	case "all":
		p.and("(visibility IN ('public', 'community') OR " + owned() + " OR " + shared() + ")")
	case "public", "community":
		p.and("visibility = " + p.arg(q.Visibility))
	case "private":
		p.and("(visibility = 'private' AND " + owned() + ")")
	case "shared":
		p.and("(visibility = 'shared' AND (" + owned() + " OR " + member() + "))")
	default:
		return invalid("Invalid visibility value: %s", q.Visibility)
	}
	return nil
}

// memberStatusFilter returns the member status a shared image needs for a
// non-admin to list it, "" for any.
func memberStatusFilter(s string) (string, error) {
	switch s {
	case "":
		return string(image.MemberAccepted), nil
	case "all":
		return "", nil
	}
	if !image.MemberStatus(s).Valid() {
		return "", invalid("Invalid member_status value: %s", s)
	}
	return s, nil
}

// adminVisibility: admins see across projects, but community images still
// stay out of the default list unless they own them.
func (p *listPlan) adminVisibility(v, project string) error {
	switch {
	case v == "" && project == "":
		p.and("visibility <> 'community'")
	case v == "":
		p.and("(visibility <> 'community' OR owner = " + p.arg(project) + ")")
	case v == "all":
	case image.Visibility(v).Valid():
		p.and("visibility = " + p.arg(v))
	default:
		return invalid("Invalid visibility value: %s", v)
	}
	return nil
}

// Filter columns are compared as text unless listed here.
var (
	intColumns  = []string{"size", "virtual_size", "min_disk", "min_ram"}
	timeColumns = []string{"created_at", "updated_at"}
)

var comparisons = map[string]string{"eq": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}

// filter adds one condition on a core column.
func (p *listPlan) filter(f image.Filter) error {
	if !slices.Contains(image.FilterFields, f.Field) {
		return invalid("Invalid filter field: %s", f.Field)
	}
	col := f.Field // FilterFields are column names
	values := make([]any, len(f.Values))
	for i, s := range f.Values {
		v, err := p.filterValue(col, s)
		if err != nil {
			return err
		}
		values[i] = v
	}
	if f.Op == "in" {
		if len(values) == 0 {
			return invalid("Filter %s in: needs at least one value", col)
		}
		phs := make([]string, len(values))
		for i, v := range values {
			phs[i] = p.arg(v)
		}
		p.and(col + " IN (" + strings.Join(phs, ", ") + ")")
		return nil
	}
	if len(values) != 1 {
		return invalid("Filter %s %s: needs exactly one value", col, f.Op)
	}
	if f.Op == "neq" {
		// A NULL column is "not equal" to any value, though SQL's <> alone
		// would drop it.
		p.and("(" + col + " IS NULL OR " + col + " <> " + p.arg(values[0]) + ")")
		return nil
	}
	sqlOp, ok := comparisons[f.Op]
	if !ok {
		return invalid("Invalid filter operator %q for %s", f.Op, col)
	}
	p.and(col + " " + sqlOp + " " + p.arg(values[0]))
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
	"name":             "COALESCE(name, '')",
	"status":           "status",
	"container_format": "COALESCE(container_format, '')",
	"disk_format":      "COALESCE(disk_format, '')",
	"size":             "COALESCE(size, -1)",
	"id":               "id",
	"created_at":       "created_at",
	"updated_at":       "updated_at",
}

// sortOrder validates keys and completes them into a total order: created_at
// and then id are appended when absent, in the direction of the last key
// (descending when there are no keys). A key repeated later adds nothing.
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
		order = append(order, orderKey{expr: expr, desc: k.Desc})
	}
	for _, k := range []string{"created_at", "id"} {
		if !seen[k] {
			order = append(order, orderKey{expr: sortExprs[k], desc: desc})
		}
	}
	return order, nil
}

// orderBy renders the sort tuple.
func (p *listPlan) orderBy() string {
	parts := make([]string, len(p.order))
	for i, k := range p.order {
		parts[i] = k.expr + " ASC"
		if k.desc {
			parts[i] = k.expr + " DESC"
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
// and ties on every other key are still paged exactly once.
func (p *listPlan) after(marker []any) {
	phs := make([]string, len(marker))
	for i, v := range marker {
		phs[i] = p.arg(v)
	}
	terms := make([]string, len(p.order))
	for i, k := range p.order {
		var parts []string
		for j := range i {
			parts = append(parts, p.order[j].expr+" = "+phs[j])
		}
		op := " > "
		if k.desc {
			op = " < "
		}
		parts = append(parts, k.expr+op+phs[i])
		terms[i] = "(" + strings.Join(parts, " AND ") + ")"
	}
	p.and("(" + strings.Join(terms, " OR ") + ")")
}

// markerQuery selects the marker row's sort tuple; $1 is its id.
func (p *listPlan) markerQuery() string {
	exprs := make([]string, len(p.order))
	for i, k := range p.order {
		exprs[i] = k.markerExpr()
	}
	return "SELECT " + strings.Join(exprs, ", ") + " FROM images WHERE id = $1 AND deleted_at IS NULL"
}
