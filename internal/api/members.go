package api

import (
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

func (h *Handler) listMembers(w http.ResponseWriter, r *http.Request) error {
	members, err := h.svc.ListMembers(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]*object, 0, len(members))
	for _, m := range members {
		out = append(out, memberJSON(m))
	}
	return writeJSON(w, http.StatusOK, newObject().add("members", out).add("schema", "/v2/schemas/members"))
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request) error {
	var body map[string]any
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	memberID, ok := body["member"].(string)
	if !ok {
		return badRequest("Member to be added not specified")
	}
	m, err := h.svc.AddMember(r.Context(), principal(r), r.PathValue("id"), memberID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, memberJSON(m))
}

func (h *Handler) showMember(w http.ResponseWriter, r *http.Request) error {
	m, err := h.svc.GetMember(r.Context(), principal(r), r.PathValue("id"), r.PathValue("member"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, memberJSON(m))
}

func (h *Handler) updateMember(w http.ResponseWriter, r *http.Request) error {
	var body map[string]any
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	status, ok := body["status"].(string)
	if !ok {
		return badRequest("Status not specified")
	}
	m, err := h.svc.UpdateMember(r.Context(), principal(r), r.PathValue("id"), r.PathValue("member"), image.MemberStatus(status))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, memberJSON(m))
}

func (h *Handler) deleteMember(w http.ResponseWriter, r *http.Request) error {
	if err := h.svc.DeleteMember(r.Context(), principal(r), r.PathValue("id"), r.PathValue("member")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
