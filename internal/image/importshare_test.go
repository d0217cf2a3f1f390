package image_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/webfetch"
)

// shareImports is an image service whose stores a and b share data
// (both of one kind, file or S3) and whose store c (a file store) can be
// broken, with imports on; staging is a file store of its own, so that
// the shared stores hold only image data.
type shareImports struct {
	svc     *image.Service
	records image.Store
	tasks   task.Store
	a, b    blob.Driver
	cDir    string
	web     string // a web server serving the test data
}

func newShareImports(t *testing.T, kind, rec string, data []byte) *shareImports {
	t.Helper()
	newStore := map[string]func(*testing.T) blob.Driver{"file": fileStore, "s3": s3Store}[kind]
	s := &shareImports{records: records[rec](t), a: newStore(t), b: newStore(t), cDir: filepath.Join(t.TempDir(), "c")}
	s.tasks = s.records.(task.Store)
	c, err := filesystem.New(s.cDir)
	if err != nil {
		t.Fatal(err)
	}
	staging, err := filesystem.New(filepath.Join(t.TempDir(), "staging"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(data) }))
	t.Cleanup(srv.Close)
	s.web = srv.URL + "/image"
	authz, err := policy.New(policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stores := image.Stores{Drivers: map[string]blob.Driver{"a": s.a, "b": s.b, "c": c}, Default: "a", Named: true,
		Shared: map[string]bool{"a": true, "b": true, "c": true}}
	opts := image.Options{Import: image.ImportOptions{Methods: image.DefaultImportMethods, Tasks: s.tasks,
		Staging: staging, StagingPrefix: "staging/", WorkDir: filepath.Join(t.TempDir(), "work"),
		Fetcher: webFetcher{webfetch.New(webfetch.Policy{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			ConnectTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, TotalTimeout: time.Minute})}}}
	if s.svc, err = image.NewService(s.records, stores, authz, slog.New(slog.NewTextHandler(io.Discard, nil)), opts); err != nil {
		t.Fatal(err)
	}
	return s
}

// importInto asks for an import of image id by p into stores and runs
// its task, as the task runner would; it returns the task's error.
func (s *shareImports) importInto(t *testing.T, p caller.Principal, id, method string, stores ...string) error {
	t.Helper()
	body := map[string]any{"name": method}
	req := image.ImportRequest{Method: method, Stores: stores, AllStoresMustSucceed: true, Body: map[string]any{"method": body}}
	if method == image.MethodWebDownload {
		req.URI, body["uri"] = s.web, s.web
	}
	if err := s.svc.Import(t.Context(), p, id, req); err != nil {
		t.Fatalf("%s of %s into %v: %v", method, id, stores, err)
	}
	tasks, err := s.tasks.ImageTasks(t.Context(), id, time.Now())
	i := slices.IndexFunc(tasks, func(tk *task.Task) bool { return tk.Status == task.StatusPending })
	if err != nil || i < 0 {
		t.Fatalf("tasks of %s: %v %v", id, tasks, err)
	}
	tk := tasks[i]
	tk.Attempts = 1
	result, err := s.svc.Execute(t.Context(), tk, &task.Reporter{})
	f := task.Final{Status: task.StatusSuccess, Result: result}
	if err != nil {
		f = task.Final{Status: task.StatusFailure, Message: err.Error()}
	}
	if ferr := s.tasks.FinishTask(t.Context(), tk.ID, "", f, time.Now()); ferr != nil {
		t.Fatal(ferr)
	}
	return err
}

