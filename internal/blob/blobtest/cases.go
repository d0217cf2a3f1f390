package blobtest

import (
	"bytes"
	"crypto/sha256"
	"io"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

func testRoundTrip(t *testing.T, d blob.Driver) {
	cases := []struct {
		name, key string
		size      int
		// readFrom feeds the writer through io.Copy, which uses the
		// writer's io.ReaderFrom if it has one; otherwise odd-sized Write
		// calls straddle any internal buffer boundary.
		readFrom bool
	}{
		{"0B", "roundtrip/0", 0, false},
		{"1B", "roundtrip/1", 1, false},
		{"1MiB+13", "roundtrip/1m13", 1<<20 + 13, false},
		{"1MiB+13/ReadFrom", "roundtrip/1m13-readfrom", 1<<20 + 13, true},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := content(uint64(i), c.size)
			w := newWriter(t, d, c.key)
			if c.readFrom {
				// Hide bytes.Reader's WriterTo so io.Copy picks the writer's side.
				n, err := io.Copy(w, struct{ io.Reader }{bytes.NewReader(want)})
				if err != nil || n != int64(c.size) {
					t.Fatalf("io.Copy = %d, %v; want %d, nil", n, err, c.size)
				}
			} else {
				for p := want; len(p) > 0; p = p[min(len(p), 7919):] {
					if _, err := w.Write(p[:min(len(p), 7919)]); err != nil {
						t.Fatalf("Write: %v", err)
					}
				}
			}
			if w.Size() != int64(c.size) {
				t.Errorf("Size() = %d, want %d", w.Size(), c.size)
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatalf("Commit: %v", err)
			}
			wantContent(t, d, c.key, want)
		})
	}
}

