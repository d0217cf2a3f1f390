package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/task"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// showTask answers GET /v2/tasks/{id} with Glance's full task view.
func (h *Handler) showTask(w http.ResponseWriter, r *http.Request) error {
	t, err := h.svc.Task(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, taskJSON(t))
}

// deleteTask is Glance's refusal: tasks go when they expire.
func (h *Handler) deleteTask(w http.ResponseWriter, r *http.Request) error {
	// Only the access check happens before the refusal, as in Glance.
	if _, err := h.svc.Task(r.Context(), principal(r), r.PathValue("id")); errors.Is(err, image.ErrForbidden) {
		return err
	}
	return &httpError{status: http.StatusMethodNotAllowed, header: http.Header{"Allow": {"GET"}},
		raw: "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property."}
}

// listTasks answers GET /v2/tasks with task stubs and Glance's paging
// links.
func (h *Handler) listTasks(w http.ResponseWriter, r *http.Request) error {
	q, err := parseTaskQuery(r.URL.Query())
	if err != nil {
		return err
	}
	tasks, more, err := h.svc.Tasks(r.Context(), principal(r), q)
	if err != nil {
		return err
	}
	stubs := make([]*object, 0, len(tasks))
	for _, t := range tasks {
		stubs = append(stubs, taskStubJSON(t))
	}
	params := r.URL.Query()
	params.Del("marker")
	first := "/v2/tasks"
	if len(params) > 0 {
		first += "?" + params.Encode()
	}
	body := newObject().add("tasks", stubs).add("first", first).add("schema", "/v2/schemas/tasks")
	if more {
		params.Set("marker", tasks[len(tasks)-1].ID)
		body.add("next", "/v2/tasks?"+params.Encode())
	}
	return writeJSON(w, http.StatusOK, body)
}

// parseTaskQuery reads the list parameters as Glance's tasks
// RequestDeserializer.index does.
func parseTaskQuery(v url.Values) (task.ListQuery, error) {
	q := task.ListQuery{Limit: image.DefaultLimit, SortKey: "created_at"}
	if s := v.Get("sort_key"); s != "" {
		if !slices.Contains(task.SortKeys, s) {
			return q, badRequest("Sort key supplied was not valid.")
		}
		q.SortKey = s
	}
	switch dir := v.Get("sort_dir"); dir {
	case "", "desc":
	case "asc":
		q.SortAsc = true
	default:
		return q, badRequest("Invalid sort direction: " + dir)
	}
	if s := v.Get("status"); s != "" {
		if !slices.Contains(task.Statuses, task.Status(s)) {
			return q, badRequest("Invalid status value: " + s)
		}
		q.Status = task.Status(s)
	}
	if s := v.Get("type"); s != "" {
		// Glance accepts only "import" here, so its own import tasks
		// cannot be filtered for; glint takes every task type.
		if !slices.Contains(task.Types, s) {
			return q, badRequest("Invalid type value: " + s)
		}
		q.Type = s
	}
	if m := v.Get("marker"); m != "" {
		if !image.ValidUUID(m) {
			return q, badRequest("Invalid marker format")
		}
		q.Marker = m
	}
	if l, ok := v["limit"]; ok {
		n, err := parseLimit(l[0])
		if err != nil {
			return q, err
		}
		if n < 0 {
			return q, badRequest("limit param must be positive")
		}
		q.Limit = n
	}
	return q, nil
}

// imageTasks answers GET /v2/images/{id}/tasks with the tasks as Glance's
// database layer returns them (oslo's datetime format, deleted fields).
func (h *Handler) imageTasks(w http.ResponseWriter, r *http.Request) error {
	tasks, err := h.svc.ImageTasks(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]*object, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, imageTaskJSON(t))
	}
	return writeJSON(w, http.StatusOK, newObject().add("tasks", out))
}

