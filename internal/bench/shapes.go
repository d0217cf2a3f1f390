package bench

import (
	"time"
)

// listShape is one listing the benchmark measures: the query string of
// GET /v2/images and whether the admin asks it (else the member). They
// are the shapes of package catalog (the store's benchmark and plan
// tests) as the API takes them, on the catalog both seed: the member's
// project owns images and has images shared with it. The four older list
// workloads (list-sorted, list-tag, list-visibility, list-name) keep
// their names for docs/benchmarks.md's earlier runs.
type listShape struct {
	name, query string
	admin       bool
}

func listShapes(cat *catalog) []listShape {
	n := len(cat.all)
	mid := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n/2) * time.Second).Format(time.RFC3339)
	shapes := []listShape{
		{name: "default", query: "limit=25"},
		{name: "default-admin", query: "limit=25", admin: true},
		{name: "page-1000", query: "limit=1000"},
		{name: "sort-created_at-desc", query: "limit=25&sort=created_at:desc"},
	}
	for _, key := range []string{"name", "status", "container_format", "disk_format", "size", "id", "created_at", "updated_at"} {
		shapes = append(shapes, listShape{name: "sort-" + key + "-asc", query: "limit=25&sort_key=" + key + "&sort_dir=asc"})
	}
	return append(shapes,
		listShape{name: "sort-name-asc-admin", query: "limit=25&sort_key=name&sort_dir=asc", admin: true},
		listShape{name: "sort-name-asc,size-desc", query: "limit=25&sort=name:asc,size:desc"},
		listShape{name: "visibility-all", query: "limit=25&visibility=all"},
		listShape{name: "visibility-private", query: "limit=25&visibility=private"},
		listShape{name: "visibility-shared", query: "limit=25&visibility=shared"},
		listShape{name: "visibility-community", query: "limit=25&visibility=community"},
		listShape{name: "visibility-all-admin", query: "limit=25&visibility=all", admin: true},
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
}
