package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/glint-image/glint/internal/image"
	benchcatalog "github.com/glint-image/glint/internal/image/catalog"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// catalog is the seeded set of images the request workloads run on.
//
// Image i is named bench-%06d and carries the tags "bench" and
// "t<i mod 50>" and the properties bench_group (i mod 100) and
// bench_counter. Every tenth image is public (created by the admin
// identity, as only admins may publicize), every tenth community, three
// in ten shared and half private. The shared images that package
// catalog's Membership gives the member (among the first 3000, 300
// accepted and 300 pending) belong to a second project, the sharer, which
// offers them to the member; the member accepts the accepted ones. Every
// other image is the member's. So the member lists its own images, the
// public ones and those shared with it, and can ask for the pending ones;
// the lonely project owns nothing and has nothing shared with it, and
// lists the public images only.
type catalog struct {
	all []string // what the member lists: public, its own, shared with it and accepted
	own []string // the member project's images (patchable)
	// mid is a creation time about half the catalog is older than; after
	// is later than every image's last update.
	mid, after time.Time
	// other is a project that owns images, neither the member's nor the
	// admin's (the admin's owner filter).
	other string
}

const (
	catalogTags   = 50
	catalogGroups = 100
)

// imageOwner is who creates an image of the catalog.
type imageOwner int

const (
	byMember imageOwner = iota
	byAdmin
	bySharer
)

// seedAttrs are the attributes of image i and who creates it; shares
// says whether a sharer seeds the images shared with the member.
func seedAttrs(i int, shares bool) (attrs map[string]any, owner imageOwner) {
	vis := "private"
	switch i % 10 {
	case 0:
		vis, owner = "public", byAdmin
	case 1:
		vis = "community"
	case 2, 3, 4:
		vis = "shared"
		if _, ok := benchcatalog.Membership(i); ok && shares {
			owner = bySharer
		}
	}
	tags := []string{"bench", "t" + strconv.Itoa(i%catalogTags)}
	if i%1000 == benchcatalog.RareEvery { // one of the member's private images
		tags = append(tags, benchcatalog.RareTag)
	}
	return map[string]any{
		"name":             fmt.Sprintf("bench-%06d", i),
		"disk_format":      "raw",
		"container_format": "bare",
		"visibility":       vis,
		"tags":             tags,
		"bench_group":      strconv.Itoa(i % catalogGroups),
		"bench_counter":    "0",
	}, owner
}

// callers are the identities the benchmark presents to one server.
// sharer and lonely are nil when the server was given no such identity
// (--endpoint with one token): then the member owns the shared images
// too, and the lonely caller's listings are not run.
type callers struct {
	member, admin, sharer, lonely *client
}

func (cs callers) close() {
	for _, c := range []*client{cs.member, cs.admin, cs.sharer, cs.lonely} {
		if c != nil {
			c.close()
		}
	}
}

