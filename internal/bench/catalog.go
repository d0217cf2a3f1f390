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
// in ten shared and half private, all of the member's project, so the
// member sees the whole catalog and visibility filters select a tenth.
type catalog struct {
	all []string // every image id, public ones included
	own []string // the member project's images (patchable)
}

const (
	catalogTags   = 50
	catalogGroups = 100
)

func seedAttrs(i int) (attrs map[string]any, public bool) {
	vis := "private"
	switch i % 10 {
	case 0:
		vis, public = "public", true
	case 1:
		vis = "community"
	case 2, 3, 4:
		vis = "shared"
	}
	return map[string]any{
		"name":             fmt.Sprintf("bench-%06d", i),
		"disk_format":      "raw",
		"container_format": "bare",
		"visibility":       vis,
		"tags":             []string{"bench", "t" + strconv.Itoa(i%catalogTags)},
		"bench_group":      strconv.Itoa(i % catalogGroups),
		"bench_counter":    "0",
	}, public
}

// seed creates n images through the API with width clients at once.
func seed(ctx context.Context, member, admin *client, n, width int) (*catalog, error) {
	ids := make([]string, n)
	public := make([]bool, n)
	err := parallel(ctx, n, width, func(ctx context.Context, i int) error {
		attrs, pub := seedAttrs(i)
		c := member
		if pub {
			c = admin
		}
		id, _, err := c.createImage(ctx, attrs)
		if err != nil {
			return fmt.Errorf("seeding image %d: %w", i, err)
		}
		ids[i], public[i] = id, pub
		return nil
	})
	if err != nil {
		return nil, err
	}
	cat := &catalog{all: ids}
	for i, id := range ids {
		if !public[i] {
			cat.own = append(cat.own, id)
		}
	}
	return cat, nil
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
// member sees (its project's images and the public ones, not hidden:
// what it shows, and at least what it walks) and may change (its own).
func directCatalog(n int) *catalog {
	cat := &catalog{}
	for i := range n {
		img := benchcatalog.Image(i)
		switch {
		case img.Hidden:
		case *img.Owner == benchcatalog.Member.Project:
			cat.own = append(cat.own, img.ID)
			cat.all = append(cat.all, img.ID)
		case img.Visibility == image.VisibilityPublic:
			cat.all = append(cat.all, img.ID)
		}
	}
	return cat
}

func pick(rng *rand.Rand, ids []string) string { return ids[rng.IntN(len(ids))] }

// requestWorkloads are the request-per-operation workloads, in the
// order they run. create comes last: it grows the catalog.
func requestWorkloads(c, admin *client, cat *catalog) []workload {
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
		caller := c
		if sh.admin {
			caller = admin
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
