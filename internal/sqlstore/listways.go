package sqlstore

import (
	"slices"
	"strings"

	"github.com/glint-image/glint/internal/image"
)

// The ways an image is visible to the caller (image-api.md §4.3), each
// read as branches of a listing: a visibility class, the caller's own
// images of a visibility, the images shared with it.

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
		if !p.eitherHidden {
			return []branch{{from: "images", where: []string{w.cond}, indexes: indexes}}
		}
		// The indexes key os_hidden after the class: hidden and visible
		// images are two ranges, each in order (migration 00032). The
		// placeholders are taken when first used: PostgreSQL refuses a
		// parameter that no condition types.
		if p.hiddenArgs == nil {
			p.hiddenArgs = []string{p.arg(false), p.arg(true)}
		}
		var bs []branch
		for _, h := range p.hiddenArgs {
			bs = append(bs, branch{from: "images", where: []string{w.cond, "images.os_hidden = " + h}, indexes: indexes})
		}
		return bs
	}
	// Memberships are read one status at a time, in the order asked for:
	// they carry their image's sort keys (migrations 00008, 00029, kept
	// by triggers), each with an index (member, status, key, created_at,
	// id), so the branch stops after a page whatever the order. The
	// indexes hold the memberships of live images only (00032), which
	// each walk and probe says, so SQLite may use them.
	// CROSS JOIN keeps SQLite from turning the join around.
	statuses := []string{w.status}
	if w.status == "" {
		statuses = memberStatuses
	}
	var bs []branch
	for _, st := range statuses {
		gate := p.memberGates(w.project, st)
		walk := branch{
			from: p.members,
			// The caller's own images are its owned branches' (and
			// the merge is a UNION ALL): a membership in one's own image
			// lists nothing more.
			where: []string{"m.status = " + st, "m.image_deleted = false",
				"images.id = m.image_id", "images.visibility = 'shared'",
				"COALESCE(images.owner, '') <> " + w.project},
			drive:   p.memberDrive(),
			indexes: memberIndex,
		}
		if p.hidden {
			// The partial index of hidden shares (migration 00030).
			walk.where = append(walk.where, "m.image_hidden")
		}
		key, few := p.memberRange(w.project, st)
		if key == "" {
			bs = append(bs, walk.of(w.project, gate))
			continue
		}
		// Read the range instead when at most a page of memberships is
		// in it: walking them in order tests every one of them when
		// only a few pass (updated_at=gt: 5.4 times a show in run S6).
		// Either branch lists the same rows; the probe picks one.
		ranged := walk
		ranged.where = append(slices.Clone(walk.where), p.ranges[key]...)
		ranged.indexes = nil
		ranged.index = memberIndex(key)
		bs = append(bs, walk.of(w.project, and(gate, "NOT "+few)), ranged.of(w.project, and(gate, few)))
	}
	return bs
}

// of is b reading the memberships of project (a placeholder) when gate
// holds, and none when it does not: the index range of a NULL member is
// empty. The gate is computed once, before the walk, and the branch
// stays a plain SELECT that the merge reads lazily (Dialect.LazyMerge)
// where a LIMIT of 0 (the plan's gate) needs a subquery that reads its
// page whole.
func (b branch) of(project, gate string) branch {
	member := project
	if gate != "" {
		member = "CASE WHEN " + gate + " THEN " + project + " END"
	}
	b.where = append([]string{"m.member = " + member}, b.where...)
	return b
}

// and joins two conditions, either of which may be "".
func and(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + " AND " + b
}

// memberRange returns the field of the range the memberships of project
// in status st may be read by (the first of rangeFields that the filters
// give one of), and the condition that at most a page of them is in it:
// its (limit+1)th entry is missing, found by stepping over at most a
// page of the index. "" when no range applies.
func (p *listPlan) memberRange(project, st string) (field, few string) {
	for _, f := range rangeFields {
		conds := p.ranges[f]
		if len(conds) == 0 {
			continue
		}
		probe := make([]string, len(conds))
		for i, c := range conds {
			probe[i] = "probe." + strings.TrimPrefix(c, "m.")
		}
		return f, "(SELECT 1 FROM image_members AS probe WHERE probe.member = " + project +
			" AND probe.status = " + st + " AND probe.image_deleted = false AND " + strings.Join(probe, " AND ") +
			" LIMIT 1 OFFSET " + p.limit + ") IS NULL"
	}
	return "", ""
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
			" AND probe.status = " + st + " AND probe.image_deleted = false AND " + c + " LIMIT 1) IS NOT NULL"
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
