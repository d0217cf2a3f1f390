package sqlite_test

import (
	"path/filepath"
	"testing"

	"glint/internal/image"
	"glint/internal/metadata/sqlite"
	"glint/internal/metadata/storetest"
)

func open(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) image.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestReopen checks that data survives closing the file and that running
// the migrations again on a current schema is a no-op.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glint.db")
	s := open(t, path)
	img := &image.Image{ID: "a", Status: image.StatusQueued, Visibility: image.VisibilityPrivate,
		Tags: []string{"t"}, Properties: map[string]string{"k": "v"}}
	if err := s.CreateImage(t.Context(), img); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	for range 2 {
		s = open(t, path)
		got, err := s.GetImage(t.Context(), "a")
		if err != nil {
			t.Fatalf("GetImage after reopen: %v", err)
		}
		if len(got.Tags) != 1 || got.Tags[0] != "t" || got.Properties["k"] != "v" {
			t.Errorf("after reopen: tags %v properties %v", got.Tags, got.Properties)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}
