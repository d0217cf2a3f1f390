package sqlstore

import (
	"maps"
	"slices"

	"github.com/glint-image/glint/internal/image"
)

// The tags and properties a listing drives by: their rows are in the
// order of their images' creation (migrations 00008, 00018), and a tag's
// also in its images' name order (00031), so a listing in such an order
// reads a page of them whatever their number, and one in another order
// reads all of them and sorts them when they are few.

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
// already narrows q to a handful of images, and no tag when names come
// first (a tag's name index gives the order).
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
	if order[0].key != "name" { // see driveByTagName
		for _, t := range q.Tags {
			sets = append(sets, rareSet{tag: t})
		}
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
		return "SELECT COUNT(*) FROM (SELECT 1 FROM image_tags WHERE value = $1 AND image_deleted = false LIMIT $2) AS n", []any{r.tag, limit}
	}
	return "SELECT COUNT(*) FROM (SELECT 1 FROM image_properties WHERE name = $1 AND value = $2 AND image_deleted = false LIMIT $3) AS n",
		[]any{r.name, r.value, limit}
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
// The tag's indexes hold the rows of live images only (migration 00032),
// and SQLite reads a partial index only for a query that says so.
func (p *listPlan) driveByTag(tag string) branch {
	return branch{
		from:  "image_tags tg0 CROSS JOIN images",
		where: []string{"tg0.value = " + p.arg(tag), "tg0.image_deleted = false", "images.id = tg0.image_id"},
		drive: newestFirst("tg0.image_created_at", "tg0.image_id"),
	}
}

// driveByTagName is driveByTag in name order: the tag's rows carry their
// image's name as the name order keys it (an empty text for none,
// migration 00031), so the listing walks index image_tags_value_name,
// which gives the name, created_at, id order of one direction whole, and
// a page of a tag costs a page of rows whatever the tag's size and the
// catalog's. A name prefix is a range of the copy, so the walk starts at
// the prefix.
func (p *listPlan) driveByTagName(tag string) branch {
	b := p.driveByTag(tag)
	b.drive = newestFirst("tg0.image_created_at", "tg0.image_id")
	b.drive[sortExprs["name"]] = "tg0.image_name"
	if lo, hi := p.namePrefix[0], p.namePrefix[1]; lo != "" {
		b.where = append(b.where, "tg0.image_name >= "+lo, "tg0.image_name < "+hi)
	}
	return b
}

// driveByProperty is driveByTag for a property's value (index
// image_properties_name_value_order, migrations 00018, 00032).
func (p *listPlan) driveByProperty(name, value string) branch {
	return branch{
		from:  "image_properties pr0 CROSS JOIN images",
		where: []string{"pr0.name = " + p.arg(name), "pr0.value = " + p.arg(value), "pr0.image_deleted = false", "images.id = pr0.image_id"},
		drive: newestFirst("pr0.image_created_at", "pr0.image_id"),
	}
}
