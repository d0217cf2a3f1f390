package api_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// stage PUTs data to an image's staging area as the owner.
func (e *env) stage(t testing.TB, id string, data []byte) {
	t.Helper()
	resp, body := e.do("owner", "PUT", "/v2/images/"+id+"/stage", map[string]string{"Content-Type": "application/octet-stream"}, string(data))
	if resp.StatusCode != 204 {
		t.Fatalf("stage: %d %s", resp.StatusCode, body)
	}
}

// importImage POSTs an import request and returns the status and body.
func (e *env) importImage(t testing.TB, who, id, body string) (int, string) {
	t.Helper()
	resp, out := e.do(who, "POST", "/v2/images/"+id+"/import",
		map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, body)
	return resp.StatusCode, out
}

// waitImage polls the image until done says it reached the wanted state.
func (e *env) waitImage(t testing.TB, id string, done func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		img := e.imageJSON(t, id)
		if done(img) {
			return img
		}
		if time.Now().After(deadline) {
			t.Fatalf("image %s did not reach the wanted state: %v", id, img)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// importEnded: the import is over (the lock is gone) one way or another.
func importEnded(img map[string]any) bool {
	_, locked := img["os_glance_import_task"]
	return !locked && img["status"] != "importing"
}

// waitTask waits for the last task of an image to finish and returns it.
func (e *env) waitTask(t testing.TB, id string) map[string]any {
	t.Helper()
	return e.waitTaskAs(t, "owner", id)
}

// waitTaskAs is waitTask for the tasks caller who can see.
func (e *env) waitTaskAs(t testing.TB, who, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		tasks := e.imageTasksAs(t, who, id)
		if n := len(tasks); n > 0 && (tasks[n-1]["status"] == "success" || tasks[n-1]["status"] == "failure") {
			return tasks[n-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tasks of image %s did not finish: %v", id, tasks)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// imageTasks returns the owner's view of an image's tasks.
func (e *env) imageTasks(t testing.TB, id string) []map[string]any {
	t.Helper()
	return e.imageTasksAs(t, "owner", id)
}

func (e *env) imageTasksAs(t testing.TB, who, id string) []map[string]any {
	t.Helper()
	resp, body := e.do(who, "GET", "/v2/images/"+id+"/tasks", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("image tasks: %d %s", resp.StatusCode, body)
	}
	var out struct{ Tasks []map[string]any }
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Tasks
}

func TestImportDiscovery(t *testing.T) {
	e := newEnv(t)
	resp, body := e.do("owner", "GET", "/v2/info/import", nil, "")
	want := `{"import-methods":{"description":"Import methods available.","type":"array","value":["glance-direct","web-download","copy-image"]}}`
	if resp.StatusCode != 200 || body != want {
		t.Fatalf("info/import: %d %s", resp.StatusCode, body)
	}
	resp, _ = e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"}, `{"name":"x"}`)
	if got := resp.Header.Get("OpenStack-image-import-methods"); got != "glance-direct,web-download,copy-image" {
		t.Fatalf("OpenStack-image-import-methods: %q", got)
	}
}

func TestGlanceDirect(t *testing.T) {
	e := newEnv(t)
	data := qemuImage(t, t.TempDir(), "a.qcow2", "-f", "qcow2", "2G")
	id := e.createImage(t, `{"name":"direct","disk_format":"qcow2","container_format":"bare"}`)
	e.stage(t, id, data)
	if img := e.imageJSON(t, id); img["status"] != "uploading" || img["size"] != float64(len(data)) {
		t.Fatalf("after stage: %v", img)
	}
	if _, hidden := e.imageJSON(t, id)["os_glance_stage_host"]; hidden {
		t.Fatal("os_glance_stage_host is shown")
	}
	// Staged data cannot be staged again, nor uploaded.
	resp, _ := e.do("owner", "PUT", "/v2/images/"+id+"/stage", map[string]string{"Content-Type": "application/octet-stream"}, "x")
	if resp.StatusCode != 409 {
		t.Fatalf("second stage: %d", resp.StatusCode)
	}
	if code, body := e.importImage(t, "other", id, `{"method":{"name":"glance-direct"}}`); code != 404 {
		t.Fatalf("stranger's import: %d %s", code, body)
	}
	if code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`); code != 202 || body != "" {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	e.waitTask(t, id)
	sum := md5.Sum(data)
	if img["status"] != "active" || img["virtual_size"] != float64(2<<30) || img["checksum"] != hex.EncodeToString(sum[:]) ||
		img["size"] != float64(len(data)) || img["os_glance_importing_to_stores"] != "" || img["os_glance_failed_import"] != "" {
		t.Fatalf("after import: %v", img)
	}
	for _, k := range []string{"os_glance_import_bytes_done", "os_glance_import_bytes_total"} {
		if _, ok := img[k]; ok {
			t.Errorf("%s left on an imported image", k)
		}
	}
	resp, got := e.do("owner", "GET", "/v2/images/"+id+"/file", nil, "")
	if resp.StatusCode != 200 || got != string(data) {
		t.Fatalf("download after import: %d, %d bytes", resp.StatusCode, len(got))
	}
	tasks := e.imageTasks(t, id)
	if len(tasks) != 1 {
		t.Fatalf("image tasks: %v", tasks)
	}
	tk := tasks[0]
	if tk["status"] != "success" || tk["type"] != "api_image_import" || tk["image_id"] != id || tk["owner"] != "proj-a" ||
		tk["user_id"] != "user-a" || tk["deleted"] != false || tk["expires_at"] == nil {
		t.Fatalf("task: %v", tk)
	}
	if res, _ := tk["result"].(map[string]any); res["image_id"] != id {
		t.Fatalf("task result: %v", tk["result"])
	}
	in, _ := tk["input"].(map[string]any)
	if req, _ := in["import_req"].(map[string]any); in["image_id"] != id || req == nil {
		t.Fatalf("task input: %v", in)
	}
	// The task as an admin sees it on the tasks API.
	resp, body := e.do("admin", "GET", "/v2/tasks/"+tk["id"].(string), nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"success"`) || !strings.Contains(body, `"self":"/v2/tasks/`) {
		t.Fatalf("show task: %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("owner", "GET", "/v2/tasks/"+tk["id"].(string), nil, ""); resp.StatusCode != 403 {
		t.Fatalf("tasks API as a member: %d (tasks_api_access is admin only)", resp.StatusCode)
	}
	if n := e.blobCount(t); n != 1 {
		t.Fatalf("%d blobs after import (staging left behind?)", n)
	}
}

// TestImportRefusesUnsafeImage: the inspector runs on imports too; a
// crafted image fails the task with the reason and leaves the image queued
// without data.
func TestImportRefusesUnsafeImage(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	base := filepath.Join(dir, "base.raw")
	os.WriteFile(base, make([]byte, 1<<20), 0o600)
	evil := qemuImage(t, dir, "evil.qcow2", "-f", "qcow2", "-b", base, "-F", "raw", "1G")
	id := e.createImage(t, `{"name":"evil","disk_format":"qcow2","container_format":"bare"}`)
	e.stage(t, id, evil)
	if code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`); code != 202 {
		t.Fatalf("import: %d %s", code, body)
	}
	img := e.waitImage(t, id, importEnded)
	if img["status"] != "queued" || img["size"] != nil || img["checksum"] != nil {
		t.Fatalf("after refused import: %v", img)
	}
	e.waitTask(t, id)
	tasks := e.imageTasks(t, id)
	if len(tasks) != 1 || tasks[0]["status"] != "failure" ||
		!strings.Contains(tasks[0]["message"].(string), "Image failed safety checks: the qcow2 image has a backing file") {
		t.Fatalf("task: %v", tasks)
	}
	if n := e.blobCount(t); n != 0 {
		t.Fatalf("%d blobs left", n)
	}
	// The image can be staged and imported again, with proper data.
	good := qemuImage(t, dir, "good.qcow2", "-f", "qcow2", "1G")
	e.stage(t, id, good)
	e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`)
	if img := e.waitImage(t, id, importEnded); img["status"] != "active" {
		t.Fatalf("second import: %v", img)
	}
}

func TestImportRefusals(t *testing.T) {
	e := newEnv(t)
	id := e.createImage(t, `{"name":"r","disk_format":"raw","container_format":"bare"}`)
	cases := []struct {
		body   string
		status int
		msg    string
	}{
		{`{}`, 400, "Import request requires a 'method' field."},
		{`{"method":{}}`, 400, "Import request requires a 'name' field."},
		{`{"method":{"name":"glance-upload"}}`, 400, "Unknown import method name 'glance-upload'."},
		{`{"method":{"name":"glance-download"}}`, 400, "Unknown import method name 'glance-download'."},
		{`{"method":{"name":"glance-direct"},"all_stores":"yes"}`, 400, "'all_stores' must be boolean value only"},
		{`{"method":{"name":"glance-direct"},"all_stores_must_succeed":1}`, 400, "'all_stores_must_succeed' must be boolean value only"},
		{`{"method":{"name":"glance-direct"}}`, 409, "Image needs to be staged before 'glance-direct' method can be used"},
		{`{"method":{"name":"copy-image"}}`, 409, "Only images with status active can be targeted for copying"},
		{`{"method":{"name":"web-download","uri":"http://127.0.0.1/x"},"all_stores_must_succeed":false}`, 400,
			"All_stores_must_succeed can only be set with enabled_backends http://127.0.0.1/x"},
	}
	for _, c := range cases {
		code, body := e.importImage(t, "owner", id, c.body)
		if code != c.status || !strings.Contains(body, c.msg) {
			t.Errorf("%s: %d %s, want %d %q", c.body, code, body, c.status, c.msg)
		}
	}
	// An active image takes only copy-image, and only when there is a
	// store without the data.
	e.do("owner", "PUT", "/v2/images/"+id+"/file", map[string]string{"Content-Type": "application/octet-stream"}, "raw data")
	if code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`); code != 409 ||
		!strings.Contains(body, "Image with status active cannot be target for import") {
		t.Errorf("import into an active image: %d %s", code, body)
	}
	if code, body := e.importImage(t, "admin", id, `{"method":{"name":"copy-image"}}`); code != 400 ||
		!strings.Contains(body, "Image is already present at store 'None'") {
		t.Errorf("copy-image with one store: %d %s", code, body)
	}
	if code, _ := e.importImage(t, "owner", id, `{"method":{"name":"copy-image"}}`); code != 403 {
		t.Errorf("copy-image as a member: %d", code)
	}
	// No format, no import.
	bare := e.createImage(t, `{"name":"b"}`)
	e.stage(t, bare, []byte("x"))
	if code, body := e.importImage(t, "owner", bare, `{"method":{"name":"glance-direct"}}`); code != 409 ||
		!strings.Contains(body, "'container_format' needs to be set before import") {
		t.Errorf("import without formats: %d %s", code, body)
	}
	// Deleting a staged image removes the staged data.
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+bare, nil, ""); resp.StatusCode != 204 {
		t.Fatal("delete")
	}
	if n := e.blobCount(t); n != 1 {
		t.Errorf("%d blobs after deleting a staged image", n)
	}
	_ = bytes.Equal
}

// TestImportQuota: the quotas an import uses are checked before the 202;
// a refused import leaves the image as it was, unlocked.
func TestImportQuota(t *testing.T) {
	e := newEnv(t)
	id := e.createImage(t, `{"name":"q","disk_format":"raw","container_format":"bare"}`)
	e.stage(t, id, make([]byte, 3<<20))
	resp, body := e.do("admin", "PUT", "/v2/quotas/proj-a", map[string]string{"Content-Type": "application/json"}, `{"image_size_total": 2}`)
	if resp.StatusCode >= 300 {
		t.Fatalf("set quota: %d %s", resp.StatusCode, body)
	}
	code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`)
	if code != 413 || !strings.Contains(body, "image_size_total") {
		t.Fatalf("import over quota: %d %s", code, body)
	}
	img := e.imageJSON(t, id)
	if _, locked := img["os_glance_import_task"]; locked || img["status"] != "uploading" || img["size"] != float64(3<<20) {
		t.Fatalf("image after a refused import: %v", img)
	}
	if tasks := e.imageTasks(t, id); len(tasks) != 1 || tasks[0]["status"] != "failure" {
		t.Fatalf("task of a refused import: %v", tasks)
	}
	e.do("admin", "PUT", "/v2/quotas/proj-a", map[string]string{"Content-Type": "application/json"}, `{"image_size_total": -1}`)
	if code, body := e.importImage(t, "owner", id, `{"method":{"name":"glance-direct"}}`); code != 202 {
		t.Fatalf("import after the quota was lifted: %d %s", code, body)
	}
	if img := e.waitImage(t, id, importEnded); img["status"] != "active" {
		t.Fatalf("after import: %v", img)
	}
}
