// Package catalog is the benchmark catalog: a deterministic set of images
// of every visibility, owner, share, tag and format, and every listing
// shape the Image API accepts as a store query on it. imagetest's Bench
// and glint bench measure the shapes on it; the SQL backends' plan tests
// (sqlstore/plantest) prove each one reads an index range in order.
package catalog

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/glint-image/glint/internal/image"
)

// Callers of the catalog: a project that owns images and has images
// shared with it, a project that has neither, and an admin.
var (
	Member = image.Scope{Project: "bench-project"}
	Lonely = image.Scope{Project: "bench-lonely"}
	Admin  = image.Scope{Project: "bench-admin", Admin: true}
)

// start is the creation time of image 0; image i is i seconds
// younger.
var start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// ID is the id of image i of the catalog.
func ID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// Image is image i of a catalog. Every tenth image is public (owned
// by the admin's project), one community; three are shared by other
// projects, two private to Member and three private to other
// projects (200 of them). Tags, groups and hiding go by tens of images,
// so each of them spans every visibility: tags "bench" and t0..t49,
// property bench_group 0..99, one ten in twenty hidden. One image in a
// thousand, one of Member's private ones, also has the tag "rare". Three quarters
// are active with a size; disk formats rotate.
func Image(i int) *image.Image {
	owner, vis := "p-"+strconv.Itoa(i%200), image.VisibilityPrivate
	switch i % 10 {
	case 0:
		owner, vis = "bench-admin", image.VisibilityPublic
	case 1:
		vis = image.VisibilityCommunity
	case 2, 3, 4:
		vis = image.VisibilityShared
	case 5, 6:
		owner = Member.Project
	}
	name := fmt.Sprintf("bench-%06d", i)
	ten := i / 10
	disk, container := []string{"qcow2", "raw", "vmdk"}[i%3], "bare"
	at := start.Add(time.Duration(i) * time.Second)
	img := &image.Image{
		ID: ID(i), Name: &name, Owner: &owner, Status: image.StatusQueued, Visibility: vis,
		DiskFormat: &disk, ContainerFormat: &container, Hidden: ten%20 == 19,
		CreatedAt: at, UpdatedAt: at.Add(time.Duration(i%7) * time.Hour),
		Tags:       []string{"bench", "t" + strconv.Itoa(ten%50)},
		Properties: map[string]string{"bench_group": strconv.Itoa(ten % 100), "bench_counter": "0"},
	}
	if i%1000 == RareEvery {
		img.Tags = append(img.Tags, RareTag)
	}
	if i%4 != 0 {
		size := int64(1+i%1000) << 20
		img.Status, img.Size, img.Checksum = image.StatusActive, &size, fmt.Sprintf("%032x", i)
	}
	return img
}

// RareTag is on image RareEvery of every thousand, one of Member's
// private images: a tag that every other branch of a listing lacks.
const (
	RareTag   = "rare"
	RareEvery = 5
)

// Membership is the membership of Member in shared image i,
// if it has one: among the first 3000 images, accepted for a third of the
// shared ones and pending for another third. A project is offered some
// hundred images whatever the size of the catalog. glint bench gives the
// member the same memberships in the catalog it seeds through the API.
func Membership(i int) (image.MemberStatus, bool) {
	if i >= 3000 {
		return "", false
	}
	// Shared images are those with i mod 10 in 2..4, so i mod 30 in
	// 2..4, 12..14, 22..24.
	switch i % 30 {
	case 2, 13, 24:
		return image.MemberAccepted, true
	case 3, 14, 22:
		return image.MemberPending, true
	}
	return "", false
}

// Batcher is a store that can create many images and memberships in one
// transaction (sqlstore.Store).
type Batcher interface {
	CreateBatch(ctx context.Context, imgs []*image.Image, members []*image.Member) error
}