// taskJSON is Glance's tasks ResponseSerializer._format_task.
func taskJSON(t *task.Task) *object {
	o := newObject().
		add("id", t.ID).
		add("input", t.Input).
		add("type", t.Type).
		add("status", t.Status).
		add("owner", t.Owner).
		add("message", t.Message).
		add("result", t.Result).
		add("created_at", timestamp(t.CreatedAt)).
		add("updated_at", timestamp(t.UpdatedAt)).
		add("self", "/v2/tasks/"+t.ID).
		add("schema", "/v2/schemas/task")
	if t.ImageID != "" {
		o.add("image_id", t.ImageID)
	}
	if t.RequestID != "" {
		o.add("request_id", t.RequestID)
	}
	if t.UserID != "" {
		o.add("user_id", t.UserID)
	}
	if t.ExpiresAt != nil {
		o.add("expires_at", timestamp(*t.ExpiresAt))
	}
	return o
}

// taskStubJSON is _format_task_stub: no input, result or message.
func taskStubJSON(t *task.Task) *object {
	o := newObject().
		add("id", t.ID).
		add("type", t.Type).
		add("status", t.Status).
		add("owner", t.Owner).
		add("created_at", timestamp(t.CreatedAt)).
		add("updated_at", timestamp(t.UpdatedAt)).
		add("self", "/v2/tasks/"+t.ID).
		add("schema", "/v2/schemas/task")
	if t.ExpiresAt != nil {
		o.add("expires_at", timestamp(*t.ExpiresAt))
	}
	return o
}

// imageTaskJSON is Glance's _task_format as the image tasks call returns
// it: every column, times in oslo's "2006-01-02T15:04:05.000000".
func imageTaskJSON(t *task.Task) *object {
	tm := func(p *time.Time) any {
		if p == nil {
			return nil
		}
		return p.UTC().Format("2006-01-02T15:04:05.000000")
	}
	str := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	return newObject().
		add("id", t.ID).
		add("type", t.Type).
		add("status", t.Status).
		add("owner", t.Owner).
		add("expires_at", tm(t.ExpiresAt)).
		add("created_at", tm(&t.CreatedAt)).
		add("updated_at", tm(&t.UpdatedAt)).
		add("deleted_at", nil).
		add("deleted", false).
		add("image_id", str(t.ImageID)).
		add("request_id", str(t.RequestID)).
		add("user_id", str(t.UserID)).
		add("input", t.Input).
		add("result", t.Result).
		add("message", t.Message)
}

// taskSchema is Glance's task schema (glance/api/v2/tasks.py _TASK_SCHEMA);
// partial drops input, result and message as the list's stubs do.
func taskSchema(partial bool) map[string]any {
	props := map[string]any{
		"id":         map[string]any{"type": "string", "pattern": uuidRegexp, "description": "Unique identifier of the task."},
		"type":       map[string]any{"type": "string", "enum": task.Types, "description": "What the task does."},
		"status":     map[string]any{"type": "string", "enum": task.Statuses, "description": "State of the task."},
		"input":      map[string]any{"type": []string{"null", "object"}, "description": "What the task was asked to do."},
		"result":     map[string]any{"type": []string{"null", "object"}, "description": "The task's outcome; while an import runs, its progress."},
		"owner":      str("Project the task belongs to."),
		"message":    str("Why the task failed, or what it is doing."),
		"image_id":   str("Image the task works on."),
		"request_id": str("Request that created the task."),
		"user_id":    str("User who created the task."),
		"expires_at": map[string]any{"type": []string{"null", "string"}, "description": "When the finished task will be removed."},
		"created_at": str("When the task was created."),
		"updated_at": str("When the task last changed."),
		"self":       readOnlyProp("string", "Path of this task."),
		"schema":     readOnlyProp("string", "Path of this schema."),
	}
	if partial {
		delete(props, "input")
		delete(props, "result")
		delete(props, "message")
	}
	return map[string]any{"name": "task", "properties": props}
}
