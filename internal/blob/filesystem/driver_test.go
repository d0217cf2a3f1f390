package filesystem_test

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/blobtest"
	"github.com/glint-image/glint/internal/blob/filesystem"
)

func newDriver(t testing.TB) (*filesystem.Driver, string) {
	t.Helper()
	root := t.TempDir()
	d, err := filesystem.New(root)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d, root
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Driver {
		d, root := newDriver(t)
		// Every suite case deletes what it commits and ends its writers,
		// so both trees must be empty afterwards: no stray temp files, and
		// Delete pruned every directory its keys created. This cleanup
		// runs after the case's own.
		t.Cleanup(func() {
			wantEmpty(t, filepath.Join(root, "blobs"))
			wantEmpty(t, filepath.Join(root, "tmp"))
			if _, err := os.Stat(filepath.Join(root, "tmp-partial")); err == nil {
				wantEmpty(t, filepath.Join(root, "tmp-partial"))
			}
		})
		return d
	})
}

// TestConformanceFlat runs the suite on the flat layout (Glance's file
// store directory): blobs directly under the directory, temp files in
// .glint-tmp, and the directory itself never pruned.
func TestConformanceFlat(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Driver {
		dir := t.TempDir()
		d, err := filesystem.NewFlat(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatalf("store directory gone: %v", err)
			}
			for _, e := range entries {
				// Resumable writers keep their files beside the temp files.
				if e.Name() != filesystem.FlatTmp && e.Name() != filesystem.FlatTmp+"-partial" {
					t.Errorf("store directory holds %v, want only %s (and its -partial twin)", entries, filesystem.FlatTmp)
				}
				wantEmpty(t, filepath.Join(dir, e.Name()))
			}
		})
		return d
	})
}

// A Glance image file is read where it is, by its file name.
func TestFlatReadsExistingFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "0f6b1a2c-3d4e-4f50-8a9b-0c1d2e3f4a5b"), []byte("glance"), 0o640); err != nil {
		t.Fatal(err)
	}
	d, err := filesystem.NewFlat(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := d.Stat(t.Context(), "0f6b1a2c-3d4e-4f50-8a9b-0c1d2e3f4a5b")
	if err != nil || info.Size != 6 {
		t.Fatalf("Stat: %+v, %v", info, err)
	}
	if _, err := filesystem.NewFlat(filepath.Join(dir, "missing")); err == nil {
		t.Error("NewFlat of a missing directory succeeded")
	}
}

func BenchmarkDriver(b *testing.B) {
	blobtest.Bench(b, func(tb testing.TB) blob.Driver {
		d, _ := newDriver(tb)
		return d
	})
}

// wantEmpty fails if dir holds anything, naming the first few entries.
func wantEmpty(t testing.TB, dir string) {
	t.Helper()
	var found []string
	err := filepath.WalkDir(dir, func(path string, _ fs.DirEntry, err error) error {
		if path != dir {
			found = append(found, strings.TrimPrefix(path, dir+string(filepath.Separator)))
		}
		return err
	})
	if err != nil {
		t.Errorf("walking %s: %v", dir, err)
	}
	if len(found) > 5 {
		found = append(found[:5], "…")
	}
	if len(found) > 0 {
		t.Errorf("%s not empty: %v", dir, found)
	}
}

