package api_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/tasks"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// waitLegacyTask polls a task as admin until it finishes.
func (e *env) waitLegacyTask(t testing.TB, id string) *tasks.Task {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		tk, err := tasks.Get(context.Background(), e.admin, id).Extract()
		if err != nil {
			t.Fatalf("task %s: %v", id, err)
		}
		if tk.Status == "success" || tk.Status == "failure" {
			return tk
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s did not finish: %+v", id, tk)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func legacyImport(from, format string, props map[string]any) tasks.CreateOpts {
	return tasks.CreateOpts{Type: "import", Input: map[string]any{
		"import_from": from, "import_from_format": format, "image_properties": props}}
}

// TestLegacyTaskImport runs Glance's deprecated import task through
// gophercloud's tasks package, as gophercloud's TestTaskCreate does: the
// task makes the image and fills it through the web-download steps (the
// filtering fetcher, the format inspector); a failure deletes the image.
func TestLegacyTaskImport(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, allowLoopback(srv))
	ctx := context.Background()
	data := qemuImage(t, t.TempDir(), "cirros.qcow2", "-f", "qcow2", "1G")
	uri := srv.put("cirros.qcow2", data)

	created, err := tasks.Create(ctx, e.admin, legacyImport(uri, "qcow2",
		map[string]any{"name": "legacy", "container_format": "bare", "disk_format": "qcow2", "os_distro": "cirros"})).Extract()
	if err != nil {
		t.Fatalf("task create: %v", err)
	}
	if created.Status != "pending" || created.Type != "import" || created.Owner != "proj-admin" ||
		created.Self != "/v2/tasks/"+created.ID || created.Schema != "/v2/schemas/task" || created.Input["import_from"] != uri {
		t.Fatalf("created task: %+v", created)
	}
	done := e.waitLegacyTask(t, created.ID)
	imageID, _ := done.Result["image_id"].(string)
	if done.Status != "success" || imageID == "" || done.ExpiresAt.Sub(done.UpdatedAt) != 48*time.Hour {
		t.Fatalf("finished task: %+v", done)
	}
	img := e.adminImage(t, imageID)
	sum := md5.Sum(data)
	if img["status"] != "active" || img["name"] != "legacy" || img["os_distro"] != "cirros" || img["owner"] != "proj-admin" ||
		img["checksum"] != hex.EncodeToString(sum[:]) || img["virtual_size"] != float64(1<<30) {
		t.Fatalf("imported image: %v", img)
	}
	if tks := e.imageTasksAs(t, "admin", imageID); len(tks) != 1 || tks[0]["id"] != created.ID {
		t.Fatalf("image tasks: %v", tks)
	}

	// The format inspector: data that is not what the task says fails
	// the task, and the image it made is gone.
	raw := srv.put("raw.img", make([]byte, 1<<20))
	bad, err := tasks.Create(ctx, e.admin, legacyImport(raw, "qcow2", map[string]any{"name": "liar", "disk_format": "qcow2", "container_format": "bare"})).Extract()
	if err != nil {
		t.Fatal(err)
	}
	if done := e.waitLegacyTask(t, bad.ID); done.Status != "failure" || done.Message == "" {
		t.Fatalf("mislabelled data: %+v", done)
	}
	if resp, _ := e.do("admin", "GET", "/v2/images/"+bad.ID, nil, ""); resp.StatusCode != 404 {
		t.Fatalf("image of a failed task: %d", resp.StatusCode)
	}
	if n := e.countImages(t, "liar"); n != 0 {
		t.Fatalf("a failed legacy import left %d images", n)
	}

	// What the executor checks: a missing key, a source that is gone.
	for _, c := range []struct {
		input map[string]any
		want  string
	}{
		{map[string]any{"import_from": uri, "image_properties": map[string]any{}}, "Input does not contain 'import_from_format' field"},
		{map[string]any{"import_from": srv.URL + "/gone", "import_from_format": "raw", "image_properties": map[string]any{"name": "gone"}}, "404 Not Found"},
	} {
		tk, err := tasks.Create(ctx, e.admin, tasks.CreateOpts{Type: "import", Input: c.input}).Extract()
		if err != nil {
			t.Fatal(err)
		}
		if done := e.waitLegacyTask(t, tk.ID); done.Status != "failure" || !strings.Contains(done.Message, c.want) {
			t.Errorf("%v: %+v", c.input, done)
		}
	}
	if n := e.countImages(t, "gone"); n != 0 {
		t.Fatalf("a failed legacy import left %d images", n)
	}

	// Request-time refusals, with Glance's statuses and messages.
	for _, c := range []struct {
		who, body string
		status    int
		want      string
	}{
		{"owner", `{"type":"import","input":{"import_from":"` + uri + `","import_from_format":"raw","image_properties":{}}}`, 403, "You are not authorized to complete tasks_api_access action."},
		{"admin", `{"type":"import"}`, 400, "Task 'input' is required"},
		{"admin", `{"input":{}}`, 400, "Task 'type' is required"},
		{"admin", `{"type":"export","input":{}}`, 400, "Invalid type value: export"},
		{"admin", `{"type":"import","input":{"import_from_format":"raw","image_properties":{}}}`, 400, "Invalid location: None"},
		{"admin", `{"type":"import","input":{"import_from":"file:///etc/passwd","import_from_format":"raw","image_properties":{}}}`, 400, "File based imports are not allowed. Please use a non-local source of image data."},
		{"admin", `{"type":"import","input":{"import_from":"ftp://example.com/x","import_from_format":"raw","image_properties":{}}}`, 400, "The given uri is not valid."},
		{"admin", `{"type":"import","input":{"import_from":"http://169.254.169.254/latest","import_from_format":"raw","image_properties":{}}}`, 400, "URI for legacy import task does not pass filtering: http://169.254.169.254/latest"},
	} {
		resp, body := e.do(c.who, "POST", "/v2/tasks", map[string]string{"Content-Type": "application/json"}, c.body)
		if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s", c.body, resp.StatusCode, body)
		}
	}
	// The Location header is absolute, as Glance's.
	resp, body := e.do("admin", "POST", "/v2/tasks", map[string]string{"Content-Type": "application/json"}, `{"type":"api_image_import","input":{}}`)
	var tk map[string]any
	json.Unmarshal([]byte(body), &tk)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != e.url+"/v2/tasks/"+tk["id"].(string) ||
		tk["status"] != "failure" || tk["message"] != "Input to api_image_import task is empty." {
		t.Fatalf("api_image_import through the tasks API: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// adminImage shows an image as admin.
func (e *env) adminImage(t testing.TB, id string) map[string]any {
	t.Helper()
	resp, out := e.do("admin", "GET", "/v2/images/"+id, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("show %s: %d %s", id, resp.StatusCode, out)
	}
	var m map[string]any
	json.Unmarshal([]byte(out), &m)
	return m
}

// countImages counts the images of a name admin sees.
func (e *env) countImages(t testing.TB, name string) int {
	t.Helper()
	resp, out := e.do("admin", "GET", "/v2/images?name="+url.QueryEscape(name), nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("list: %d %s", resp.StatusCode, out)
	}
	var l struct{ Images []any }
	json.Unmarshal([]byte(out), &l)
	return len(l.Images)
}

// TestTaskList pages, filters and sorts tasks with gophercloud's tasks
// package, and checks Glance's refusals of bad parameters.
func TestTaskList(t *testing.T) {
	srv := newImageServer(t)
	e := newEnvConfig(t, allowLoopback(srv))
	ctx := context.Background()
	uri := srv.put("small.qcow2", qemuImage(t, t.TempDir(), "s.qcow2", "-f", "qcow2", "1M"))
	var ids []string
	for i := range 3 {
		props := map[string]any{"name": "list"}
		if i == 2 {
			delete(props, "name")
			props["min_ram"] = "not a number" // the image cannot be made
		}
		tk, err := tasks.Create(ctx, e.admin, legacyImport(uri, "qcow2", props)).Extract()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, tk.ID)
		e.waitLegacyTask(t, tk.ID)
	}
	listAll := func(opts tasks.ListOpts) []string {
		t.Helper()
		var got []string
		pages := 0
		err := tasks.List(e.admin, opts).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			pages++
			l, err := tasks.ExtractTasks(p)
			for _, tk := range l {
				got = append(got, tk.ID)
			}
			return true, err
		})
		if err != nil {
			t.Fatalf("list %+v: %v", opts, err)
		}
		if opts.Limit > 0 && pages < len(got)/opts.Limit {
			t.Fatalf("list %+v: %d pages for %d tasks", opts, pages, len(got))
		}
		return got
	}
	want := func(what string, got []string, w ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%s: %v, want %v", what, got, w)
		}
	}
	want("newest first, pages of 1", listAll(tasks.ListOpts{Limit: 1}), ids[2], ids[1], ids[0])
	want("oldest first", listAll(tasks.ListOpts{SortDir: "asc", Limit: 2}), ids[0], ids[1], ids[2])
	want("failures", listAll(tasks.ListOpts{Status: tasks.TaskStatusFailure}), ids[2])
	want("successes by expiry", listAll(tasks.ListOpts{Status: tasks.TaskStatusSuccess, SortKey: "expires_at", SortDir: "asc"}), ids[0], ids[1])
	want("by status", listAll(tasks.ListOpts{SortKey: "status", SortDir: "asc", Limit: 2}), ids[2], ids[0], ids[1])
	resp, body := e.do("admin", "GET", "/v2/tasks?type=import&limit=1", nil, "")
	var page map[string]any
	json.Unmarshal([]byte(body), &page)
	if resp.StatusCode != 200 || page["first"] != "/v2/tasks?limit=1&type=import" || page["next"] != "/v2/tasks?limit=1&marker="+ids[2]+"&type=import" ||
		page["schema"] != "/v2/schemas/tasks" {
		t.Fatalf("list page: %d %s", resp.StatusCode, body)
	}
	for q, msg := range map[string]string{
		"status=done": "Invalid status value: done", "type=export": "Invalid type value: export",
		"sort_key=foo": "Sort key supplied was not valid.", "sort_dir=up": "Invalid sort direction: up",
		"marker=abc": "Invalid marker format", "limit=-1": "limit param must be positive",
	} {
		if resp, body := e.do("admin", "GET", "/v2/tasks?"+q, nil, ""); resp.StatusCode != 400 || !strings.Contains(body, msg) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
	if resp, body := e.do("owner", "GET", "/v2/tasks", nil, ""); resp.StatusCode != 403 {
		t.Errorf("member list: %d %s", resp.StatusCode, body)
	}
}
