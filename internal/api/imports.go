package api

import (
	"io"
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

// importInfo answers GET /v2/info/import with the enabled methods.
func (h *Handler) importInfo(w http.ResponseWriter, r *http.Request) error {
	methods := h.svc.ImportMethods()
	if methods == nil {
		methods = []string{}
	}
	return writeJSON(w, http.StatusOK, newObject().add("import-methods", newObject().
		add("description", "Import methods available.").
		add("type", "array").
		add("value", methods)))
}

// stageData handles PUT /v2/images/{id}/stage, streamed like an upload.
func (h *Handler) stageData(w http.ResponseWriter, r *http.Request) error {
	dr, err := rangedData(r)
	if err != nil {
		return err
	}
	if dr != nil {
		p, id := principal(r), r.PathValue("id")
		return h.resumeData(w, r, dr,
			func() (image.Progress, error) { return h.svc.StageProgress(r.Context(), p, id) },
			func(body io.Reader, rng image.DataRange) (image.Progress, error) {
				return h.svc.ResumeStage(r.Context(), p, id, body, rng)
			})
	}
	body, declared, release, err := h.dataBody(w, r)
	if err != nil {
		return err
	}
	defer release()
	if err := h.svc.Stage(r.Context(), principal(r), r.PathValue("id"), body, declared); err != nil {
		return stalledErr(body, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importImage handles POST /v2/images/{id}/import: 202 once the import
// task is recorded.
func (h *Handler) importImage(w http.ResponseWriter, r *http.Request) error {
	var body map[string]any
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	req, err := decodeImport(body)
	if err != nil {
		return err
	}
	if h.opts.MultiStore {
		req.HeaderStore = r.Header.Get("X-Image-Meta-Store")
	}
	req.Token = r.Header.Get("X-Auth-Token")
	req.RequestID = w.Header().Get("X-Openstack-Request-Id")
	if err := h.svc.Import(r.Context(), principal(r), r.PathValue("id"), req); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// decodeImport reads an import body with Glance's checks and messages
// (images.py RequestDeserializer._validate_import_body).
func decodeImport(body map[string]any) (image.ImportRequest, error) {
	req := image.ImportRequest{Body: body, AllStoresMustSucceed: true}
	if body == nil {
		return req, badRequest("Body expected in request.")
	}
	rawMethod, ok := body["method"]
	if !ok {
		return req, badRequest("Import request requires a 'method' field.")
	}
	method, ok := rawMethod.(map[string]any)
	if !ok {
		return req, badRequest("Import request 'method' must be an object.")
	}
	rawName, ok := method["name"]
	if !ok {
		return req, badRequest("Import request requires a 'name' field.")
	}
	if req.Method, ok = rawName.(string); !ok {
		return req, badRequest("Unknown import method name '" + pyRepr(rawName) + "'.")
	}
	for _, f := range []struct {
		key string
		dst *bool
	}{{"all_stores_must_succeed", &req.AllStoresMustSucceed}, {"all_stores", &req.AllStores}} {
		if v, present := body[f.key]; present {
			b, isBool := v.(bool)
			if !isBool {
				return req, badRequest("'" + f.key + "' must be boolean value only")
			}
			*f.dst = b
		}
	}
	if v, present := body["stores"]; present {
		list, isList := v.([]any)
		if !isList {
			return req, badRequest("'stores' must be a list of store identifiers")
		}
		req.Stores = []string{}
		for _, st := range list {
			id, isStr := st.(string)
			if !isStr {
				return req, badRequest("'stores' must be a list of store identifiers")
			}
			req.Stores = append(req.Stores, id)
		}
	}
	strs := map[string]*string{"uri": &req.URI, "checksum": &req.Checksum, "glance_image_id": &req.GlanceImageID,
		"glance_region": &req.GlanceRegion, "glance_service_interface": &req.GlanceServiceInterface}
	for key, dst := range strs {
		if v, present := method[key]; present && v != nil {
			s, isStr := v.(string)
			if !isStr {
				return req, badRequest("Import method field '" + key + "' must be a string.")
			}
			*dst = s
		}
	}
	return req, nil
}

// pyRepr renders a JSON value the way Python's %s prints it, for the rare
// message that quotes a non-string.
func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	}
	b, _ := jsonMarshal(v)
	return string(b)
}
