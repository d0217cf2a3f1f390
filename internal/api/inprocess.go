package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/glint-image/glint/internal/image"
)

// glint's own in-process clients (the dashboard) reach the API through
// InProcess, which adds a few listing extensions the public API does not
// have. Over the network they do not exist: the parameters below are
// then what Glance makes of any unknown key, a filter on an extra
// property of that name.
const (
	// paramNamePrefix lists the images whose name starts with the value
	// (a range of the name index, see sqlstore.listPlan.prefix).
	paramNamePrefix = "glint_name_prefix"
	// paramNameContains lists the images whose name holds the value, a
	// bounded scan (see sqlstore's containsScan).
	paramNameContains = "glint_name_contains"
	// paramTotal adds "glint_total" (the images the listing holds over
	// all its pages, counted up to image.MaxCount) and
	// "glint_total_capped" to the answer.
	paramTotal = "glint_total"
)

type inProcessKey struct{}

// InProcess is the API for clients in the same process, with glint's
// listing extensions. Nothing reaches it from the network: the server
// hands it only to the dashboard.
func (h *Handler) InProcess() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), inProcessKey{}, true)))
	})
}

func inProcess(r *http.Request) bool {
	v, _ := r.Context().Value(inProcessKey{}).(bool)
	return v
}

// listExtensions takes the extension parameters out of v (in process
// only) and adds their filters to q; total reports a wanted count.
func listExtensions(r *http.Request, v url.Values) (filters []image.Filter, total bool) {
	if !inProcess(r) {
		return nil, false
	}
	if p, ok := v[paramNamePrefix]; ok {
		if p[0] != "" {
			filters = append(filters, image.Filter{Field: "name", Op: "prefix", Values: []string{p[0]}})
		}
		v.Del(paramNamePrefix)
	}
	if p, ok := v[paramNameContains]; ok {
		if p[0] != "" {
			filters = append(filters, image.Filter{Field: "name", Op: "contains", Values: []string{p[0]}})
		}
		v.Del(paramNameContains)
	}
	if _, ok := v[paramTotal]; ok {
		total = true
		v.Del(paramTotal)
	}
	return filters, total
}
