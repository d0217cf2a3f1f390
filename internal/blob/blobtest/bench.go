package blobtest

import (
	"io"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

const benchSize = 64 << 20

// Bench runs the suite's benchmarks as sub-benchmarks of b: writing and
// reading a 64 MiB blob, reported in bytes per second.
func Bench(b *testing.B, newDriver func(tb testing.TB) blob.Driver) {
	b.Run("Write64MiB", func(b *testing.B) { benchWrite(b, newDriver(b)) })
	b.Run("Read64MiB", func(b *testing.B) { benchRead(b, newDriver(b)) })
}

func benchWrite(b *testing.B, d blob.Driver) {
	// One MiB written 64 times: the source costs nothing to produce, so
	// the driver is what gets measured.
	chunk := content(70, 1<<20)
	tidy(b, d, "bench/write")
	b.SetBytes(benchSize)
	for b.Loop() {
		w, err := d.Writer(b.Context(), "bench/write")
		if err != nil {
			b.Fatal(err)
		}
		for range benchSize / len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Commit(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRead(b *testing.B, d blob.Driver) {
	const key = "bench/read"
	tidy(b, d, key)
	w, err := d.Writer(b.Context(), key)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(w, io.LimitReader(stream(71), benchSize)); err != nil {
		b.Fatal(err)
	}
	if err := w.Commit(b.Context()); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := d.Reader(b.Context(), key, 0)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != benchSize {
			b.Fatalf("read %d bytes, %v; want %d", n, err, benchSize)
		}
	}
}
