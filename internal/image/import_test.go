package image_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/task"
)

// importService is an image service on real SQLite and files with import
// on and no task runner: the tests drive the state directly.
type importService struct {
	svc     *image.Service
	store   *sqlite.Store
	staging blob.Driver
	dir     string // the file stores are images-<id> in it
}

func newImportService(t *testing.T, single bool, plugins ...image.Plugin) *importService {
	t.Helper()
	return newImportServiceWith(t, []string{"default"}, func(o *image.Options) {
		o.Import.Plugins = plugins
		if !single {
			o.StrandedAfter = time.Hour
		}
	})
}

// newImportServiceWith is newImportService with one file store per id
// (named in the API, multi-store, when there are several; the first is
// the default and the staging store) and options changed by edit.
func newImportServiceWith(t *testing.T, ids []string, edit func(*image.Options)) *importService {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stores := image.Stores{Drivers: map[string]blob.Driver{}, Default: ids[0], Named: len(ids) > 1}
	for _, id := range ids {
		fs, err := filesystem.New(filepath.Join(dir, "images-"+id))
		if err != nil {
			t.Fatal(err)
		}
		stores.Drivers[id] = fs
	}
	authz, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	opts := image.Options{Import: image.ImportOptions{Methods: image.DefaultImportMethods, Tasks: st,
		StagingPrefix: "staging/", WorkDir: filepath.Join(dir, "work")}}
	edit(&opts)
	svc, err := image.NewService(st, stores, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), opts)
	if err != nil {
		t.Fatal(err)
	}
	return &importService{svc: svc, store: st, staging: stores.Drivers[ids[0]], dir: dir}
}

var owner = caller.Principal{UserID: "u", ProjectID: "p", Roles: []string{"member"}}

