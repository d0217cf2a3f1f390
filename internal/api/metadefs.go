package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/glint-image/glint/internal/metadef"
)

// The metadata definitions catalog, /v2/metadefs (glance/api/v2/
// metadef_*.py): namespaces here, their contents in
// metadefs_contents.go. Handlers parse (Glance checks bodies and query
// parameters before anything else), call one metadef.Service method and
// encode.

// metadefRoutes is the catalog's part of the route table.
func (h *Handler) metadefRoutes() []route {
	c := h.catalog
	rs := []route{
		{"GET", "/v2/metadefs/namespaces", c(h.listNamespaces), false},
		{"POST", "/v2/metadefs/namespaces", c(h.createNamespace), false},
		{"GET", "/v2/metadefs/namespaces/{ns}", noBody(c(h.showNamespace)), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}", c(h.updateNamespace), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}", noBody(c(h.deleteNamespace)), false},

		{"GET", "/v2/metadefs/namespaces/{ns}/objects", c(h.listObjects), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/objects", c(h.createObject), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/objects", c(h.deleteContent(metadef.PartObjects)), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/objects/{name}", noBody(c(h.showObject)), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/objects/{name}", c(h.updateObject), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/objects/{name}", noBody(c(h.deleteObject)), false},

		{"GET", "/v2/metadefs/namespaces/{ns}/properties", noBody(c(h.listProperties)), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/properties", c(h.createProperty), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/properties", c(h.deleteContent(metadef.PartProperties)), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/properties/{name}", c(h.showProperty), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/properties/{name}", c(h.updateProperty), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/properties/{name}", c(h.deleteProperty), false},

		{"GET", "/v2/metadefs/namespaces/{ns}/tags", c(h.listTags), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/tags", c(h.createTags), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/tags", c(h.deleteContent(metadef.PartTags)), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(c(h.showTag)), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(c(h.createTag)), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/tags/{name}", c(h.updateTag), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(c(h.deleteTag)), false},

		{"GET", "/v2/metadefs/resource_types", noBody(c(h.listResourceTypes)), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/resource_types", noBody(c(h.listAssociations)), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/resource_types", c(h.createAssociation), false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/resource_types/{rt}", noBody(c(h.deleteAssociation)), false},
	}
	for _, name := range metadef.SchemaNames {
		rs = append(rs, route{"GET", "/v2/schemas/metadefs/" + name, noBody(h.metadefSchema(name)), false})
	}
	return rs
}

// noBody refuses a request body where Glance's router says body_reject.
func noBody(next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
			return badRequest("A body is not expected with this request.")
		}
		return next(w, r)
	}
}

// catalogHandler is a catalog handler: it is given the catalog service.
type catalogHandler func(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error

// catalog hands the catalog service to a handler; a server without one
// answers 404.
func (h *Handler) catalog(next catalogHandler) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if h.opts.Metadefs == nil {
			return &httpError{status: http.StatusNotFound, explanation: "The resource could not be found."}
		}
		return next(h.opts.Metadefs, w, r)
	}
}

// parseBody reads a request body and parses it with parse: Glance checks
// a catalog body before anything else.
func parseBody[T any](h *Handler, r *http.Request, parse func([]byte) (T, error)) (T, error) {
	body, err := h.readBody(r)
	if err != nil {
		var zero T
		return zero, err
	}
	return parse(body)
}

// writeMade writes what encoding made, or the encoding's error.
func writeMade(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(w, status, v)
}

// noContent is a delete's answer: 204, or the call's error.
func noContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) metadefSchema(name string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, _ := metadef.Schema(name)
		return writeJSON(w, http.StatusOK, s)
	}
}

// orderedQuery is the query string as Python's dict(request.params) sees
// it: keys in first-seen order, each with its last value. Glance builds
// its pagination links from it.
type orderedQuery struct {
	keys []string
	vals map[string]string
}

func parseOrderedQuery(raw string) orderedQuery {
	q := orderedQuery{vals: map[string]string{}}
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		key, err1 := url.QueryUnescape(k)
		val, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			continue
		}
		if _, seen := q.vals[key]; !seen {
			q.keys = append(q.keys, key)
		}
		q.vals[key] = val
	}
	return q
}

func (q orderedQuery) get(key string) (string, bool) { v, ok := q.vals[key]; return v, ok }

