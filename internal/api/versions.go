package api

import (
	"net/http"
	"strings"
)

// versions lists what glint speaks, in the shape Glance 25 (Zed) gives:
// v2.15 current, and the older minors it still accepts. Multi-store adds
// the store-related minors 2.8 and 2.10-2.13; the image cache adds 2.14
// and 2.16, which is then current.
var versions = []struct{ id, status string }{
	{"v2.16", "cache"},
	{"v2.15", "CURRENT"},
	{"v2.14", "cache"},
	{"v2.13", "multi"},
	{"v2.12", "multi"},
	{"v2.11", "multi"},
	{"v2.10", "multi"},
	{"v2.9", "SUPPORTED"},
	{"v2.8", "multi"},
	{"v2.7", "SUPPORTED"},
	{"v2.6", "SUPPORTED"},
	{"v2.5", "SUPPORTED"},
	{"v2.4", "SUPPORTED"},
	{"v2.3", "SUPPORTED"},
	{"v2.2", "SUPPORTED"},
	{"v2.1", "SUPPORTED"},
	{"v2.0", "SUPPORTED"},
}

// listVersions answers version discovery: 200 for an explicit /versions,
// 300 Multiple Choices for the root and unknown version prefixes.
func (h *Handler) listVersions(w http.ResponseWriter, r *http.Request) error {
	href := absoluteURL(r, "/v2/")
	list := make([]*object, 0, len(versions))
	for _, v := range versions {
		status := v.status
		switch {
		case status == "multi" && !h.opts.MultiStore, status == "cache" && !h.opts.Cache:
			continue
		case status == "multi":
			status = "SUPPORTED"
		case v.id == "v2.16":
			// With the cache API, Zed's current version is 2.16.
			status = "CURRENT"
		case status == "cache", status == "CURRENT" && h.opts.Cache:
			status = "SUPPORTED"
		}
		list = append(list, newObject().
			add("id", v.id).
			add("status", status).
			add("links", []*object{newObject().add("rel", "self").add("href", href)}))
	}
	code := http.StatusMultipleChoices
	if strings.TrimSuffix(r.URL.Path, "/") == "/versions" {
		code = http.StatusOK
	}
	return writeJSON(w, code, newObject().add("versions", list))
}