func (s *importService) staged(t *testing.T) string {
	t.Helper()
	img, err := s.svc.Create(t.Context(), owner, map[string]any{"name": "x", "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.Stage(t.Context(), owner, img.ID, bytes.NewReader([]byte("staged data")), -1); err != nil {
		t.Fatal(err)
	}
	return img.ID
}

func (s *importService) addTask(t *testing.T, id string, st task.Status) {
	t.Helper()
	now := time.Now().UTC()
	if err := s.store.CreateTask(t.Context(), &task.Task{ID: id, Type: task.TypeImageImport, Status: st, Owner: "p",
		CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func (s *importService) image(t *testing.T, id string) *image.Image {
	t.Helper()
	img, err := s.store.GetImage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

var direct = image.ImportRequest{Method: image.MethodGlanceDirect, AllStoresMustSucceed: true,
	Body: map[string]any{"method": map[string]any{"name": "glance-direct"}}}

// TestImportLockStaleness: a lock whose task is gone or finished is taken
// over at once; a lock whose task may still run is respected (409).
func TestImportLockStaleness(t *testing.T) {
	s := newImportService(t, true)
	for _, c := range []struct {
		holder string
		status task.Status // "" : no task record at all
		ok     bool
	}{{"gone", "", true}, {"failed", task.StatusFailure, true}, {"done", task.StatusSuccess, true},
		{"pending", task.StatusPending, false}, {"running", task.StatusProcessing, false}} {
		id := s.staged(t)
		if c.status != "" {
			s.addTask(t, c.holder, c.status)
		}
		if err := s.store.LockImport(t.Context(), id, c.holder, time.Now()); err != nil {
			t.Fatal(err)
		}
		err := s.svc.Import(t.Context(), owner, id, direct)
		img := s.image(t, id)
		switch {
		case c.ok && (err != nil || img.Status != image.StatusImporting || img.Properties[image.ImportLock] == c.holder):
			t.Errorf("lock of a %q task: %v, image %s locked by %s", c.holder, err, img.Status, img.Properties[image.ImportLock])
		case !c.ok && (!errors.Is(err, image.ErrConflict) || !strings.Contains(err.Error(), "Image has active task") ||
			img.Properties[image.ImportLock] != c.holder || img.Status != image.StatusUploading):
			t.Errorf("lock of a %q task: %v, image %s locked by %s", c.holder, err, img.Status, img.Properties[image.ImportLock])
		}
	}
}

// TestRecoverImports: after a crash, an import whose task is gone or over
// returns its image to queued; a cut-off stage too; a staged image waiting
// for its import, and an import a runner will resume, stay as they are.
func TestRecoverImports(t *testing.T) {
	s := newImportService(t, true)
	orphan := s.staged(t)
	s.addTask(t, "over", task.StatusFailure)
	s.store.LockImport(t.Context(), orphan, "over", time.Now())
	s.store.UpdateImport(t.Context(), orphan, "over", image.ImportUpdate{Status: image.StatusImporting}, time.Now())

	resumable := s.staged(t)
	s.addTask(t, "live", task.StatusProcessing)
	s.store.LockImport(t.Context(), resumable, "live", time.Now())
	s.store.UpdateImport(t.Context(), resumable, "live", image.ImportUpdate{Status: image.StatusImporting}, time.Now())

	waiting := s.staged(t)

	cut, _ := s.svc.Create(t.Context(), owner, map[string]any{"name": "cut", "disk_format": "raw", "container_format": "bare"})
	s.store.SetStatus(t.Context(), cut.ID, image.StatusQueued, image.StatusUploading, time.Now())
	w, _ := s.staging.Writer(t.Context(), "staging/"+cut.ID)
	w.Write([]byte("partial"))
	w.Commit(t.Context())

	if err := s.svc.Recover(t.Context()); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]image.Status{orphan: image.StatusQueued, resumable: image.StatusImporting,
		waiting: image.StatusUploading, cut.ID: image.StatusQueued} {
		img := s.image(t, id)
		if img.Status != want {
			t.Errorf("%s: %s, want %s", id, img.Status, want)
		}
		_, err := s.staging.Stat(context.Background(), "staging/"+id)
		if staged := err == nil; staged != (want != image.StatusQueued) {
			t.Errorf("%s: staged data there: %v", id, staged)
		}
	}
	if img := s.image(t, orphan); img.Properties[image.ImportLock] != "" {
		t.Errorf("orphan keeps its lock: %v", img.Properties)
	}
	if img := s.image(t, resumable); img.Properties[image.ImportLock] != "live" {
		t.Errorf("resumable import lost its lock: %v", img.Properties)
	}
}

// deleter is an import plugin during whose run the image is deleted (as a
// user may at any time); the plugin then fails as a plugin whose input
// vanished would.
type deleter struct{ svc **image.Service }

func (deleter) Name() string { return "deleter" }

func (d deleter) Apply(ctx context.Context, w *image.Work) error {
	if err := (*d.svc).Delete(ctx, owner, w.ImageID); err != nil {
		return err
	}
	return errors.New("the work file vanished")
}

// TestImportImageDeleted: an import whose image is deleted while it runs
// ends with "deleted, aborting import", not with whatever step failed
// next (or "undoing the failed import: No image found").
func TestImportImageDeleted(t *testing.T) {
	var svc *image.Service
	s := newImportService(t, true, deleter{&svc})
	svc = s.svc
	id := s.staged(t)
	if err := s.svc.Import(t.Context(), owner, id, direct); err != nil {
		t.Fatal(err)
	}
	tasks, err := s.store.ImageTasks(t.Context(), id, time.Now())
	if err != nil || len(tasks) != 1 {
		t.Fatalf("tasks: %v %v", tasks, err)
	}
	_, err = s.svc.Execute(t.Context(), tasks[0], &task.Reporter{})
	if err == nil || err.Error() != "Image has been deleted, aborting import." {
		t.Fatalf("import of a deleted image ended with %v", err)
	}
	if _, err := s.staging.Stat(t.Context(), "staging/"+id); err == nil {
		t.Error("staged data left behind")
	}
}