// encode is Python's urlencode of the parameters, without drop.
func (q orderedQuery) encode(drop string) string {
	var parts []string
	for _, k := range q.keys {
		if k != drop {
			parts = append(parts, url.QueryEscape(k)+"="+url.QueryEscape(q.vals[k]))
		}
	}
	return strings.Join(parts, "&")
}

// sortDir reads sort_dir (desc by default).
func sortDir(q orderedQuery) (bool, error) {
	dir, ok := q.get("sort_dir")
	if !ok {
		return true, nil
	}
	if dir != "asc" && dir != "desc" {
		return false, badRequest("Invalid sort direction: " + dir)
	}
	return dir == "desc", nil
}

// checkVisibility refuses a visibility filter Glance does not know.
func checkVisibility(q orderedQuery, allowed ...string) error {
	v, _ := q.get("visibility")
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return badRequest("Invalid visibility value: " + v)
}

func (h *Handler) listNamespaces(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	q := parseOrderedQuery(r.URL.RawQuery)
	req := metadef.ListRequest{}
	if s, ok := q.get("limit"); ok {
		n, err := parseLimit(s)
		if err != nil {
			return err
		}
		req.Limit = &n
	}
	req.Marker, _ = q.get("marker")
	req.Sort, _ = q.get("sort_key")
	var err error
	if req.Desc, err = sortDir(q); err != nil {
		return err
	}
	if err := checkVisibility(q, metadef.VisibilityPublic, metadef.VisibilityPrivate); err != nil {
		return err
	}
	req.Visibility, _ = q.get("visibility")
	if rt, ok := q.get("resource_types"); ok {
		req.ResourceTypes = strings.Split(rt, ",")
	}
	page, err := svc.ListNamespaces(r.Context(), principal(r), req)
	if err != nil {
		return err
	}
	list := make([]*object, 0, len(page.Namespaces))
	for _, d := range page.Namespaces {
		o := namespaceFields(&d.Namespace)
		if len(d.Associations) > 0 {
			assocs := make([]*object, 0, len(d.Associations))
			for _, a := range d.Associations {
				assocs = append(assocs, associationJSON(&a, true))
			}
			o.add("resource_type_associations", assocs)
		}
		list = append(list, withLinks(o, d.Name))
	}
	out := newObject().add("namespaces", list)
	rest := q.encode("marker")
	if page.Next != "" {
		sep := ""
		if rest != "" {
			sep = "&"
		}
		out.add("next", "/v2/metadefs/namespaces?"+rest+sep+"marker="+url.QueryEscape(page.Next))
	}
	first := "/v2/metadefs/namespaces"
	if rest != "" {
		first += "?" + rest
	}
	out.add("schema", "/v2/schemas/metadefs/namespaces").add("first", first)
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) createNamespace(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	d, err := parseBody(h, r, metadef.ParseNamespace)
	if err != nil {
		return err
	}
	created, err := svc.CreateNamespace(r.Context(), principal(r), d)
	if err != nil {
		return err
	}
	out, err := namespaceJSON(created, given)
	if err != nil {
		return err
	}
	w.Header().Set("Location", absoluteURL(r, namespacePath(created.Name)))
	return writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) showNamespace(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	q := parseOrderedQuery(r.URL.RawQuery)
	if err := checkVisibility(q, metadef.VisibilityPublic, metadef.VisibilityPrivate); err != nil {
		return err
	}
	rt, _ := q.get("resource_type")
	d, err := svc.GetNamespace(r.Context(), principal(r), r.PathValue("ns"), rt)
	if err != nil {
		return err
	}
	out, err := namespaceJSON(d, nonEmpty)
	return writeMade(w, http.StatusOK, out, err)
}

func (h *Handler) updateNamespace(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	d, err := parseBody(h, r, metadef.ParseNamespace)
	if err != nil {
		return err
	}
	ns, err := svc.UpdateNamespace(r.Context(), principal(r), r.PathValue("ns"), &d.Namespace)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, withLinks(namespaceFields(ns), ns.Name))
}

func (h *Handler) deleteNamespace(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, svc.DeleteNamespace(r.Context(), principal(r), r.PathValue("ns")))
}

func (h *Handler) deleteContent(part metadef.Part) catalogHandler {
	return func(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
		return noContent(w, svc.DeleteContent(r.Context(), principal(r), r.PathValue("ns"), part))
	}
}
