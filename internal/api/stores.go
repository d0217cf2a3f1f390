package api

import (
	"net/http"
)

// storesInfo answers GET /v2/info/stores: 404 without multi-store, as in
// Glance; otherwise each store's id, description and the default flag.
func (h *Handler) storesInfo(w http.ResponseWriter, r *http.Request) error {
	return h.writeStores(w, r, false)
}

// storesDetail adds each store's type and (non-secret) properties; admins
// only, as Glance's stores_info_detail rule.
func (h *Handler) storesDetail(w http.ResponseWriter, r *http.Request) error {
	if !principal(r).IsAdmin() {
		return &httpError{status: http.StatusForbidden, explanation: "You are not authorized to complete stores_info_detail action."}
	}
	return h.writeStores(w, r, true)
}

func (h *Handler) writeStores(w http.ResponseWriter, _ *http.Request, detail bool) error {
	if !h.opts.MultiStore {
		return &httpError{status: http.StatusNotFound, explanation: "Multi backend is not supported at this site."}
	}
	list := make([]*object, 0, len(h.opts.Stores))
	for _, st := range h.opts.Stores {
		o := newObject().add("id", st.ID)
		if st.Description != "" {
			o.add("description", st.Description)
		}
		if st.Default {
			o.add("default", "true")
		}
		if st.ReadOnly {
			o.add("read-only", "true")
		}
		if detail {
			o.add("type", st.Type).add("weight", 0).add("properties", st.Properties)
		}
		list = append(list, o)
	}
	return writeJSON(w, http.StatusOK, newObject().add("stores", list))
}

// storeIDs lists the stores data may go to (OpenStack-image-store-ids):
// read-only http stores are left out, as Glance does.
func (h *Handler) storeIDs() []string {
	ids := make([]string, 0, len(h.opts.Stores))
	for _, st := range h.opts.Stores {
		if st.ReadOnly {
			continue
		}
		ids = append(ids, st.ID)
	}
	return ids
}
