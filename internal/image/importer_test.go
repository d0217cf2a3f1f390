package image_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/webfetch"
)

// The import workflow's rules, tested on the image service over real
// SQLite and file stores with no task runner: each test drives the
// requests and runs the tasks itself.

var admin = caller.Principal{UserID: "a", ProjectID: "p", Roles: []string{"admin", "member"}}

// wantErr fails unless err is of kind (nil: no error) and, when msg is
// given, says msg.
func wantErr(t *testing.T, what string, err, kind error, msg string) {
	t.Helper()
	switch {
	case kind == nil && err != nil:
		t.Errorf("%s: %v", what, err)
	case kind != nil && !errors.Is(err, kind):
		t.Errorf("%s: %v, want %v", what, err, kind)
	case kind != nil && msg != "" && err.Error() != msg:
		t.Errorf("%s: %q, want %q", what, err.Error(), msg)
	}
}

func (s *importService) create(t *testing.T, p caller.Principal, disk string) string {
	t.Helper()
	img, err := s.svc.Create(t.Context(), p, map[string]any{"name": "x", "disk_format": disk, "container_format": "bare"})
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

func (s *importService) hasStaged(t *testing.T, id string) bool {
	t.Helper()
	_, err := s.staging.Stat(t.Context(), "staging/"+id)
	return err == nil
}

// run runs the pending import task of an image, as the runner would on
// its attempt-th try, and records its end.
func (s *importService) run(t *testing.T, id string, attempt int) (*task.Task, error) {
	t.Helper()
	tasks, err := s.store.ImageTasks(t.Context(), id, time.Now())
	i := slices.IndexFunc(tasks, func(tk *task.Task) bool { return tk.Status == task.StatusPending })
	if err != nil || i < 0 {
		t.Fatalf("tasks of %s: %v %v", id, tasks, err)
	}
	tk := tasks[i]
	tk.Attempts = attempt
	result, err := s.svc.Execute(t.Context(), tk, &task.Reporter{})
	f := task.Final{Status: task.StatusSuccess, Result: result}
	if err != nil {
		f = task.Final{Status: task.StatusFailure, Message: err.Error()}
	}
	if ferr := s.store.FinishTask(t.Context(), tk.ID, "", f, time.Now()); ferr != nil {
		t.Fatal(ferr)
	}
	return tk, err
}

// TestStageRules: what PUT /stage accepts, and that a refused or broken
// stage leaves the image queued with no staged data.
func TestStageRules(t *testing.T) {
	const host = "http://node-a:9292"
	s := newImportServiceWith(t, []string{"default"}, func(o *image.Options) {
		o.SizeCap = 16
		o.Import.StageHost = host
	})
	ctx := t.Context()

	id := s.create(t, owner, "raw")
	wantErr(t, "stage", s.svc.Stage(ctx, owner, id, strings.NewReader("hello"), 5), nil, "")
	img := s.image(t, id)
	if img.Status != image.StatusUploading || img.Size == nil || *img.Size != 5 ||
		img.Properties["os_glance_stage_host"] != host || !s.hasStaged(t, id) {
		t.Errorf("staged image: %s size %v props %v staged %v", img.Status, img.Size, img.Properties, s.hasStaged(t, id))
	}
	wantErr(t, "stage again", s.svc.Stage(ctx, owner, id, strings.NewReader("hello"), 5),
		image.ErrConflict, "Image status transition from uploading to uploading is not allowed")

	stranger := caller.Principal{UserID: "v", ProjectID: "other", Roles: []string{"member"}}
	for _, c := range []struct {
		name     string
		who      caller.Principal
		body     string
		declared int64
		kind     error
		msg      string
	}{
		{"declared past the size cap", owner, "x", 17, image.ErrTooLarge, "The provided image is too large."},
		{"streamed past the size cap", owner, strings.Repeat("x", 17), -1, image.ErrTooLarge, "The provided image is too large."},
		{"shorter than declared", owner, "hello", 10, image.ErrInvalid,
			"Size of uploaded data (5 bytes) does not match the declared size (10 bytes)."},
		{"another project's image", stranger, "hello", 5, image.ErrNotFound, ""},
	} {
		id := s.create(t, owner, "raw")
		wantErr(t, c.name, s.svc.Stage(ctx, c.who, id, strings.NewReader(c.body), c.declared), c.kind, c.msg)
		if img := s.image(t, id); img.Status != image.StatusQueued || img.Size != nil || s.hasStaged(t, id) {
			t.Errorf("%s: image left %s, size %v, staged %v", c.name, img.Status, img.Size, s.hasStaged(t, id))
		}
	}

	// image_stage_total is checked while the data streams.
	quoted := caller.Principal{UserID: "q", ProjectID: "quoted", Roles: []string{"member"}}
	if err := s.store.SetProjectLimit(ctx, "quoted", image.QuotaImageStageTotal, 0); err != nil {
		t.Fatal(err)
	}
	id = s.create(t, quoted, "raw")
	err := s.svc.Stage(ctx, quoted, id, strings.NewReader("hello"), -1)
	if !errors.Is(err, image.ErrTooLarge) || !strings.Contains(err.Error(), "image_stage_total") {
		t.Errorf("stage past image_stage_total: %v", err)
	}
	if img := s.image(t, id); img.Status != image.StatusQueued || s.hasStaged(t, id) {
		t.Errorf("refused by quota: image left %s, staged %v", img.Status, s.hasStaged(t, id))
	}

	off := newImportServiceWith(t, []string{"default"}, func(o *image.Options) {
		o.Import.Methods = []string{image.MethodWebDownload}
	})
	id = off.create(t, owner, "raw")
	wantErr(t, "stage without glance-direct", off.svc.Stage(ctx, owner, id, strings.NewReader("x"), 1),
		image.ErrNotFound, "'glance-direct' method is not available at this site.")
}

// TestImportValidation: the method and target stores of an import
// request, refused before anything changes.
func TestImportValidation(t *testing.T) {
	s := newImportServiceWith(t, []string{"a", "b", "c"}, func(*image.Options) {})
	ctx := t.Context()
	staged := s.staged(t)
	active := s.create(t, owner, "raw")
	if err := s.svc.Upload(ctx, owner, active, "a", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	req := func(method string, edit func(*image.ImportRequest)) image.ImportRequest {
		r := image.ImportRequest{Method: method, AllStoresMustSucceed: true,
			Body: map[string]any{"method": map[string]any{"name": method}}}
		edit(&r)
		return r
	}
	for _, c := range []struct {
		name string
		id   string
		req  image.ImportRequest
		kind error
		msg  string
	}{
		{"unknown method", staged, req("nope", func(*image.ImportRequest) {}), image.ErrInvalid, "Unknown import method name 'nope'."},
		{"stores and the header", staged, req(image.MethodGlanceDirect, func(r *image.ImportRequest) { r.Stores, r.HeaderStore = []string{"a"}, "b" }),
			image.ErrInvalid, "Stores parameter and x-image-meta-store header can't be both specified"},
		{"all_stores and stores", staged, req(image.MethodGlanceDirect, func(r *image.ImportRequest) { r.Stores, r.AllStores = []string{"a"}, true }),
			image.ErrInvalid, "All_stores parameter can't be used with x-image-meta-store header or stores parameter"},
		{"unknown store", staged, req(image.MethodGlanceDirect, func(r *image.ImportRequest) { r.Stores = []string{"a", "zz"} }),
			image.ErrConflict, "Unknown scheme 'zz' found in URI"},
		{"copy into a store that has it", active, req(image.MethodCopyImage, func(r *image.ImportRequest) { r.Stores = []string{"b", "a"} }),
			image.ErrInvalid, "Image is already present at store 'a'"},
		{"glance-direct of an active image", active, req(image.MethodGlanceDirect, func(*image.ImportRequest) {}),
			image.ErrConflict, "Image with status active cannot be target for import"},
	} {
		before := s.image(t, c.id)
		who := owner
		if c.req.Method == image.MethodCopyImage {
			who = admin // copy_image is an admin's by default
		}
		wantErr(t, c.name, s.svc.Import(ctx, who, c.id, c.req), c.kind, c.msg)
		if after := s.image(t, c.id); after.Status != before.Status || after.Properties[image.ImportLock] != "" {
			t.Errorf("%s: image moved to %s, lock %q", c.name, after.Status, after.Properties[image.ImportLock])
		}
	}
	if tasks, _ := s.store.ImageTasks(ctx, staged, time.Now()); len(tasks) != 0 {
		t.Errorf("refused imports left tasks: %v", tasks)
	}

	// Accepted: the task targets the named stores, the image shows them.
	err := s.svc.Import(ctx, owner, staged, req(image.MethodGlanceDirect, func(r *image.ImportRequest) { r.Stores = []string{"c", "b"} }))
	wantErr(t, "import into b and c", err, nil, "")
	img := s.image(t, staged)
	if img.Status != image.StatusImporting || img.Properties["os_glance_importing_to_stores"] != "b,c" || img.Properties[image.ImportLock] == "" {
		t.Errorf("importing image: %s %v", img.Status, img.Properties)
	}
	tasks, _ := s.store.ImageTasks(ctx, staged, time.Now())
	if len(tasks) != 1 || tasks[0].Status != task.StatusPending || !slices.Equal(tasks[0].Input["backend"].([]any), []any{"c", "b"}) {
		t.Errorf("import task: %+v", tasks)
	}

	// copy-image to all stores targets the ones without a copy.
	err = s.svc.Import(ctx, admin, active, req(image.MethodCopyImage, func(r *image.ImportRequest) { r.AllStores = true }))
	wantErr(t, "copy to all stores", err, nil, "")
	if img := s.image(t, active); img.Status != image.StatusActive || img.Properties["os_glance_importing_to_stores"] != "b,c" {
		t.Errorf("copying image: %s %v", img.Status, img.Properties)
	}
	wantErr(t, "a second copy", s.svc.Import(ctx, admin, active, req(image.MethodCopyImage, func(r *image.ImportRequest) { r.Stores = []string{"b"} })),
		image.ErrConflict, "Image has active task")

	single := newImportService(t, true)
	one := single.create(t, owner, "raw")
	if err := single.svc.Upload(ctx, owner, one, "", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "copy-image with one store", single.svc.Import(ctx, admin, one, req(image.MethodCopyImage, func(*image.ImportRequest) {})),
		image.ErrInvalid, "Image is already present at store 'None'")
	id := single.staged(t)
	wantErr(t, "all_stores_must_succeed false with one store",
		single.svc.Import(ctx, owner, id, req(image.MethodGlanceDirect, func(r *image.ImportRequest) { r.AllStoresMustSucceed = false })),
		image.ErrInvalid, "All_stores_must_succeed can only be set with enabled_backends None")
}

// TestImportRun: a task takes its image from importing to active, or back
// to queued when it fails; the lock, the staged data and the progress
// properties go either way.
func TestImportRun(t *testing.T) {
	s := newImportServiceWith(t, []string{"a", "b", "c"}, func(*image.Options) {})
	ctx := t.Context()
	done := func(name, id string, want image.Status, locs int) {
		t.Helper()
		img := s.image(t, id)
		if img.Status != want || len(img.Locations()) != locs || s.hasStaged(t, id) {
			t.Errorf("%s: %s with %d locations (%v), staged %v; want %s with %d", name, img.Status, len(img.Locations()),
				img.Locations(), s.hasStaged(t, id), want, locs)
		}
		for _, k := range []string{image.ImportLock, "os_glance_importing_to_stores", "os_glance_import_bytes_done", "os_glance_import_bytes_total"} {
			if img.Properties[k] != "" {
				t.Errorf("%s: %s left as %q", name, k, img.Properties[k])
			}
		}
	}
	direct := image.ImportRequest{Method: image.MethodGlanceDirect, AllStoresMustSucceed: true, Stores: []string{"b", "c"},
		Body: map[string]any{"method": map[string]any{"name": "glance-direct"}}}

	id := s.staged(t)
	wantErr(t, "import", s.svc.Import(ctx, owner, id, direct), nil, "")
	_, err := s.run(t, id, 1)
	wantErr(t, "run", err, nil, "")
	done("glance-direct into b and c", id, image.StatusActive, 2)
	if img := s.image(t, id); img.Checksum == "" || *img.Size != int64(len("staged data")) {
		t.Errorf("imported image: checksum %q size %v", img.Checksum, img.Size)
	}

	// Data that is not in its declared format fails the import.
	bad := s.create(t, owner, "qcow2")
	if err := s.svc.Stage(ctx, owner, bad, strings.NewReader("not a qcow2 image"), -1); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "import", s.svc.Import(ctx, owner, bad, direct), nil, "")
	if _, err := s.run(t, bad, 1); err == nil {
		t.Error("a qcow2 image that is not one was imported")
	}
	done("refused by inspection", bad, image.StatusQueued, 0)
	if img := s.image(t, bad); img.Properties["os_glance_failed_import"] != "b,c" {
		t.Errorf("failed stores: %q", img.Properties["os_glance_failed_import"])
	}

	// copy-image adds a location and keeps the image active.
	copyReq := image.ImportRequest{Method: image.MethodCopyImage, AllStoresMustSucceed: true, Stores: []string{"a"},
		Body: map[string]any{"method": map[string]any{"name": "copy-image"}}}
	wantErr(t, "copy", s.svc.Import(ctx, admin, id, copyReq), nil, "")
	if _, err := s.run(t, id, 1); err != nil {
		t.Fatal(err)
	}
	done("copied to a", id, image.StatusActive, 3)

	// An import interrupted too often is given up and undone.
	tired := s.staged(t)
	wantErr(t, "import", s.svc.Import(ctx, owner, tired, direct), nil, "")
	_, err = s.run(t, tired, 4)
	if err == nil || err.Error() != "the import was interrupted 3 times; glint gave up on it" {
		t.Errorf("fourth attempt: %v", err)
	}
	done("given up", tired, image.StatusQueued, 0)

	// A task whose lock another import took does nothing.
	stolen := s.staged(t)
	wantErr(t, "import", s.svc.Import(ctx, owner, stolen, direct), nil, "")
	tasks, _ := s.store.ImageTasks(ctx, stolen, time.Now())
	err = s.store.UpdateImport(ctx, stolen, tasks[0].ID, image.ImportUpdate{SetProps: map[string]string{image.ImportLock: "other"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.run(t, stolen, 1); err == nil || err.Error() != "Task was aborted externally" {
		t.Errorf("run without the lock: %v", err)
	}
	if img := s.image(t, stolen); img.Status != image.StatusImporting || img.Properties[image.ImportLock] != "other" {
		t.Errorf("the other import's image changed: %s %v", img.Status, img.Properties)
	}
}

// webFetcher is the web-download fetcher the server builds (webfetch
// under a policy), here allowing loopback for the test server.
type webFetcher struct{ f *webfetch.Fetcher }

func (w webFetcher) Check(uri string) error { return w.f.Check(uri) }

func (w webFetcher) Open(ctx context.Context, uri string, _ image.Fetch) (io.ReadCloser, int64, error) {
	return w.f.Open(ctx, uri, nil)
}

// TestWebDownloadRun: web-download goes queued → importing → active with
// the downloaded data, and a download that does not match the checksum
// the request named returns the image to queued.
func TestWebDownloadRun(t *testing.T) {
	data := []byte("downloaded image data")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	s := newImportServiceWith(t, []string{"default"}, func(o *image.Options) {
		o.Import.Fetcher = webFetcher{webfetch.New(webfetch.Policy{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			ConnectTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, TotalTimeout: time.Minute})}
	})
	ctx := t.Context()
	web := func(checksum string) image.ImportRequest {
		return image.ImportRequest{Method: image.MethodWebDownload, URI: srv.URL + "/img", Checksum: checksum, AllStoresMustSucceed: true,
			Body: map[string]any{"method": map[string]any{"name": "web-download", "uri": srv.URL + "/img", "checksum": checksum}}}
	}

	id := s.create(t, owner, "raw")
	wantErr(t, "web-download", s.svc.Import(ctx, owner, id, web("")), nil, "")
	if img := s.image(t, id); img.Status != image.StatusImporting {
		t.Errorf("after the request: %s", img.Status)
	}
	if _, err := s.run(t, id, 1); err != nil {
		t.Fatal(err)
	}
	img := s.image(t, id)
	if img.Status != image.StatusActive || img.Size == nil || *img.Size != int64(len(data)) || s.hasStaged(t, id) {
		t.Errorf("downloaded image: %s size %v staged %v", img.Status, img.Size, s.hasStaged(t, id))
	}
	got, err := s.svc.Download(ctx, owner, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(body, data) {
		t.Errorf("image data %q", body)
	}

	id = s.create(t, owner, "raw")
	wantErr(t, "web-download", s.svc.Import(ctx, owner, id, web("sha256:00")), nil, "")
	if _, err := s.run(t, id, 1); err == nil || !strings.Contains(err.Error(), "does not match its sha256 checksum") {
		t.Errorf("checksum mismatch: %v", err)
	}
	if img := s.image(t, id); img.Status != image.StatusQueued || img.Size != nil || s.hasStaged(t, id) {
		t.Errorf("after a checksum mismatch: %s size %v staged %v", img.Status, img.Size, s.hasStaged(t, id))
	}

	refused := web("")
	refused.URI = "http://169.254.169.254/latest"
	wantErr(t, "web-download from a link-local address", s.svc.Import(ctx, owner, s.create(t, owner, "raw"), refused),
		image.ErrInvalid, "URI for web-download does not pass filtering: http://169.254.169.254/latest")
}

// TestRecoverCutoff: with several nodes, recovery returns a stage whose
// heartbeat stopped past StrandedAfter to queued and leaves a live one;
// an import whose task is over ends whatever its age, and a copy-image
// that lost its task only loses the lock.
func TestRecoverCutoff(t *testing.T) {
	var mu sync.Mutex
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	s := newImportServiceWith(t, []string{"default"}, func(o *image.Options) {
		o.StrandedAfter = time.Hour
		o.Now = now
	})
	ctx := t.Context()
	cutStage := func() string {
		id := s.create(t, owner, "raw")
		if err := s.store.SetStatus(ctx, id, image.StatusQueued, image.StatusUploading, now()); err != nil {
			t.Fatal(err)
		}
		w, _ := s.staging.Writer(ctx, "staging/"+id)
		w.Write([]byte("partial"))
		if err := w.Commit(ctx); err != nil {
			t.Fatal(err)
		}
		return id
	}
	old := cutStage()
	advance(50 * time.Minute)
	live := cutStage()

	orphan := s.staged(t)
	s.addTask(t, "over", task.StatusSuccess)
	s.store.LockImport(ctx, orphan, "over", now())
	s.store.UpdateImport(ctx, orphan, "over", image.ImportUpdate{Status: image.StatusImporting}, now())

	copying := s.create(t, owner, "raw")
	if err := s.svc.Upload(ctx, owner, copying, "", strings.NewReader("hello"), 5); err != nil {
		t.Fatal(err)
	}
	s.store.LockImport(ctx, copying, "gone", now())

	advance(20 * time.Minute)
	if err := s.svc.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]image.Status{old: image.StatusQueued, live: image.StatusUploading,
		orphan: image.StatusQueued, copying: image.StatusActive} {
		img := s.image(t, id)
		if img.Status != want || img.Properties[image.ImportLock] != "" {
			t.Errorf("%s: %s locked by %q, want %s unlocked", id, img.Status, img.Properties[image.ImportLock], want)
		}
	}
	if s.hasStaged(t, old) || !s.hasStaged(t, live) || s.hasStaged(t, orphan) {
		t.Errorf("staged data: old %v live %v orphan %v", s.hasStaged(t, old), s.hasStaged(t, live), s.hasStaged(t, orphan))
	}
	if img := s.image(t, copying); len(img.Locations()) != 1 {
		t.Errorf("copy-image recovery touched the data: %v", img.Locations())
	}
}

// TestTaskRules: the tasks API's access rules and the legacy import
// task's request checks.
func TestTaskRules(t *testing.T) {
	s := newImportService(t, true)
	ctx := t.Context()
	legacy := func(from string) image.TaskRequest {
		return image.TaskRequest{Type: "import", Input: map[string]any{"import_from": from,
			"import_from_format": "raw", "image_properties": map[string]any{}}}
	}
	_, err := s.svc.CreateTask(ctx, owner, legacy("http://example.com/x"))
	wantErr(t, "a member creates a task", err, image.ErrForbidden, "")
	for _, c := range []struct {
		name string
		req  image.TaskRequest
		msg  string
	}{
		{"no import_from", image.TaskRequest{Type: "import", Input: map[string]any{}}, "Invalid location: None"},
		{"a file", legacy("file:///etc/passwd"), "File based imports are not allowed. Please use a non-local source of image data."},
		{"ftp", legacy("ftp://example.com/x"),
			"The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http', 'https']"},
		{"unknown type", image.TaskRequest{Type: "export"}, "Invalid type value: export"},
	} {
		_, err := s.svc.CreateTask(ctx, admin, c.req)
		wantErr(t, c.name, err, image.ErrInvalid, c.msg)
	}
	tk, err := s.svc.CreateTask(ctx, admin, image.TaskRequest{Type: task.TypeImageImport})
	if err != nil || tk.Status != task.StatusFailure || tk.Message != "Input to api_image_import task is empty." {
		t.Errorf("api_image_import task: %+v %v", tk, err)
	}

	// An image's tasks show to whoever sees the image; a task of another
	// project does not.
	id := s.staged(t)
	wantErr(t, "import", s.svc.Import(ctx, owner, id, direct), nil, "")
	mine, err := s.svc.ImageTasks(ctx, owner, id)
	if err != nil || len(mine) != 1 {
		t.Fatalf("image tasks: %v %v", mine, err)
	}
	_, err = s.svc.Task(ctx, owner, mine[0].ID)
	wantErr(t, "a member reads a task", err, image.ErrForbidden, "")
	if got, err := s.svc.Task(ctx, admin, mine[0].ID); err != nil || got.ImageID != id {
		t.Errorf("an admin reads a task: %+v %v", got, err)
	}
	stranger := caller.Principal{UserID: "v", ProjectID: "other", Roles: []string{"admin"}}
	if _, err := s.svc.Task(ctx, stranger, "missing"); !errors.Is(err, image.ErrNotFound) {
		t.Errorf("a missing task: %v", err)
	}
	list, more, err := s.svc.Tasks(ctx, admin, task.ListQuery{Limit: 1})
	if err != nil || len(list) != 1 || !more {
		t.Errorf("a page of one task: %d tasks, more %v, %v", len(list), more, err)
	}
}
