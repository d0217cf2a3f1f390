package sqlite_test

import (
	"database/sql"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// renameEnv names the database a child process of this test binary
// renames the image in (TestWALStampOtherProcess).
const renameEnv = "GLINT_TEST_WAL_RENAME"

func newShown(t *testing.T, s *sqlite.Store, id string) {
	t.Helper()
	name := "before"
	if err := s.CreateImage(t.Context(), &image.Image{ID: id, Name: &name, Status: image.StatusQueued,
		Visibility: image.VisibilityPrivate}); err != nil {
		t.Fatal(err)
	}
	for range 2 { // loaded, then found current
		if _, err := s.GetImage(t.Context(), id); err != nil {
			t.Fatal(err)
		}
	}
}

// TestWALStamp: the stamp changes with every commit and with nothing
// else, and a show the stamp vouches for asks the database nothing: it
// is answered with the read pool closed, until the next commit.
func TestWALStamp(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "glint.db"))
	defer s.Close()
	ctx := t.Context()
	const id = "00000000-0000-4000-8000-000000000001"
	newShown(t, s, id)
	st, ok := sqlite.ReadStamp(s)
	if !ok {
		t.Fatal("no stamp from a database in WAL mode")
	}
	if _, err := s.ListImages(ctx, image.ListQuery{Caller: image.Scope{Admin: true}, Limit: 5}); err != nil {
		t.Fatal(err)
	}
	if again, ok := sqlite.ReadStamp(s); !ok || again != st {
		t.Fatalf("the stamp moved with reads only: %v %v", st, again)
	}

	if err := sqlite.CloseReaders(s); err != nil {
		t.Fatal(err)
	}
	img, err := s.GetImage(ctx, id)
	if err != nil || img.Name == nil || *img.Name != "before" {
		t.Fatalf("show vouched for by the stamp, read pool closed: %v %v", img, err)
	}
	other := "other"
	if err := s.CreateImage(ctx, &image.Image{ID: "00000000-0000-4000-8000-000000000002", Name: &other,
		Status: image.StatusQueued, Visibility: image.VisibilityPrivate}); err != nil {
		t.Fatal(err)
	}
	if after, ok := sqlite.ReadStamp(s); !ok || after == st {
		t.Fatalf("the stamp did not move with a commit: %v %v", st, after)
	}
	// Another image was written, but the stamp cannot say which: the
	// show must ask the database, whose pool is closed.
	if _, err := s.GetImage(ctx, id); err == nil {
		t.Fatal("show answered from the cache after a commit the stamp could not vouch for")
	}
}

// TestWALStampOtherProcess: a commit by another process, through its own
// SQLite and its own mapping of the WAL index, moves the stamp, and the
// next show of the image it changed answers the change.
func TestWALStampOtherProcess(t *testing.T) {
	if path := os.Getenv(renameEnv); path != "" {
		db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(`UPDATE images SET name = 'after' WHERE id = '00000000-0000-4000-8000-000000000001'`); err != nil {
			t.Fatal(err)
		}
		return
	}
	path := filepath.Join(t.TempDir(), "glint.db")
	s := open(t, path)
	defer s.Close()
	const id = "00000000-0000-4000-8000-000000000001"
	newShown(t, s, id)
	st, _ := sqlite.ReadStamp(s)

	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestWALStampOtherProcess$")
	cmd.Env = append(os.Environ(), renameEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("the other process: %v\n%s", err, out)
	}
	if after, ok := sqlite.ReadStamp(s); !ok || after == st {
		t.Fatalf("the stamp did not move with another process's commit: %v %v", st, after)
	}
	img, err := s.GetImage(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if img.Name == nil || *img.Name != "after" {
		t.Fatalf("show after another process renamed the image: name %v, want after", img.Name)
	}
}
