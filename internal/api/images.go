package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/google/uuid"
)

func (h *Handler) createImage(w http.ResponseWriter, r *http.Request) error {
	var attrs map[string]any
	if err := h.decodeJSON(r, &attrs); err != nil {
		return err
	}
	if attrs == nil {
		return badRequest("Body expected in request.")
	}
	img, err := h.svc.Create(r.Context(), principal(r), attrs)
	if err != nil {
		return err
	}
	w.Header().Set("Location", absoluteURL(r, "/v2/images/"+img.ID))
	if methods := h.svc.ImportMethods(); len(methods) > 0 {
		w.Header().Set("OpenStack-image-import-methods", strings.Join(methods, ","))
	}
	if h.opts.MultiStore {
		w.Header().Set("OpenStack-image-store-ids", strings.Join(h.storeIDs(), ","))
	}
	return writeJSON(w, http.StatusCreated, h.imageJSON(img))
}

func (h *Handler) showImage(w http.ResponseWriter, r *http.Request) error {
	img, err := h.svc.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.imageJSON(img))
}

// listLocations is Glance's service API (2.17): the image's locations for
// Nova and Cinder, whatever show_multiple_locations says.
func (h *Handler) listLocations(w http.ResponseWriter, r *http.Request) error {
	locs, err := h.svc.Locations(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, locationsJSON(locs))
}

// addLocation is Glance's service API (2.17) for adding a location to a
// queued image: 202 with no body.
func (h *Handler) addLocation(w http.ResponseWriter, r *http.Request) error {
	var body struct {
		URL            string `json:"url"`
		ValidationData struct {
			Algo  string `json:"os_hash_algo"`
			Value string `json:"os_hash_value"`
		} `json:"validation_data"`
	}
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	if body.URL == "" {
		return badRequest("Provided object does not match schema 'location': 'url' is a required property")
	}
	err := h.svc.AddLocation(r.Context(), principal(r), r.PathValue("id"), body.URL, body.ValidationData.Algo, body.ValidationData.Value)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

func (h *Handler) updateImage(w http.ResponseWriter, r *http.Request) error {
	changes, err := h.decodePatch(r)
	if err != nil {
		return err
	}
	img, err := h.svc.Update(r.Context(), principal(r), r.PathValue("id"), changes)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h.imageJSON(img))
}

func (h *Handler) deleteImage(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Delete(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) listImages(w http.ResponseWriter, r *http.Request) error {
	params := r.URL.Query()
	extra, total := listExtensions(r, params)
	q, err := parseListQuery(params)
	if err != nil {
		return err
	}
	q.Filters = append(q.Filters, extra...)
	page, err := h.svc.List(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	body := newObject().
		add("images", h.imagesJSON(page.Images)).
		add("first", firstLink(r.URL.Query())).
		add("schema", "/v2/schemas/images")
	if page.More && len(page.Images) > 0 {
		body.add("next", nextLink(r.URL.Query(), page.Images[len(page.Images)-1].ID))
	}
	if total {
		n, capped, err := h.svc.Count(r.Context(), principal(r), q)
		if err != nil {
			return err
		}
		body.add("glint_total", n).add("glint_total_capped", capped)
	}
	// About a kilobyte an image: a page of 1000 is encoded without the
	// buffer doubling its way up from the pool's 8 KiB.
	return writeJSONSized(w, http.StatusOK, body, len(page.Images)<<10)
}

func (h *Handler) deactivate(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Deactivate(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) reactivate(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.Reactivate(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) addTag(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.AddTag(r.Context(), principal(r), r.PathValue("id"), r.PathValue("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) removeTag(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.RemoveTag(r.Context(), principal(r), r.PathValue("id"), r.PathValue("tag")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// decodeJSON reads a bounded JSON body. Numbers stay json.Number so
// integers are not rounded through float64.
func (h *Handler) decodeJSON(r *http.Request, v any) error {
	body, err := h.readBody(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("Body expected in request.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return badRequest("Malformed JSON in request body.")
	}
	if dec.More() {
		return badRequest("Malformed JSON in request body.")
	}
	return nil
}

func (h *Handler) readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, h.opts.MaxJSONBody+1))
	if err != nil {
		return nil, badRequest("Could not read the request body.")
	}
	if int64(len(body)) > h.opts.MaxJSONBody {
		return nil, &httpError{status: http.StatusRequestEntityTooLarge, explanation: "Request body is too large."}
	}
	return body, nil
}

// writeJSON encodes v (an *object or any JSON value) with its length.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	return writeJSONSized(w, status, v, 0)
}

// writeJSONSized is writeJSON for an answer of about size bytes.
func writeJSONSized(w http.ResponseWriter, status int, v any, size int) error {
	bp := jsonBuffers.Get().(*[]byte)
	if cap(*bp) < size {
		*bp = make([]byte, 0, size)
	}
	body, err := appendValue((*bp)[:0], v)
	defer func() {
		// Huge answers (a page of 1000 images) are not kept for the next one.
		if cap(body) <= maxPooledJSON {
			*bp = body[:0]
			jsonBuffers.Put(bp)
		}
	}()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", itoa(int64(len(body))))
	w.WriteHeader(status)
	_, err = w.Write(body)
	if err != nil {
		return errors.Join(errWritten, err)
	}
	return nil
}

var errWritten = errors.New("response already started")

// jsonBuffers recycles the buffers answers are encoded into: a fresh one
// per request was the largest allocation of a show. Every ResponseWriter
// copies what it is given, so a buffer is free again once Write returns.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

const maxPooledJSON = 256 << 10

// absoluteURL makes path absolute against the request's own address, as
// Glance's Location header is.
func absoluteURL(r *http.Request, path string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host + path
}

func newRequestID() string { return "req-" + uuid.NewString() }
