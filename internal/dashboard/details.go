package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

type detailsView struct {
	base
	Image     *imageView
	OwnerName string
	Mine      bool
	Members   []memberRow
	// MembersNote explains an empty members list the user may not see.
	MembersNote string
	Member      string
	Tasks       tasksView
	Features    features
}

type taskView struct {
	ID, Type, Status, Message string
	CreatedAt, UpdatedAt      time.Time
	Input, Result             string
	// Step, Done and Total are a running import's progress, from its
	// result ({"step", "bytes_done", "bytes_total"}); Total is -1 when
	// unknown.
	Step        string
	Done, Total int64
}

// Running reports a task that has not finished.
func (t taskView) Running() bool { return t.Status == "pending" || t.Status == "processing" }

// HasProgress reports whether the task says how far it is.
func (t taskView) HasProgress() bool { return t.Step != "" }

type tasksView struct {
	ImageID string
	// Available is false when the server has no image tasks API.
	Available bool
	Tasks     []taskView
	// Importing, Failed are the image's per-store import progress.
	Importing, Failed string
	Busy              bool
}

// URL is where the task list reloads itself from.
func (t tasksView) URL() string { return Prefix + "images/" + url.PathEscape(t.ImageID) + "/tasks" }

// details is the image details page: every attribute and property,
// checksums, stores, members and import tasks.
func (h *Handler) details(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	img, err := getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := detailsView{base: base{S: s}, Image: img, OwnerName: img.Owner, Mine: img.Owner == s.ProjectID,
		Features: detectFeatures(ctx, c)}
	names := h.ownerNames(ctx, s, []string{img.Owner})
	if n := names[img.Owner]; n != "" {
		v.OwnerName = n
	}
	if img.Visibility == "shared" {
		list, err := listMembers(ctx, c, img.ID)
		switch {
		case err == nil:
			ids := make([]string, len(list))
			for i, m := range list {
				ids[i] = m.MemberID
			}
			names = h.ownerNames(ctx, s, ids)
			for _, m := range list {
				v.Members = append(v.Members, memberRow{memberView: m, Name: names[m.MemberID]})
			}
		case isStatus(err, http.StatusForbidden) || isStatus(err, http.StatusNotFound):
			v.MembersNote = "Only the image's owner sees its members."
		default:
			return err
		}
		if !v.Mine {
			v.Member = myMemberStatus(ctx, c, img.ID, s.ProjectID)
		}
	}
	v.Tasks = h.imageTasks(ctx, c, img)
	nav := "project-images"
	if r.URL.Query().Get("from") == "admin" && s.Admin {
		nav = "admin-images"
	}
	h.writePage(w, r, s, http.StatusOK, img.Name, nav, "details-page", v)
	return nil
}

// tasks re-renders the import tasks while they run.
func (h *Handler) tasks(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	img, err := getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.writeFragment(w, http.StatusOK, "tasks", h.imageTasks(ctx, c, img))
	return nil
}

// imageTasks lists GET /v2/images/{id}/tasks (Glance 2.12); a server
// without it answers 404 and the page says tasks are not available.
func (h *Handler) imageTasks(ctx context.Context, c *gophercloud.ServiceClient, img *imageView) tasksView {
	t := tasksView{ImageID: img.ID, Importing: img.Properties["os_glance_importing_to_stores"],
		Failed: img.Properties["os_glance_failed_import"]}
	var body struct {
		Tasks []struct {
			ID        string          `json:"id"`
			Type      string          `json:"type"`
			Status    string          `json:"status"`
			Message   string          `json:"message"`
			CreatedAt string          `json:"created_at"`
			UpdatedAt string          `json:"updated_at"`
			Input     json.RawMessage `json:"input"`
			Result    json.RawMessage `json:"result"`
		} `json:"tasks"`
	}
	err := getJSON(ctx, c, "v2/images/"+url.PathEscape(img.ID)+"/tasks", &body)
	if err != nil {
		t.Busy = img.Status == "importing"
		return t
	}
	t.Available = true
	for _, tk := range body.Tasks {
		tv := taskView{ID: tk.ID, Type: tk.Type, Status: tk.Status, Message: tk.Message, CreatedAt: parseTime(tk.CreatedAt),
			UpdatedAt: parseTime(tk.UpdatedAt), Input: taskInput(tk.Input), Result: taskResult(tk.Result), Total: -1}
		var res struct {
			Step  string `json:"step"`
			Done  *int64 `json:"bytes_done"`
			Total *int64 `json:"bytes_total"`
		}
		if json.Unmarshal(tk.Result, &res) == nil && res.Step != "" && res.Done != nil {
			tv.Step, tv.Done = res.Step, *res.Done
			if res.Total != nil {
				tv.Total = *res.Total
			}
		}
		t.Tasks = append(t.Tasks, tv)
		if tv.Running() {
			t.Busy = true
		}
	}
	sort.Slice(t.Tasks, func(i, j int) bool { return t.Tasks[i].CreatedAt.After(t.Tasks[j].CreatedAt) })
	t.Busy = t.Busy || img.Status == "importing"
	return t
}

// parseTime reads the API's times: RFC 3339, or the zone-less
// "2006-01-02T15:04:05.000000" (UTC) that Glance's image tasks call uses.
func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// taskInput says what an import task was asked to do: its method and
// source, or the input as JSON for other tasks.
func taskInput(raw json.RawMessage) string {
	var in struct {
		ImportReq struct {
			Method struct {
				Name string `json:"name"`
				URI  string `json:"uri"`
			} `json:"method"`
			Stores []string `json:"stores"`
		} `json:"import_req"`
	}
	if json.Unmarshal(raw, &in) != nil || in.ImportReq.Method.Name == "" {
		return compactJSON(raw)
	}
	out := in.ImportReq.Method.Name
	if u := in.ImportReq.Method.URI; u != "" {
		out += " from " + u
	}
	if len(in.ImportReq.Stores) > 0 {
		out += " to " + strings.Join(in.ImportReq.Stores, ", ")
	}
	return out
}

// taskResult is a task's result as JSON, without what the page shows
// otherwise (the image id, the progress figures).
func taskResult(raw json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return compactJSON(raw)
	}
	for _, k := range []string{"image_id", "step", "bytes_done", "bytes_total"} {
		delete(m, k)
	}
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" || string(raw) == "{}" {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
