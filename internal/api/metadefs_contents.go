package api

import (
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/metadef"
)

// A namespace's objects, properties, tags and resource type associations.

func (h *Handler) listObjects(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	// Glance checks the paging parameters of an object listing but does
	// not page it.
	q := parseOrderedQuery(r.URL.RawQuery)
	if s, ok := q.get("limit"); ok {
		n, err := parseLimit(s)
		if err != nil {
			return err
		}
		if n <= 0 {
			return badRequest("limit param must be positive")
		}
	}
	if _, err := sortDir(q); err != nil {
		return err
	}
	if err := checkVisibility(q, "public", "private", "shared"); err != nil {
		return err
	}
	ns := r.PathValue("ns")
	objs, err := svc.ListObjects(r.Context(), principal(r), ns)
	if err != nil {
		return err
	}
	list := make([]*object, 0, len(objs))
	for _, ob := range objs {
		j, err := objectJSON(ns, &ob)
		if err != nil {
			return err
		}
		list = append(list, j)
	}
	// Glance's link lacks the leading slash; clients ignore it either way.
	return writeJSON(w, http.StatusOK, newObject().add("objects", list).add("schema", "v2/schemas/metadefs/objects"))
}

func (h *Handler) createObject(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	ob, err := parseBody(h, r, func(b []byte) (*metadef.Object, error) { return metadef.ParseObject(b, true) })
	if err != nil {
		return err
	}
	ns := r.PathValue("ns")
	created, err := svc.CreateObject(r.Context(), principal(r), ns, ob)
	if err != nil {
		return err
	}
	out, err := objectWritten(ns, created)
	return writeMade(w, http.StatusCreated, out, err)
}

func (h *Handler) showObject(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	ns := r.PathValue("ns")
	ob, err := svc.GetObject(r.Context(), principal(r), ns, r.PathValue("name"))
	if err != nil {
		return err
	}
	out, err := objectJSON(ns, ob)
	return writeMade(w, http.StatusOK, out, err)
}

func (h *Handler) updateObject(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	ob, err := parseBody(h, r, func(b []byte) (*metadef.Object, error) { return metadef.ParseObject(b, false) })
	if err != nil {
		return err
	}
	ns := r.PathValue("ns")
	updated, err := svc.UpdateObject(r.Context(), principal(r), ns, r.PathValue("name"), ob)
	if err != nil {
		return err
	}
	out, err := objectWritten(ns, updated)
	return writeMade(w, http.StatusOK, out, err)
}

func (h *Handler) deleteObject(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, svc.DeleteObject(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name")))
}

func (h *Handler) listProperties(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	props, err := svc.ListProperties(r.Context(), principal(r), r.PathValue("ns"))
	if err != nil {
		return err
	}
	out, err := propertiesJSON(props)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newObject().add("properties", out))
}

func (h *Handler) showProperty(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	rt, _ := parseOrderedQuery(r.URL.RawQuery).get("resource_type")
	p, err := svc.GetProperty(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name"), rt)
	if err != nil {
		return err
	}
	out, err := propertyJSON(p)
	return writeMade(w, http.StatusOK, out, err)
}

func (h *Handler) createProperty(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	p, err := parseBody(h, r, metadef.ParseProperty)
	if err != nil {
		return err
	}
	created, err := svc.CreateProperty(r.Context(), principal(r), r.PathValue("ns"), p)
	if err != nil {
		return err
	}
	out, err := propertyJSON(created)
	return writeMade(w, http.StatusCreated, out, err)
}

func (h *Handler) updateProperty(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	p, err := parseBody(h, r, metadef.ParseProperty)
	if err != nil {
		return err
	}
	updated, err := svc.UpdateProperty(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name"), p)
	if err != nil {
		return err
	}
	out, err := propertyJSON(updated)
	return writeMade(w, http.StatusOK, out, err)
}

func (h *Handler) deleteProperty(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, svc.DeleteProperty(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name")))
}

func (h *Handler) listTags(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	q := parseOrderedQuery(r.URL.RawQuery)
	req := metadef.TagRequest{}
	if s, _ := q.get("limit"); s != "" {
		n, err := parseLimit(s)
		if err != nil {
			return err
		}
		if n < 0 {
			return badRequest("limit param must be positive")
		}
		req.Limit = &n
	}
	req.Marker, _ = q.get("marker")
	req.Sort, _ = q.get("sort_key")
	var err error
	if req.Desc, err = sortDir(q); err != nil {
		return err
	}
	if err := checkVisibility(q, "public", "private", "shared"); err != nil {
		return err
	}
	tags, err := svc.ListTags(r.Context(), principal(r), r.PathValue("ns"), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newObject().add("tags", tagNames(tags)))
}

func (h *Handler) showTag(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	t, err := svc.GetTag(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tagJSON(t))
}

func (h *Handler) createTag(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	t, err := svc.CreateTag(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, tagJSON(t))
}

// appendTags reads X-Openstack-Append as oslo's bool_from_string does.
func appendTags(r *http.Request) bool {
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("X-Openstack-Append"))) {
	case "1", "t", "true", "on", "y", "yes":
		return true
	}
	return false
}

func (h *Handler) createTags(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	tags, err := parseBody(h, r, metadef.ParseTags)
	if err != nil {
		return err
	}
	created, err := svc.CreateTags(r.Context(), principal(r), r.PathValue("ns"), tags, appendTags(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, newObject().add("tags", tagNames(created)))
}

func (h *Handler) updateTag(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	t, err := parseBody(h, r, metadef.ParseTag)
	if err != nil {
		return err
	}
	updated, err := svc.UpdateTag(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name"), t)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, tagJSON(updated))
}

func (h *Handler) deleteTag(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, svc.DeleteTag(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("name")))
}

func (h *Handler) listResourceTypes(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	types, err := svc.ListResourceTypes(r.Context(), principal(r))
	if err != nil {
		return err
	}
	list := make([]*object, 0, len(types))
	for _, rt := range types {
		list = append(list, resourceTypeJSON(&rt))
	}
	return writeJSON(w, http.StatusOK, newObject().add("resource_types", list))
}

func (h *Handler) listAssociations(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	assocs, err := svc.ListAssociations(r.Context(), principal(r), r.PathValue("ns"))
	if err != nil {
		return err
	}
	list := make([]*object, 0, len(assocs))
	for _, a := range assocs {
		list = append(list, associationJSON(&a, true))
	}
	return writeJSON(w, http.StatusOK, newObject().add("resource_type_associations", list))
}

func (h *Handler) createAssociation(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	a, err := parseBody(h, r, metadef.ParseAssociation)
	if err != nil {
		return err
	}
	created, err := svc.CreateAssociation(r.Context(), principal(r), r.PathValue("ns"), a)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, associationJSON(created, true))
}

func (h *Handler) deleteAssociation(svc *metadef.Service, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, svc.DeleteAssociation(r.Context(), principal(r), r.PathValue("ns"), r.PathValue("rt")))
}
