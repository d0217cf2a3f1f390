// Package blobtest is the conformance suite every blob.Driver runs.
//
// A driver's test calls Run with a constructor returning a fresh, empty
// driver. Each subtest gets its own driver and deletes every blob it
// commits, so the constructor may register a t.Cleanup that checks the
// backend was left empty (the filesystem driver's test does).
package blobtest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

// Option adjusts what Run expects of a driver.
type Option func(*config)

type config struct {
	stableReaders bool
}

// WithoutStableReaders drops the check that a Reader opened before an
// overwrite keeps returning the old content to its end. Pass it only for
// backends that cannot promise this (ranged HTTP reads that may
// reconnect, for example); the filesystem and S3 drivers can.
func WithoutStableReaders() Option {
	return func(c *config) { c.stableReaders = false }
}

// Run runs the conformance suite as subtests of t. newDriver must return
// a driver with no blobs in it, independent of the drivers it returned
// before.
func Run(t *testing.T, newDriver func(t *testing.T) blob.Driver, opts ...Option) {
	cfg := config{stableReaders: true}
	for _, o := range opts {
		o(&cfg)
	}
	cases := []struct {
		name string
		fn   func(*testing.T, blob.Driver)
	}{
		{"RoundTrip", testRoundTrip},
		{"Stream64MiB", testStream64MiB},
		{"Size", testSize},
		{"ReadAtOffset", testReadAtOffset},
		{"NotVisibleBeforeCommit", testNotVisibleBeforeCommit},
		{"Cancel", testCancel},
		{"CancelAfterCommit", testCancelAfterCommit},
		{"Overwrite", func(t *testing.T, d blob.Driver) { testOverwrite(t, d, cfg.stableReaders) }},
		{"Delete", testDelete},
		{"SlashKeys", testSlashKeys},
		{"InvalidKeys", testInvalidKeys},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentReaders", testConcurrentReaders},
		{"ConcurrentWritersSameKey", testConcurrentWritersSameKey},
		{"Sweep", testSweep},
		{"Zeros", testZeros},
		{"Usage", testUsage},
		{"SizeHint", testSizeHint},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.fn(t, newDriver(t)) })
	}
	runResume(t, newDriver) // resume.go: drivers that are blob.Resumers
}

// content returns n deterministic pseudo-random bytes; distinct seeds give
// distinct bytes, so a blob read back can be told from any other.
func content(seed uint64, n int) []byte {
	b := make([]byte, n)
	stream(seed).Read(b)
	return b
}

// stream is an endless deterministic byte source for seed.
func stream(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:], seed)
	return rand.NewChaCha8(s)
}

// writeBlob writes p to a new blob at key in chunks of chunk bytes and
// commits it; on failure it cancels the writer. It returns errors rather
// than failing the test, so goroutines can use it.
func writeBlob(ctx context.Context, d blob.Driver, key string, p []byte, chunk int) error {
	w, err := d.Writer(ctx, key)
	if err != nil {
		return fmt.Errorf("Writer(%q): %w", key, err)
	}
	for len(p) > 0 {
		n := min(chunk, len(p))
		if _, err := w.Write(p[:n]); err != nil {
			w.Cancel(context.WithoutCancel(ctx))
			return fmt.Errorf("Write(%q): %w", key, err)
		}
		p = p[n:]
	}
	if err := w.Commit(ctx); err != nil {
		w.Cancel(context.WithoutCancel(ctx))
		return fmt.Errorf("Commit(%q): %w", key, err)
	}
	return nil
}

// put commits p at key and deletes it when the test ends.
func put(t testing.TB, d blob.Driver, key string, p []byte) {
	t.Helper()
	tidy(t, d, key)
	if err := writeBlob(t.Context(), d, key, p, 32<<10); err != nil {
		t.Fatal(err)
	}
}

// newWriter opens a writer at key; when the test ends the writer is
// cancelled (a no-op if committed) and key deleted.
func newWriter(t testing.TB, d blob.Driver, key string) blob.Writer {
	t.Helper()
	tidy(t, d, key)
	w, err := d.Writer(t.Context(), key)
	if err != nil {
		t.Fatalf("Writer(%q): %v", key, err)
	}
	t.Cleanup(func() {
		if err := w.Cancel(context.Background()); err != nil {
			t.Errorf("cleanup: Cancel(%q): %v", key, err)
		}
	})
	return w
}

// tidy deletes key, if it exists, when the test ends. Cleanups run after
// t.Context is cancelled, hence context.Background.
func tidy(t testing.TB, d blob.Driver, key string) {
	t.Cleanup(func() {
		err := d.Delete(context.Background(), key)
		if err != nil && !errors.Is(err, blob.ErrNotFound) {
			t.Errorf("cleanup: Delete(%q): %v", key, err)
		}
	})
}

// read returns the blob at key from offset to its end.
func read(t testing.TB, d blob.Driver, key string, offset int64) []byte {
	t.Helper()
	r, err := d.Reader(t.Context(), key, offset)
	if err != nil {
		t.Fatalf("Reader(%q, %d): %v", key, offset, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("reading %q from %d: %v", key, offset, err)
	}
	return b
}

// wantContent fails unless the blob at key holds exactly want, by both
// Stat and a full read.
func wantContent(t testing.TB, d blob.Driver, key string, want []byte) {
	t.Helper()
	info, err := d.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat(%q): %v", key, err)
	}
	if info.Size != int64(len(want)) {
		t.Errorf("Stat(%q).Size = %d, want %d", key, info.Size, len(want))
	}
	if got := read(t, d, key, 0); !bytes.Equal(got, want) {
		t.Errorf("%q holds %s, want %s", key, describe(got), describe(want))
	}
}

// wantAbsent fails unless Stat and Reader both report ErrNotFound.
func wantAbsent(t testing.TB, d blob.Driver, key string) {
	t.Helper()
	_, err := d.Stat(t.Context(), key)
	wantErr(t, err, blob.ErrNotFound, "Stat(%q)", key)
	r, err := d.Reader(t.Context(), key, 0)
	if r != nil {
		r.Close()
	}
	wantErr(t, err, blob.ErrNotFound, "Reader(%q)", key)
}

func wantErr(t testing.TB, err, target error, format string, args ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", fmt.Sprintf(format, args...), err, target)
	}
}

// describe summarises a byte slice for failure messages; blobs are too
// large to print.
func describe(b []byte) string {
	if len(b) <= 16 {
		return fmt.Sprintf("%d bytes %x", len(b), b)
	}
	return fmt.Sprintf("%d bytes %x…", len(b), b[:16])
}