// Seed creates images first..n-1 of the catalog in s, directly
// through the store: in batches of 2000 when s is a Batcher, else with
// concurrent writers.
func Seed(ctx context.Context, s image.Store, first, n int) error {
	if b, ok := s.(Batcher); ok {
		for lo := first; lo < n; lo += 2000 {
			var imgs []*image.Image
			var members []*image.Member
			for i := lo; i < min(lo+2000, n); i++ {
				img := Image(i)
				imgs = append(imgs, img)
				if st, ok := Membership(i); ok {
					members = append(members, &image.Member{ImageID: img.ID, MemberID: Member.Project,
						Status: st, CreatedAt: img.CreatedAt, UpdatedAt: img.CreatedAt})
				}
			}
			if err := b.CreateBatch(ctx, imgs, members); err != nil {
				return err
			}
		}
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i := first; i < n; i++ {
		g.Go(func() error {
			img := Image(i)
			if err := s.CreateImage(ctx, img); err != nil {
				return err
			}
			if st, ok := Membership(i); ok {
				return s.AddMember(ctx, &image.Member{ImageID: img.ID, MemberID: Member.Project,
					Status: st, CreatedAt: img.CreatedAt, UpdatedAt: img.CreatedAt})
			}
			return nil
		})
	}
	return g.Wait()
}

// SeedDeleted creates images first..n-1 of the catalog in s, as Seed
// does, and then deletes them all through the store (a soft delete, at
// the time of image first): a cloud's history of images made and
// deleted, which no listing shows and every listing's indexes may still
// hold. They are the catalog's newest, as the snapshots a cloud makes and
// deletes every day are, and Member was offered its share of them (as
// Membership offers the first 3000) before they were deleted.
func SeedDeleted(ctx context.Context, s image.Store, first, n int) error {
	if err := Seed(ctx, s, first, n); err != nil {
		return err
	}
	at := Image(first).CreatedAt
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(16) // concurrent writes share commits (group commit)
	for i := first; i < n; i++ {
		g.Go(func() error {
			if st, ok := Membership(i % 3000); ok && i >= 3000 {
				err := s.AddMember(ctx, &image.Member{ImageID: ID(i), MemberID: Member.Project,
					Status: st, CreatedAt: at, UpdatedAt: at})
				if err != nil {
					return err
				}
			}
			_, err := s.DeleteImage(ctx, ID(i), at)
			return err
		})
	}
	return g.Wait()
}

// Shape is one listing: a name and its query.
type Shape struct {
	Name  string
	Query image.ListQuery
	Empty bool // the listing finds nothing, by design
}

// Shapes returns the listings of the catalog: the default order for
// each caller; every sort key in both directions, and sorts on several
// keys; every filter the API turns into a store query; the visibility and
// member_status values; and a page of 1000. All are limit 25 with
// os_hidden=false (the API's default) unless their name says otherwise.
// n is the catalog's size, which time filters are placed within.
func Shapes(n int) []Shape {
	notHidden, yes, no := false, true, false
	q := func(caller image.Scope) image.ListQuery {
		return image.ListQuery{Caller: caller, Hidden: &notHidden, Limit: 25}
	}
	var shapes []Shape
	add := func(name string, query image.ListQuery) { shapes = append(shapes, Shape{Name: name, Query: query}) }
	add("default", q(Member))
	add("default-lonely", q(Lonely))
	add("default-admin", q(Admin))
	page := q(Member)
	page.Limit = 1000
	add("page-1000", page)
	for _, key := range image.SortKeys {
		for _, desc := range []bool{false, true} {
			dir := "asc"
			if desc {
				dir = "desc"
			}
			query := q(Member)
			query.Sort = []image.SortKey{{Key: key, Desc: desc}}
			add("sort-"+key+"-"+dir, query)
		}
	}
	for _, caller := range []struct {
		name  string
		scope image.Scope
	}{{"lonely", Lonely}, {"admin", Admin}} {
		query := q(caller.scope)
		query.Sort = []image.SortKey{{Key: "name"}}
		add("sort-name-asc-"+caller.name, query)
	}
	multi := q(Member)
	multi.Sort = []image.SortKey{{Key: "name"}, {Key: "size", Desc: true}}
	add("sort-name-asc,size-desc", multi)
	multi = q(Member)
	multi.Sort = []image.SortKey{{Key: "updated_at", Desc: true}, {Key: "name"}}
	add("sort-updated_at-desc,name-asc", multi)

	for _, v := range []string{"all", "public", "community", "private", "shared"} {
		query := q(Member)
		query.Visibility = v
		add("visibility-"+v, query)
	}
	admin := q(Admin)
	admin.Visibility = "all"
	add("visibility-all-admin", admin)
	for _, st := range []string{"pending", "all"} {
		query := q(Member)
		query.Visibility, query.MemberStatus = "shared", st
		add("member_status-"+st, query)
	}
	filter := func(name string, caller image.Scope, fs ...image.Filter) {
		query := q(caller)
		query.Filters = fs
		add(name, query)
	}
	eq := func(field, value string) image.Filter {
		return image.Filter{Field: field, Op: "eq", Values: []string{value}}
	}
	mid := start.Add(time.Duration(n/2) * time.Second).Format(time.RFC3339Nano)
	filter("owner", Member, eq("owner", Member.Project))
	filter("owner-admin", Admin, eq("owner", "p-7"))
	filter("status", Member, eq("status", "active"))
	filter("name", Member, eq("name", fmt.Sprintf("bench-%06d", n/2)))
	filter("id", Member, eq("id", ID(n/2)))
	// A name prefix (the dashboard's search): a range of the name index,
	// or with names as the order each branch's own index by name.
	filter("name-prefix", Member, image.Filter{Field: "name", Op: "prefix", Values: []string{fmt.Sprintf("bench-%05d", n/20)}})
	byName := q(Member)
	byName.Filters = []image.Filter{{Field: "name", Op: "prefix", Values: []string{"bench-00"}}}
	byName.Sort = []image.SortKey{{Key: "name"}}
	add("name-prefix-sort-name", byName)
	filter("disk_format", Member, eq("disk_format", "raw"))
	filter("size_min,size_max", Member,
		image.Filter{Field: "size", Op: "gte", Values: []string{strconv.Itoa(100 << 20)}},
		image.Filter{Field: "size", Op: "lte", Values: []string{strconv.Itoa(900 << 20)}})
	filter("in-status", Member, image.Filter{Field: "status", Op: "in", Values: []string{"active", "queued"}})
	filter("in-disk_format", Member, image.Filter{Field: "disk_format", Op: "in", Values: []string{"qcow2", "vmdk"}})
	filter("created_at-lte", Member, image.Filter{Field: "created_at", Op: "lte", Values: []string{mid}})
	filter("updated_at-gt", Member, image.Filter{Field: "updated_at", Op: "gt", Values: []string{mid}})
	// A range that matches nothing (every image was updated at most six
	// hours after its creation): without a probe of the range's index,
	// each branch is walked to its end testing the time on every row.
	none := start.Add(time.Duration(n)*time.Second + 7*time.Hour).Format(time.RFC3339Nano)
	filter("updated_at-gt-none", Member, image.Filter{Field: "updated_at", Op: "gt", Values: []string{none}})
	shapes[len(shapes)-1].Empty = true
	filter("neq-status", Member, image.Filter{Field: "status", Op: "neq", Values: []string{"queued"}})

	tag := q(Member)
	tag.Tags = []string{"t7"}
	add("tag", tag)
	tag = q(Member)
	tag.Tags = []string{"t7", "bench"}
	add("tags-2", tag)
	tag = q(Member)
	tag.Tags, tag.Sort = []string{"t7"}, []image.SortKey{{Key: "name"}}
	add("tag-sort-name", tag)
	// A tag on a few of the caller's own images, sorted: walking the
	// other branches by name would read all of them for none.
	tag = q(Member)
	tag.Tags, tag.Sort = []string{RareTag}, []image.SortKey{{Key: "name"}}
	add("tag-rare-sort-name", tag)
	prop := q(Member)
	prop.Properties = map[string]string{"bench_group": "7"}
	add("property", prop)
	hidden := q(Member)
	hidden.Hidden = &yes
	add("os_hidden-true", hidden)
	all := q(Member)
	all.Hidden = nil
	add("os_hidden-any", all)
	prot := q(Member)
	prot.Protected = &no
	add("protected-false", prot)
	return shapes
}