// testStream64MiB pushes a large blob through without holding it in
// memory: both directions are compared by length and SHA-256.
func testStream64MiB(t *testing.T, d blob.Driver) {
	if testing.Short() {
		t.Skip("64 MiB stream skipped in -short mode")
	}
	const size = 64 << 20
	key := "stream/64MiB"
	w := newWriter(t, d, key)
	sent := sha256.New()
	n, err := io.Copy(w, io.TeeReader(io.LimitReader(stream(64), size), sent))
	if err != nil || n != size {
		t.Fatalf("io.Copy = %d, %v; want %d, nil", n, err, size)
	}
	if w.Size() != size {
		t.Errorf("Size() = %d, want %d", w.Size(), size)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if info, err := d.Stat(t.Context(), key); err != nil || info.Size != size {
		t.Errorf("Stat = %+v, %v; want size %d", info, err, size)
	}
	r, err := d.Reader(t.Context(), key, 0)
	if err != nil {
		t.Fatalf("Reader: %v", err)
	}
	defer r.Close()
	got := sha256.New()
	if n, err := io.Copy(got, r); err != nil || n != size {
		t.Fatalf("reading back = %d, %v; want %d, nil", n, err, size)
	}
	if !bytes.Equal(got.Sum(nil), sent.Sum(nil)) {
		t.Errorf("read back sha256 %x, wrote %x", got.Sum(nil), sent.Sum(nil))
	}
}

func testSize(t *testing.T, d blob.Driver) {
	w := newWriter(t, d, "size")
	steps := []struct {
		write []byte
		want  int64
	}{
		{nil, 0},
		{content(1, 10), 10},
		{[]byte{}, 10},
		{content(2, 5), 15},
	}
	var all []byte
	for _, s := range steps {
		if s.write != nil {
			if n, err := w.Write(s.write); err != nil || n != len(s.write) {
				t.Fatalf("Write(%d bytes) = %d, %v", len(s.write), n, err)
			}
			all = append(all, s.write...)
		}
		if got := w.Size(); got != s.want {
			t.Errorf("Size() = %d, want %d", got, s.want)
		}
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if got := w.Size(); got != 15 {
		t.Errorf("Size() after Commit = %d, want 15", got)
	}
	wantContent(t, d, "size", all)
}

func testReadAtOffset(t *testing.T, d blob.Driver) {
	const size = 128<<10 + 17 // crosses any 64 KiB buffering
	want := content(3, size)
	put(t, d, "offset", want)
	for _, off := range []int64{0, 1, size / 2, 64 << 10, size - 1, size} {
		if got := read(t, d, "offset", off); !bytes.Equal(got, want[off:]) {
			t.Errorf("read at %d: got %s, want %s", off, describe(got), describe(want[off:]))
		}
	}
	for _, off := range []int64{size + 1, 1 << 40, -1, -size} {
		r, err := d.Reader(t.Context(), "offset", off)
		if r != nil {
			r.Close()
		}
		wantErr(t, err, blob.ErrInvalidOffset, "Reader at %d", off)
	}
	r, err := d.Reader(t.Context(), "offset-missing", 0)
	if r != nil {
		r.Close()
	}
	wantErr(t, err, blob.ErrNotFound, "Reader of a missing key")
}

func testNotVisibleBeforeCommit(t *testing.T, d blob.Driver) {
	t.Run("new key", func(t *testing.T) {
		want := content(4, 100_000)
		w := newWriter(t, d, "pending")
		if _, err := w.Write(want); err != nil {
			t.Fatalf("Write: %v", err)
		}
		wantAbsent(t, d, "pending")
		wantErr(t, d.Delete(t.Context(), "pending"), blob.ErrNotFound, "Delete while writing")
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		wantContent(t, d, "pending", want)
	})
	t.Run("existing key", func(t *testing.T) {
		old, next := content(5, 3000), content(6, 1000)
		put(t, d, "pending", old)
		w := newWriter(t, d, "pending")
		if _, err := w.Write(next); err != nil {
			t.Fatalf("Write: %v", err)
		}
		wantContent(t, d, "pending", old)
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("Commit: %v", err)
		}
		wantContent(t, d, "pending", next)
	})
}

func testCancel(t *testing.T, d blob.Driver) {
	t.Run("new key", func(t *testing.T) {
		w := newWriter(t, d, "cancelled")
		if _, err := w.Write(content(7, 50_000)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := w.Cancel(t.Context()); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		wantAbsent(t, d, "cancelled")
		if err := w.Cancel(t.Context()); err != nil {
			t.Errorf("second Cancel: %v", err)
		}
		if _, err := w.Write([]byte("x")); err == nil {
			t.Errorf("Write after Cancel succeeded")
		}
		if err := w.Commit(t.Context()); err == nil {
			t.Errorf("Commit after Cancel succeeded")
		}
		wantAbsent(t, d, "cancelled")
	})
	t.Run("without writing", func(t *testing.T) {
		w := newWriter(t, d, "cancelled-empty")
		if err := w.Cancel(t.Context()); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		wantAbsent(t, d, "cancelled-empty")
	})
	t.Run("existing key", func(t *testing.T) {
		old := content(8, 3000)
		put(t, d, "cancelled-over", old)
		w := newWriter(t, d, "cancelled-over")
		if _, err := w.Write(content(9, 5000)); err != nil {
			t.Fatalf("Write: %v", err)
		}
		if err := w.Cancel(t.Context()); err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		wantContent(t, d, "cancelled-over", old)
	})
}

func testCancelAfterCommit(t *testing.T, d blob.Driver) {
	want := content(10, 4096)
	w := newWriter(t, d, "committed")
	if _, err := w.Write(want); err != nil {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Commit(t.Context()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	for range 2 {
		if err := w.Cancel(t.Context()); err != nil {
			t.Errorf("Cancel after Commit: %v", err)
		}
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Errorf("Write after Commit succeeded")
	}
	// The contract does not say whether a second Commit errors; it must
	// not disturb the blob either way.
	_ = w.Commit(t.Context())
	wantContent(t, d, "committed", want)
}

// testOverwrite checks that committing over a key swaps the whole blob,
// and (stable readers) that a reader already streaming the old blob is
// not cut short or switched to the new one.
func testOverwrite(t *testing.T, d blob.Driver, stableReaders bool) {
	old, next := content(11, 300_000), content(12, 100_000)
	put(t, d, "overwrite", old)
	var early io.ReadCloser
	if stableReaders {
		r, err := d.Reader(t.Context(), "overwrite", 0)
		if err != nil {
			t.Fatalf("Reader: %v", err)
		}
		defer r.Close()
		// Read a little first, so backends that open lazily have started.
		if _, err := io.ReadFull(r, make([]byte, 10)); err != nil {
			t.Fatalf("reading the first bytes: %v", err)
		}
		early = r
	}
	put(t, d, "overwrite", next)
	wantContent(t, d, "overwrite", next)
	if early != nil {
		rest, err := io.ReadAll(early)
		if err != nil {
			t.Fatalf("reading the old blob after overwrite: %v", err)
		}
		if !bytes.Equal(rest, old[10:]) {
			t.Errorf("reader opened before overwrite got %s, want the old blob's %s", describe(rest), describe(old[10:]))
		}
	}
}

func testDelete(t *testing.T, d blob.Driver) {
	put(t, d, "deleted", content(13, 1000))
	if err := d.Delete(t.Context(), "deleted"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantAbsent(t, d, "deleted")
	wantErr(t, d.Delete(t.Context(), "deleted"), blob.ErrNotFound, "second Delete")
	wantErr(t, d.Delete(t.Context(), "never-written"), blob.ErrNotFound, "Delete of a missing key")
	// The key is usable again.
	again := content(14, 10)
	put(t, d, "deleted", again)
	wantContent(t, d, "deleted", again)
}

// testSlashKeys uses keys that nest: on a filesystem they become
// directories, which must neither show up as blobs nor get in the way.
func testSlashKeys(t *testing.T, d blob.Driver) {
	keys := []string{"a/b/c", "a/b/d", "a/e", "x.y/z-1_2/w", longKey()}
	blobs := map[string][]byte{}
	for i, k := range keys {
		blobs[k] = content(uint64(20+i), 1000+i)
		put(t, d, k, blobs[k])
	}
	for _, k := range keys {
		wantContent(t, d, k, blobs[k])
	}
	for _, prefix := range []string{"a", "a/b", "x.y/z-1_2"} {
		wantAbsent(t, d, prefix)
		wantErr(t, d.Delete(t.Context(), prefix), blob.ErrNotFound, "Delete(%q), a prefix of other keys", prefix)
	}
	if err := d.Delete(t.Context(), "a/b/c"); err != nil {
		t.Fatalf("Delete(a/b/c): %v", err)
	}
	wantContent(t, d, "a/b/d", blobs["a/b/d"])
	if err := d.Delete(t.Context(), "a/b/d"); err != nil {
		t.Fatalf("Delete(a/b/d): %v", err)
	}
	wantContent(t, d, "a/e", blobs["a/e"])
	// Deleting the last blob under a/b must not stop a/b/c coming back.
	put(t, d, "a/b/c", blobs["a/b/c"])
	wantContent(t, d, "a/b/c", blobs["a/b/c"])
}

// longKey is a valid key of the maximum length, 512, in segments short
// enough for any backend's name limits.
func longKey() string {
	seg := strings.Repeat("k", 99)
	k := strings.Repeat(seg+"/", 5) + "tail-1" // 5*100 + 6
	for len(k) < 512 {
		k += "z"
	}
	return k
}

func testInvalidKeys(t *testing.T, d blob.Driver) {
	keys := []string{
		"", "../x", "/abs", "a//b", ".hidden", "a/../b", "a/./b", "a/.b",
		"with space", "a/", "a\\b", "ü", "a\x00b", strings.Repeat("a", 600),
		strings.Repeat("a", 513),
	}
	for _, k := range keys {
		short := k
		if len(short) > 20 {
			short = short[:20] + "…"
		}
		if blob.ValidKey(k) {
			t.Fatalf("suite bug: blob.ValidKey(%q) is true", short)
		}
		w, err := d.Writer(t.Context(), k)
		if w != nil {
			w.Cancel(t.Context())
		}
		wantErr(t, err, blob.ErrInvalidKey, "Writer(%q)", short)
		r, err := d.Reader(t.Context(), k, 0)
		if r != nil {
			r.Close()
		}
		wantErr(t, err, blob.ErrInvalidKey, "Reader(%q)", short)
		_, err = d.Stat(t.Context(), k)
		wantErr(t, err, blob.ErrInvalidKey, "Stat(%q)", short)
		wantErr(t, d.Delete(t.Context(), k), blob.ErrInvalidKey, "Delete(%q)", short)
	}
}

// testSweep checks only what holds for every Sweeper: committed blobs
// survive. Which temporary state it removes is driver-specific.
func testSweep(t *testing.T, d blob.Driver) {
	s, ok := d.(blob.Sweeper)
	if !ok {
		t.Skip("driver is not a blob.Sweeper")
	}
	want := content(30, 2000)
	put(t, d, "swept/kept", want)
	if err := s.Sweep(t.Context()); err != nil {
		t.Fatalf("Sweep: %v", err)
	}
	wantContent(t, d, "swept/kept", want)
}
