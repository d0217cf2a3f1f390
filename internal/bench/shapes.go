package bench

import (
	"fmt"
	"time"

	benchcatalog "github.com/glint-image/glint/internal/image/catalog"
)

// listShape is one listing the benchmark measures: the query string of
// GET /v2/images and who asks it. They are the shapes of package catalog
// (the store's benchmark and plan tests) as the API takes them, each as
// the caller the store's shape names: the member (its project owns
// images and has images shared with it), the admin, or the lonely
// project (no images of its own, none shared with it). The four older
// list workloads (list-sorted, list-tag, list-visibility, list-name) keep
// their names for docs/benchmarks.md's earlier runs, and the shapes
// measured before those of the lonely caller keep their order.
type listShape struct {
	name, query string
	caller      shapeCaller
}

type shapeCaller int

const (
	asMember shapeCaller = iota
	asAdmin
	asLonely
)

// notOverAPI are the shapes of package catalog the Image API cannot ask
// for, and why; TestListShapesCoverTheCatalog holds the rest to be here.
var notOverAPI = map[string]string{
	"name-prefix":           "a name prefix is an in-process extension (the dashboard's glint_name_prefix), not on the network",
	"name-prefix-sort-name": "a name prefix is an in-process extension (the dashboard's glint_name_prefix), not on the network",
	"neq-status":            "status takes only exact values and in: lists over the API (neq: is for created_at and updated_at)",
	"os_hidden-any":         "the API lists os_hidden=false when os_hidden is absent; it has no value for either",
}

// measuredAs are shapes of package catalog that an older list workload
// already measures with the same query.
var measuredAs = map[string]string{
	"visibility-public": "list-visibility",
}

func listShapes(cat *catalog) []listShape {
	n := len(cat.all)
	mid := cat.mid.UTC().Format(time.RFC3339)
	shapes := []listShape{
		{name: "default", query: "limit=25"},
		{name: "default-admin", query: "limit=25", caller: asAdmin},
		{name: "page-1000", query: "limit=1000"},
		{name: "sort-created_at-desc", query: "limit=25&sort=created_at:desc"},
	}
	for _, key := range sortKeys {
		shapes = append(shapes, listShape{name: "sort-" + key + "-asc", query: "limit=25&sort_key=" + key + "&sort_dir=asc"})
	}
	shapes = append(shapes,
		listShape{name: "sort-name-asc-admin", query: "limit=25&sort_key=name&sort_dir=asc", caller: asAdmin},
		listShape{name: "sort-name-asc,size-desc", query: "limit=25&sort=name:asc,size:desc"},
		listShape{name: "visibility-all", query: "limit=25&visibility=all"},
		listShape{name: "visibility-private", query: "limit=25&visibility=private"},
		listShape{name: "visibility-shared", query: "limit=25&visibility=shared"},
		listShape{name: "visibility-community", query: "limit=25&visibility=community"},
		listShape{name: "visibility-all-admin", query: "limit=25&visibility=all", caller: asAdmin},
		listShape{name: "member_status-all", query: "limit=25&visibility=shared&member_status=all"},
		listShape{name: "owner", query: "limit=25&owner=bench-project"},
		listShape{name: "status", query: "limit=25&status=active"},
		listShape{name: "id", query: "limit=25&id=" + cat.all[n/2]},
		listShape{name: "disk_format", query: "limit=25&disk_format=raw"},
		listShape{name: "size_min,size_max", query: "limit=25&size_min=1&size_max=1073741824"},
		listShape{name: "in-status", query: "limit=25&status=in:active,queued"},
		listShape{name: "created_at-lte", query: "limit=25&created_at=lte:" + mid},
		listShape{name: "updated_at-gt", query: "limit=25&updated_at=gt:" + mid},
		listShape{name: "tags-2", query: "limit=25&tag=t7&tag=bench"},
		listShape{name: "property", query: "limit=25&bench_group=7"},
		listShape{name: "os_hidden-true", query: "limit=25&os_hidden=true"},
	)

	// The rest of package catalog's shapes, added after the ones above
	// were first measured.
	shapes = append(shapes,
		listShape{name: "default-lonely", query: "limit=25", caller: asLonely},
		listShape{name: "sort-name-asc-lonely", query: "limit=25&sort_key=name&sort_dir=asc", caller: asLonely},
	)
	for _, key := range sortKeys {
		if key != "created_at" {
			shapes = append(shapes, listShape{name: "sort-" + key + "-desc", query: "limit=25&sort_key=" + key + "&sort_dir=desc"})
		}
	}
	return append(shapes,
		listShape{name: "sort-updated_at-desc,name-asc", query: "limit=25&sort=updated_at:desc,name:asc"},
		listShape{name: "member_status-pending", query: "limit=25&visibility=shared&member_status=pending"},
		listShape{name: "owner-admin", query: "limit=25&owner=" + cat.other, caller: asAdmin},
		listShape{name: "name", query: fmt.Sprintf("limit=25&name=bench-%06d", n/2)},
		// Both catalogs have raw images (the API-seeded one nothing else).
		listShape{name: "in-disk_format", query: "limit=25&disk_format=in:raw,qcow2"},
		// Matches nothing, under the default order (created_at): without
		// a probe of the updated_at range the whole listing is read.
		listShape{name: "updated_at-gt-none", query: "limit=25&updated_at=gt:" + cat.after.UTC().Format(time.RFC3339)},
		listShape{name: "tag", query: "limit=25&tag=t7"},
		listShape{name: "tag-sort-name", query: "limit=25&tag=t7&sort_key=name&sort_dir=asc"},
		listShape{name: "tag-rare-sort-name", query: "limit=25&tag=" + benchcatalog.RareTag + "&sort_key=name&sort_dir=asc"},
		listShape{name: "protected-false", query: "limit=25&protected=false"},
	)
}

// sortKeys are Glance's eight sort keys (image.SortKeys), in the order
// the shapes were first measured.
var sortKeys = []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"}
