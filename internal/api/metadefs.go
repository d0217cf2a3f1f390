package api

import (
	"net/http"
	"net/url"
	"strconv"
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
	rs := []route{
		{"GET", "/v2/metadefs/namespaces", h.listNamespaces, false},
		{"POST", "/v2/metadefs/namespaces", h.createNamespace, false},
		{"GET", "/v2/metadefs/namespaces/{ns}", noBody(h.showNamespace), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}", h.updateNamespace, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}", noBody(h.deleteNamespace), false},

		{"GET", "/v2/metadefs/namespaces/{ns}/objects", h.listObjects, false},
		{"POST", "/v2/metadefs/namespaces/{ns}/objects", h.createObject, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/objects", h.deleteContent(metadef.PartObjects), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/objects/{name}", noBody(h.showObject), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/objects/{name}", h.updateObject, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/objects/{name}", noBody(h.deleteObject), false},

		{"GET", "/v2/metadefs/namespaces/{ns}/properties", noBody(h.listProperties), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/properties", h.createProperty, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/properties", h.deleteContent(metadef.PartProperties), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/properties/{name}", h.showProperty, false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/properties/{name}", h.updateProperty, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/properties/{name}", h.deleteProperty, false},

		{"GET", "/v2/metadefs/namespaces/{ns}/tags", h.listTags, false},
		{"POST", "/v2/metadefs/namespaces/{ns}/tags", h.createTags, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/tags", h.deleteContent(metadef.PartTags), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(h.showTag), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(h.createTag), false},
		{"PUT", "/v2/metadefs/namespaces/{ns}/tags/{name}", h.updateTag, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/tags/{name}", noBody(h.deleteTag), false},

		{"GET", "/v2/metadefs/resource_types", noBody(h.listResourceTypes), false},
		{"GET", "/v2/metadefs/namespaces/{ns}/resource_types", noBody(h.listAssociations), false},
		{"POST", "/v2/metadefs/namespaces/{ns}/resource_types", h.createAssociation, false},
		{"DELETE", "/v2/metadefs/namespaces/{ns}/resource_types/{rt}", noBody(h.deleteAssociation), false},
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

// metadefs is the catalog service; a server without one answers 404.
func (h *Handler) metadefs() (*metadef.Service, error) {
	if h.opts.Metadefs == nil {
		return nil, &httpError{status: http.StatusNotFound, explanation: "The resource could not be found."}
	}
	return h.opts.Metadefs, nil
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

func parseLimit(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, badRequest("limit param must be an integer")
	}
	return n, nil
}

func (h *Handler) listNamespaces(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.metadefs()
	if err != nil {
		return err
	}
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

func (h *Handler) createNamespace(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.metadefs()
	if err != nil {
		return err
	}
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	d, err := metadef.ParseNamespace(body)
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

func (h *Handler) showNamespace(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.metadefs()
	if err != nil {
		return err
	}
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
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

func (h *Handler) updateNamespace(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.metadefs()
	if err != nil {
		return err
	}
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	d, err := metadef.ParseNamespace(body)
	if err != nil {
		return err
	}
	ns, err := svc.UpdateNamespace(r.Context(), principal(r), r.PathValue("ns"), &d.Namespace)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, withLinks(namespaceFields(ns), ns.Name))
}

func (h *Handler) deleteNamespace(w http.ResponseWriter, r *http.Request) error {
	svc, err := h.metadefs()
	if err != nil {
		return err
	}
	if err := svc.DeleteNamespace(r.Context(), principal(r), r.PathValue("ns")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) deleteContent(part metadef.Part) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		svc, err := h.metadefs()
		if err != nil {
			return err
		}
		if err := svc.DeleteContent(r.Context(), principal(r), r.PathValue("ns"), part); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