// write opens a writer on key and writes p, leaving it uncommitted.
func write(t *testing.T, d blob.Driver, key string, p string) blob.Writer {
	t.Helper()
	w, err := d.Writer(t.Context(), key)
	if err != nil {
		t.Fatalf("Writer(%q): %v", key, err)
	}
	t.Cleanup(func() { w.Cancel(context.Background()) })
	if _, err := io.WriteString(w, p); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return w
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestNew(t *testing.T) {
	if _, err := filesystem.New(""); err == nil {
		t.Errorf(`New("") succeeded`)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := filesystem.New(file); err == nil {
		t.Errorf("New on a regular file succeeded")
	}
	_, root := newDriver(t)
	for _, dir := range []string{"blobs", "tmp"} {
		if m := mode(t, filepath.Join(root, dir)); m != 0o700 {
			t.Errorf("%s mode %v, want 0700", dir, m)
		}
	}
}

func TestTempFileLifecycle(t *testing.T) {
	d, root := newDriver(t)
	tmp := filepath.Join(root, "tmp")

	w := write(t, d, "img/one", "hello")
	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 1 {
		t.Fatalf("tmp while writing: %v, %v; want one temp file", entries, err)
	}
	if m := mode(t, filepath.Join(tmp, entries[0].Name())); m != 0o600 {
		t.Errorf("temp file mode %v, want 0600", m)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	wantEmpty(t, tmp)
	if m := mode(t, filepath.Join(root, "blobs", "img", "one")); m != 0o600 {
		t.Errorf("blob mode %v, want 0600", m)
	}
	if m := mode(t, filepath.Join(root, "blobs", "img")); m != 0o700 {
		t.Errorf("key directory mode %v, want 0700", m)
	}

	w = write(t, d, "img/two", "bye")
	if err := w.Cancel(t.Context()); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	wantEmpty(t, tmp)
	if _, err := os.Stat(filepath.Join(root, "blobs", "img", "two")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("cancelled blob on disk: %v", err)
	}
}

// TestFailedCommit makes Commit fail by putting a directory or a file in
// the blob's way, and checks it cleans up after itself.
func TestFailedCommit(t *testing.T) {
	d, root := newDriver(t)
	ctx := t.Context()
	if err := write(t, d, "a/b", "nested").Commit(ctx); err != nil {
		t.Fatalf("Commit(a/b): %v", err)
	}
	cases := []struct{ key, why string }{
		{"a", "a is a directory"},
		{"a/b/c", "a/b is a file"},
	}
	for _, c := range cases {
		w := write(t, d, c.key, "blocked")
		if err := w.Commit(ctx); err == nil {
			t.Errorf("Commit(%q) succeeded though %s", c.key, c.why)
		}
		if _, err := d.Stat(ctx, c.key); !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("Stat(%q) after failed Commit: %v, want ErrNotFound", c.key, err)
		}
		if err := w.Cancel(ctx); err != nil {
			t.Errorf("Cancel after failed Commit: %v", err)
		}
	}
	wantEmpty(t, filepath.Join(root, "tmp"))
	if info, err := d.Stat(ctx, "a/b"); err != nil || info.Size != int64(len("nested")) {
		t.Errorf("Stat(a/b) = %+v, %v; want the original blob", info, err)
	}
}

func TestSweep(t *testing.T) {
	d, root := newDriver(t)
	tmp := filepath.Join(root, "tmp")
	if err := write(t, d, "kept", "data").Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	// What a crashed process leaves: temp files, and anything else an
	// operator or an older version may have put there.
	for _, p := range []string{"upload-123", "upload-456", "stray/deep/file"} {
		path := filepath.Join(tmp, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	wantEmpty(t, tmp)
	if _, err := d.Stat(t.Context(), "kept"); err != nil {
		t.Errorf("Stat(kept) after Sweep: %v", err)
	}
	// tmp itself must survive, or the next Writer fails.
	if err := write(t, d, "after", "x").Commit(t.Context()); err != nil {
		t.Errorf("Commit after Sweep: %v", err)
	}
}

func TestDeletePrunes(t *testing.T) {
	d, root := newDriver(t)
	ctx := t.Context()
	blobs := filepath.Join(root, "blobs")
	for _, k := range []string{"p/q/r/s", "p/x"} {
		if err := write(t, d, k, k).Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Delete(ctx, "p/q/r/s"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(blobs, "p", "q")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("p/q not pruned: %v", err)
	}
	if _, err := os.Stat(filepath.Join(blobs, "p", "x")); err != nil {
		t.Errorf("sibling p/x: %v", err)
	}
	if err := d.Delete(ctx, "p/x"); err != nil {
		t.Fatal(err)
	}
	wantEmpty(t, blobs)
	if _, err := os.Stat(blobs); err != nil {
		t.Errorf("blobs directory itself pruned: %v", err)
	}
}

// TestEmptyDirectoryIsNotABlob covers a directory left empty (by a crash
// between mkdir and rename): it is not a blob and Delete must not remove
// it as one.
func TestEmptyDirectoryIsNotABlob(t *testing.T) {
	d, root := newDriver(t)
	if err := os.Mkdir(filepath.Join(root, "blobs", "empty"), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Stat(t.Context(), "empty"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat: %v, want ErrNotFound", err)
	}
	if r, err := d.Reader(t.Context(), "empty", 0); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Reader: %v, want ErrNotFound", err)
		if r != nil {
			r.Close()
		}
	}
	if err := d.Delete(t.Context(), "empty"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Delete: %v, want ErrNotFound", err)
	}
	// A commit into it still works.
	if err := write(t, d, "empty/blob", "x").Commit(t.Context()); err != nil {
		t.Errorf("Commit into an existing empty directory: %v", err)
	}
}

func TestCancelledContext(t *testing.T) {
	d, root := newDriver(t)
	if err := write(t, d, "exists", "data").Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	w := write(t, d, "late", "data")
	cancel()

	if err := w.Commit(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Commit: %v, want context.Canceled", err)
	}
	if _, err := d.Stat(t.Context(), "late"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat after cancelled Commit: %v, want ErrNotFound", err)
	}
	wantEmpty(t, filepath.Join(root, "tmp"))

	if _, err := d.Writer(ctx, "new"); !errors.Is(err, context.Canceled) {
		t.Errorf("Writer: %v, want context.Canceled", err)
	}
	if _, err := d.Reader(ctx, "exists", 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Reader: %v, want context.Canceled", err)
	}
	if _, err := d.Stat(ctx, "exists"); !errors.Is(err, context.Canceled) {
		t.Errorf("Stat: %v, want context.Canceled", err)
	}
	if err := d.Delete(ctx, "exists"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v, want context.Canceled", err)
	}
	if err := os.WriteFile(filepath.Join(root, "tmp", "stale"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Sweep(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Sweep: %v, want context.Canceled", err)
	}
}

// TestLongSegment: names longer than NAME_MAX are refused as invalid keys
// instead of failing at Commit.
func TestLongSegment(t *testing.T) {
	d, _ := newDriver(t)
	ok := strings.Repeat("s", 255)
	if err := write(t, d, "x/"+ok, "data").Commit(t.Context()); err != nil {
		t.Errorf("255-byte segment: %v", err)
	}
	long := "x/" + strings.Repeat("s", 256)
	if _, err := d.Writer(t.Context(), long); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("Writer with a 256-byte segment: %v, want ErrInvalidKey", err)
	}
	if _, err := d.Stat(t.Context(), long); !errors.Is(err, blob.ErrInvalidKey) {
		t.Errorf("Stat with a 256-byte segment: %v, want ErrInvalidKey", err)
	}
}

func TestWriterIsReaderFrom(t *testing.T) {
	d, _ := newDriver(t)
	w := write(t, d, "rf", "")
	if _, ok := w.(io.ReaderFrom); !ok {
		t.Errorf("writer %T does not implement io.ReaderFrom", w)
	}
}

// TestCommitRacesPrune runs Commits and Deletes of sibling keys side by
// side: Delete's pruning can remove the directory a Commit has just
// created, and Commit must recover rather than fail.
func TestCommitRacesPrune(t *testing.T) {
	d, root := newDriver(t)
	var wg sync.WaitGroup
	for _, key := range []string{"dir/sub/x", "dir/sub/y", "dir/z"} {
		wg.Go(func() {
			for i := range 100 {
				w, err := d.Writer(t.Context(), key)
				if err != nil {
					t.Errorf("Writer(%q): %v", key, err)
					return
				}
				if err := w.Commit(t.Context()); err != nil {
					t.Errorf("round %d: Commit(%q): %v", i, key, err)
					return
				}
				if err := d.Delete(t.Context(), key); err != nil {
					t.Errorf("round %d: Delete(%q): %v", i, key, err)
					return
				}
			}
		})
	}
	wg.Wait()
	wantEmpty(t, filepath.Join(root, "blobs"))
	wantEmpty(t, filepath.Join(root, "tmp"))
}
