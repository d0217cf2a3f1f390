package api

import (
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

// The cache API (Glance's /v2/cache, Image API 2.14) manages the image
// cache of the node that serves the call.
func (h *Handler) cacheRoutes() []route {
	return []route{
		{"GET", "/v2/cache", h.listCache, false},
		{"DELETE", "/v2/cache", h.clearCache, false},
		{"PUT", "/v2/cache/{id}", h.queueCache, false},
		{"DELETE", "/v2/cache/{id}", h.deleteCache, false},
		// Only /v2/cache/prune: a separate pattern would clash with
		// PUT /v2/cache/{id} in the mux.
		{"POST", "/v2/cache/{id}", h.pruneCache, false},
	}
}

// listCache answers GET /v2/cache: times as float Unix seconds, as Glance.
func (h *Handler) listCache(w http.ResponseWriter, r *http.Request) error {
	st, err := h.svc.CacheList(r.Context(), principal(r))
	if err != nil {
		return err
	}
	cached := make([]*object, 0, len(st.Cached))
	for _, e := range st.Cached {
		cached = append(cached, newObject().
			add("image_id", e.ImageID).
			add("hits", e.Hits).
			add("last_accessed", float64(e.LastAccessed.UnixMicro())/1e6).
			add("last_modified", float64(e.LastModified.UnixMicro())/1e6).
			add("size", e.Size))
	}
	return writeJSON(w, http.StatusOK, newObject().add("cached_images", cached).add("queued_images", st.Queued))
}

// queueCache answers PUT /v2/cache/{id}: 202, the prefetcher fills it.
func (h *Handler) queueCache(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.CacheQueue(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusAccepted)
	return nil
}

// deleteCache answers DELETE /v2/cache/{id}.
func (h *Handler) deleteCache(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.CacheDelete(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clearCache answers DELETE /v2/cache; Glance computes the counts and
// sends 204 without them.
func (h *Handler) clearCache(w http.ResponseWriter, r *http.Request) error {
	target := r.Header.Get("X-Image-Cache-Clear-Target")
	switch target {
	case image.ClearCache, image.ClearQueue, image.ClearBoth:
	default:
		return badRequest("If provided 'x-image-cache-clear-target' must be 'cache', 'queue' or empty string.")
	}
	if _, _, err := h.svc.CacheClear(r.Context(), principal(r), target); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// pruneCache answers POST /v2/cache/prune (Glance 2026.1's, API 2.18).
func (h *Handler) pruneCache(w http.ResponseWriter, r *http.Request) error {
	if r.PathValue("id") != "prune" {
		return &httpError{status: http.StatusMethodNotAllowed, header: http.Header{"Allow": {"DELETE, PUT"}},
			raw: "The method POST is not allowed for this resource. <br /><br />\n"}
	}
	files, bytes, err := h.svc.CachePrune(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newObject().add("total_files_pruned", files).add("total_bytes_pruned", bytes))
}
