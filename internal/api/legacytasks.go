package api

import (
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

// createTask handles POST /v2/tasks (Glance's deprecated tasks API): 201
// with the task and its Location.
func (h *Handler) createTask(w http.ResponseWriter, r *http.Request) error {
	var body map[string]any
	if err := h.decodeJSON(r, &body); err != nil {
		return err
	}
	typ, hasType := body["type"]
	if !hasType {
		return badRequest("Task 'type' is required")
	}
	in, hasInput := body["input"]
	if !hasInput {
		return badRequest("Task 'input' is required")
	}
	typeName, ok := typ.(string)
	if !ok {
		return badRequest("Provided object does not match schema 'task': 'type' must be a string")
	}
	input, ok := in.(map[string]any)
	if !ok {
		return badRequest("Provided object does not match schema 'task': 'input' must be an object")
	}
	t, err := h.svc.CreateTask(r.Context(), principal(r), image.TaskRequest{Type: typeName, Input: input,
		RequestID: w.Header().Get("X-Openstack-Request-Id")})
	if err != nil {
		return err
	}
	w.Header().Set("Location", absoluteURL(r, "/v2/tasks/"+t.ID))
	return writeJSON(w, http.StatusCreated, taskJSON(t))
}
