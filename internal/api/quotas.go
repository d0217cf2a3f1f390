package api

import (
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

// usageInfo answers GET /v2/info/usage as Glance does with unified limits:
// each quota of the caller's project with its usage and limit (-1 when
// unlimited; Glance leaves the object empty when limits are off).
func (h *Handler) usageInfo(w http.ResponseWriter, r *http.Request) error {
	usage, err := h.svc.Usage(r.Context(), principal(r))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newObject().add("usage", usageJSON(usage)))
}

// showQuotas, setQuotas and resetQuotas are glint's admin API for
// per-project overrides (Glance delegates them to Keystone's limits API):
// GET, PUT and DELETE /v2/quotas/{project_id}.
func (h *Handler) showQuotas(w http.ResponseWriter, r *http.Request) error {
	usage, err := h.svc.ProjectQuotas(r.Context(), principal(r), r.PathValue("project"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newObject().add("quotas", usageJSON(usage)))
}

func (h *Handler) setQuotas(w http.ResponseWriter, r *http.Request) error {
	var body map[string]int64
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	if err := h.svc.SetProjectQuotas(r.Context(), principal(r), r.PathValue("project"), body); err != nil {
		return err
	}
	return h.showQuotas(w, r)
}

func (h *Handler) resetQuotas(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.ResetProjectQuotas(r.Context(), principal(r), r.PathValue("project")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func usageJSON(usage []image.QuotaUsage) *object {
	o := newObject()
	for _, q := range usage {
		o.add(q.Name, newObject().add("usage", q.Usage).add("limit", q.Limit))
	}
	return o
}
