package blobtest

import (
	"bytes"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

const workers = 8

func testConcurrentWriters(t *testing.T, d blob.Driver) {
	blobs := make([][]byte, workers)
	var wg sync.WaitGroup
	for i := range workers {
		key := fmt.Sprintf("concurrent/w%d", i)
		blobs[i] = content(uint64(40+i), 256<<10+1001*i)
		tidy(t, d, key)
		wg.Go(func() {
			if err := writeBlob(t.Context(), d, key, blobs[i], 4096); err != nil {
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	for i := range workers {
		wantContent(t, d, fmt.Sprintf("concurrent/w%d", i), blobs[i])
	}
}

func testConcurrentReaders(t *testing.T, d blob.Driver) {
	want := content(50, 1<<20+5)
	put(t, d, "concurrent/read", want)
	var wg sync.WaitGroup
	for i := range workers {
		off := int64(i) * 100_003
		wg.Go(func() {
			r, err := d.Reader(t.Context(), "concurrent/read", off)
			if err != nil {
				t.Errorf("reader %d: %v", i, err)
				return
			}
			defer r.Close()
			got, err := io.ReadAll(r)
			if err != nil {
				t.Errorf("reader %d: %v", i, err)
			} else if !bytes.Equal(got, want[off:]) {
				t.Errorf("reader %d at %d got %s, want %s", i, off, describe(got), describe(want[off:]))
			}
		})
	}
	wg.Wait()
}

// testConcurrentWritersSameKey races two writers that are open at the
// same time and write in small interleaved chunks. Both commits succeed
// (last one wins); the blob must be one of the two, never a mixture.
func testConcurrentWritersSameKey(t *testing.T, d blob.Driver) {
	const key = "concurrent/same"
	for round := range 4 {
		a, b := content(uint64(60+2*round), 200_001), content(uint64(61+2*round), 150_007)
		wa, wb := newWriter(t, d, key), newWriter(t, d, key)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, job := range []struct {
			w blob.Writer
			p []byte
		}{{wa, a}, {wb, b}} {
			wg.Go(func() {
				<-start
				for p := job.p; len(p) > 0; p = p[min(len(p), 4096):] {
					if _, err := job.w.Write(p[:min(len(p), 4096)]); err != nil {
						t.Errorf("round %d: Write: %v", round, err)
						return
					}
				}
				if err := job.w.Commit(t.Context()); err != nil {
					t.Errorf("round %d: Commit: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		got := read(t, d, key, 0)
		if !bytes.Equal(got, a) && !bytes.Equal(got, b) {
			t.Fatalf("round %d: blob is %s, neither writer's %s nor %s", round, describe(got), describe(a), describe(b))
		}
		if info, err := d.Stat(t.Context(), key); err != nil || info.Size != int64(len(got)) {
			t.Errorf("round %d: Stat = %+v, %v; want size %d", round, info, err, len(got))
		}
	}
}