// staged creates an image of p's and stages data for glance-direct.
func (s *shareImports) staged(t *testing.T, p caller.Principal, data []byte) string {
	t.Helper()
	id := s.create(t, p)
	if err := s.svc.Stage(t.Context(), p, id, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	return id
}

func (s *shareImports) create(t *testing.T, p caller.Principal) string {
	t.Helper()
	img, err := s.svc.Create(t.Context(), p, map[string]any{"name": "imported", "disk_format": "raw", "container_format": "bare"})
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// locations are the image's locations by store.
func (s *shareImports) locations(t *testing.T, id string) map[string]string {
	t.Helper()
	img, err := s.records.GetImage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	locs := map[string]string{}
	for _, l := range img.Locations() {
		store, _, _ := strings.Cut(l, ":")
		locs[store] = l
	}
	return locs
}

func (s *shareImports) refs(t *testing.T, loc string) int64 {
	t.Helper()
	n, err := s.records.DataReferences(t.Context(), loc)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// wantBlobs fails unless stores a and b hold a and b blobs.
func (s *shareImports) wantBlobs(t *testing.T, when string, a, b int64) {
	t.Helper()
	if ua, ub := usage(t, s.a), usage(t, s.b); ua.Blobs != a || ub.Blobs != b {
		t.Errorf("%s: stores a and b hold %d and %d blobs, want %d and %d", when, ua.Blobs, ub.Blobs, a, b)
	}
}

// TestImportsShareData: glance-direct, web-download and copy-image into
// stores that share data take references to identical data already there
// (an upload's, another import's) and drop their own copies, as uploads
// do; an import that fails after recording a store's copy leaves no
// reference behind, so the data goes with its last real user; deleting
// images in any order keeps the data while one refers to it and leaves
// the stores empty.
func TestImportsShareData(t *testing.T) {
	data := make([]byte, 6<<20+5) // more than one S3 part
	rand.NewChaCha8([32]byte{7}).Read(data)
	for _, kind := range []string{"file", "s3"} {
		for _, rec := range []string{"sqlite", "postgres"} {
			t.Run(kind+"/"+rec, func(t *testing.T) {
				s := newShareImports(t, kind, rec, data)
				p1, p2, p3 := member("p1"), member("p2"), member("p3")

				uploaded, err := uploadImage(t, s.svc, p1, data)
				if err != nil {
					t.Fatal(err)
				}
				upLoc := s.locations(t, uploaded)["a"]

				// glance-direct into a (the upload's data is there) and b.
				direct := s.staged(t, p2, data)
				if err := s.importInto(t, p2, direct, image.MethodGlanceDirect, "a", "b"); err != nil {
					t.Fatalf("glance-direct: %v", err)
				}
				locs := s.locations(t, direct)
				if locs["a"] != upLoc || locs["b"] == "" {
					t.Errorf("glance-direct recorded %v, want a's data at %s and a copy in b", locs, upLoc)
				}
				bLoc := locs["b"]
				s.wantBlobs(t, "after glance-direct", 1, 1)

				// web-download into b takes glance-direct's copy there.
				web := s.create(t, p3)
				if err := s.importInto(t, p3, web, image.MethodWebDownload, "b"); err != nil {
					t.Fatalf("web-download: %v", err)
				}
				if got := s.locations(t, web); got["b"] != bLoc || len(got) != 1 {
					t.Errorf("web-download recorded %v, want b's data at %s", got, bLoc)
				}

				// copy-image of the upload into b takes it too.
				if err := s.importInto(t, admin, uploaded, image.MethodCopyImage, "b"); err != nil {
					t.Fatalf("copy-image: %v", err)
				}
				if got := s.locations(t, uploaded); got["a"] != upLoc || got["b"] != bLoc {
					t.Errorf("copy-image left %v, want %s and %s", got, upLoc, bLoc)
				}
				s.wantBlobs(t, "after web-download and copy-image", 1, 1)
				if a, b := s.refs(t, upLoc), s.refs(t, bLoc); a != 2 || b != 3 {
					t.Errorf("references: %d to a's data, %d to b's; want 2 and 3", a, b)
				}

				// An import that recorded a's data and then lost its task (a
				// crash, the task expired): recovery returns the image to
				// queued and releases its reference; the data stays.
				crashed := s.staged(t, p2, data)
				now := time.Now().UTC()
				if err := s.tasks.CreateTask(t.Context(), &task.Task{ID: "crashed-task", Type: task.TypeImageImport,
					Status: task.StatusFailure, Owner: "p2", CreatedAt: now, UpdatedAt: now}); err != nil {
					t.Fatal(err)
				}
				if err := s.records.LockImport(t.Context(), crashed, "crashed-task", now); err != nil {
					t.Fatal(err)
				}
				if err := s.records.UpdateImport(t.Context(), crashed, "crashed-task", image.ImportUpdate{Status: image.StatusImporting}, now); err != nil {
					t.Fatal(err)
				}
				sum := sha512.Sum512(data)
				loc, err := s.records.ImportShared(t.Context(), crashed, "crashed-task", image.ImportUpdate{},
					image.UploadResult{Size: int64(len(data)), HashAlgo: "sha512", HashValue: hex.EncodeToString(sum[:]), Location: "a:" + crashed}, now)
				if err != nil || loc != upLoc {
					t.Fatalf("recording the crashed import's copy: %q, %v; want %s", loc, err, upLoc)
				}
				if err := s.svc.Recover(t.Context()); err != nil {
					t.Fatal(err)
				}
				if img, _ := s.records.GetImage(t.Context(), crashed); img.Status != image.StatusQueued || img.Location != "" {
					t.Errorf("recovered import left the image %s at %q", img.Status, img.Location)
				}
				if n := s.refs(t, upLoc); n != 2 {
					t.Errorf("after recovery: %d references to a's data, want 2", n)
				}
				s.wantBlobs(t, "after recovery", 1, 1)
				wantData(t, s.svc, p2, direct, data)

				// Store c breaks: imports into a and c, or b and c, record a
				// reference in a or b first and then fail. Nothing of them
				// may stay.
				if err := os.RemoveAll(s.cDir); err != nil {
					t.Fatal(err)
				}
				failed := s.staged(t, p2, data)
				if err := s.importInto(t, p2, failed, image.MethodGlanceDirect, "a", "c"); err == nil {
					t.Fatal("an import into a broken store succeeded")
				}
				if img, _ := s.records.GetImage(t.Context(), failed); img.Status != image.StatusQueued || img.Location != "" {
					t.Errorf("failed glance-direct left the image %s at %q", img.Status, img.Location)
				}
				copied := s.create(t, p3)
				if err := s.importInto(t, p3, copied, image.MethodWebDownload, "b"); err != nil {
					t.Fatal(err)
				}
				if err := s.importInto(t, admin, copied, image.MethodCopyImage, "a", "c"); err == nil {
					t.Fatal("a copy into a broken store succeeded")
				}
				if got := s.locations(t, copied); len(got) != 1 || got["b"] != bLoc {
					t.Errorf("failed copy-image left %v, want only %s", got, bLoc)
				}
				if a, b := s.refs(t, upLoc), s.refs(t, bLoc); a != 2 || b != 4 {
					t.Errorf("after the failed imports: %d references to a's data, %d to b's; want 2 and 4", a, b)
				}
				s.wantBlobs(t, "after the failed imports", 1, 1)

				// The first uploader goes first: the others keep the data;
				// the last user of each takes it along.
				for _, c := range []struct {
					p    caller.Principal
					id   string
					a, b int64
				}{{p1, uploaded, 1, 1}, {p2, direct, 0, 1}, {p3, web, 0, 1}, {p3, copied, 0, 0}} {
					if err := s.svc.Delete(t.Context(), c.p, c.id); err != nil {
						t.Fatal(err)
					}
					s.wantBlobs(t, "after deleting "+c.id, c.a, c.b)
					if c.b > 0 {
						wantData(t, s.svc, p3, copied, data)
					}
				}
				for _, id := range []string{failed, crashed} {
					if err := s.svc.Delete(t.Context(), p2, id); err != nil {
						t.Fatal(err)
					}
				}
				s.wantBlobs(t, "with every image deleted", 0, 0)
			})
		}
	}
}