// seed creates n images through the API with width clients at once, and
// the memberships of the shared ones, and returns the catalog and the
// number of requests it took.
func seed(ctx context.Context, cs callers, n, width int) (*catalog, int, error) {
	memberProject := cs.member.id.Headers.Get("X-Project-Id")
	if cs.sharer != nil && memberProject == "" {
		return nil, 0, errors.New("sharing images with the member needs its project (X-Project-Id)")
	}
	ids := make([]string, n)
	owners := make([]imageOwner, n)
	first := time.Now()
	err := parallel(ctx, n, width, func(ctx context.Context, i int) error {
		attrs, owner := seedAttrs(i, cs.sharer != nil)
		c := cs.member
		switch owner {
		case byAdmin:
			c = cs.admin
		case bySharer:
			c = cs.sharer
		}
		id, _, err := c.createImage(ctx, attrs)
		if err != nil {
			return fmt.Errorf("seeding image %d: %w", i, err)
		}
		ids[i], owners[i] = id, owner
		if owner != bySharer {
			return nil
		}
		status, _ := benchcatalog.Membership(i)
		if err := share(ctx, cs.sharer, cs.member, id, memberProject, status); err != nil {
			return fmt.Errorf("sharing image %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	last := time.Now()
	cat := &catalog{mid: first.Add(last.Sub(first) / 2), after: last.Add(7 * time.Hour), other: "p-7"}
	if cs.sharer != nil {
		cat.other = cs.sharer.id.Headers.Get("X-Project-Id")
	}
	requests := n
	for i, id := range ids {
		switch owners[i] {
		case byAdmin:
			cat.all = append(cat.all, id)
		case byMember:
			cat.all = append(cat.all, id)
			cat.own = append(cat.own, id)
		case bySharer:
			requests++
			if status, _ := benchcatalog.Membership(i); status == image.MemberAccepted {
				cat.all = append(cat.all, id)
				requests++
			}
		}
	}
	return cat, requests, nil
}

// share offers image id of the sharer to the member's project, and
// accepts it as the member when status is accepted (else it stays
// pending).
func share(ctx context.Context, sharer, member *client, id, project string, status image.MemberStatus) error {
	if _, err := sharer.do(ctx, "POST", "/v2/images/"+id+"/members", "application/json",
		jsonBody(map[string]any{"member": project}), http.StatusOK, nil); err != nil {
		return err
	}
	if status != image.MemberAccepted {
		return nil
	}
	_, err := member.do(ctx, "PUT", "/v2/images/"+id+"/members/"+project, "application/json",
		jsonBody(map[string]any{"status": string(image.MemberAccepted)}), http.StatusOK, nil)
	return err
}

// seedDirect writes the first n images of the benchmark catalog
// (package catalog) into the SQLite store of the glint that startGlint
// will run on dir, through the store, in batches.
func seedDirect(ctx context.Context, dir string, n int) error {
	data := filepath.Join(dir, "glint-data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return err
	}
	s, err := sqlite.Open(ctx, filepath.Join(data, "glint.db"))
	if err != nil {
		return err
	}
	err = benchcatalog.Seed(ctx, s, 0, n)
	return errors.Join(err, s.Close())
}

// directCatalog is the part of the catalog seedDirect wrote that the
// member lists (its project's images, the public ones and those shared
// with it and accepted, not hidden) and may change (its own), with the
// times package catalog's shapes filter on.
func directCatalog(n int) *catalog {
	cat := &catalog{mid: benchcatalog.Image(n / 2).CreatedAt,
		after: benchcatalog.Image(n - 1).CreatedAt.Add(7 * time.Hour), other: "p-7"}
	for i := range n {
		img := benchcatalog.Image(i)
		status, shared := benchcatalog.Membership(i)
		switch {
		case img.Hidden:
		case *img.Owner == benchcatalog.Member.Project:
			cat.own = append(cat.own, img.ID)
			cat.all = append(cat.all, img.ID)
		case img.Visibility == image.VisibilityPublic, shared && status == image.MemberAccepted:
			cat.all = append(cat.all, img.ID)
		}
	}
	return cat
}

func pick(rng *rand.Rand, ids []string) string { return ids[rng.IntN(len(ids))] }

// requestWorkloads are the request-per-operation workloads, in the
// order they run. create comes last: it grows the catalog.
func requestWorkloads(cs callers, cat *catalog) []workload {
	c := cs.member
	get := func(path func(rng *rand.Rand) string) op {
		return func(ctx context.Context, rng *rand.Rand) (int, error) {
			return c.do(ctx, "GET", path(rng), "", nil, http.StatusOK, nil)
		}
	}
	ws := []workload{
		{name: "show", fn: get(func(rng *rand.Rand) string { return "/v2/images/" + pick(rng, cat.all) })},
		{name: "list-sorted", fn: get(func(*rand.Rand) string {
			return "/v2/images?limit=25&sort_key=name&sort_dir=asc"
		})},
		{name: "list-tag", fn: get(func(rng *rand.Rand) string {
			return "/v2/images?limit=25&tag=t" + strconv.Itoa(rng.IntN(catalogTags))
		})},
		{name: "list-visibility", fn: get(func(*rand.Rand) string { return "/v2/images?limit=25&visibility=public" })},
		{name: "list-name", fn: get(func(rng *rand.Rand) string {
			return fmt.Sprintf("/v2/images?limit=25&name=bench-%06d", rng.IntN(len(cat.all)))
		})},
	}
	for _, sh := range listShapes(cat) {
		caller := map[shapeCaller]*client{asMember: c, asAdmin: cs.admin, asLonely: cs.lonely}[sh.caller]
		if caller == nil {
			continue // no such identity given
		}
		ws = append(ws, workload{name: "list-" + sh.name, fn: func(ctx context.Context, _ *rand.Rand) (int, error) {
			return caller.do(ctx, "GET", "/v2/images?"+sh.query, "", nil, http.StatusOK, nil)
		}})
	}
	return append(ws, []workload{
		{name: "patch", fn: func(ctx context.Context, rng *rand.Rand) (int, error) {
			body := jsonBody([]map[string]any{{"op": "replace", "path": "/bench_counter",
				"value": strconv.FormatUint(rng.Uint64(), 10)}})
			return c.do(ctx, "PATCH", "/v2/images/"+pick(rng, cat.own), patchType, body, http.StatusOK, nil)
		}},
		{name: "create", fn: func(ctx context.Context, rng *rand.Rand) (int, error) {
			_, status, err := c.createImage(ctx, map[string]any{
				"name": fmt.Sprintf("bench-new-%d", rng.Uint64()), "disk_format": "raw",
				"container_format": "bare", "tags": []string{"bench-new"},
			})
			return status, err
		}},
	}...)
}

// walk lists every image the caller sees, limit at a time, following the
// next links, and returns how many it saw.
func walk(ctx context.Context, c *client, limit int) (int, error) {
	path := "/v2/images?limit=" + strconv.Itoa(limit)
	seen := 0
	for path != "" {
		var page imagePage
		if _, err := c.do(ctx, "GET", path, "", nil, http.StatusOK, &page); err != nil {
			return seen, err
		}
		seen += len(page.Images)
		path = page.Next
	}
	return seen, nil
}
