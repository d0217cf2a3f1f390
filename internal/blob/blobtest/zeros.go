package blobtest

import (
	"bytes"
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

// zeroImage is a raw disk image in miniature: 12 MiB, mostly zeros, with
// data in runs that start and end off every block boundary (a byte of
// data in an otherwise zero block must keep its block), and zeros at the
// start and the end, where a sparse store leaves holes and must still
// report and return the full length.
func zeroImage() []byte {
	p := make([]byte, 12<<20)
	for _, run := range []struct{ off, n int }{
		{4096 + 17, 3000},       // inside two blocks
		{1 << 20, 1 << 20},      // a whole aligned MiB
		{5<<20 - 1, 2},          // across a 64 KiB and a MiB boundary
		{8<<20 + 65536, 300000}, // a run ending mid-block
		{10<<20 + 12345, 1},     // a lone byte
	} {
		copy(p[run.off:run.off+run.n], content(uint64(run.off), run.n))
	}
	return p
}

// testZeros: blobs that are mostly zeros (raw images) read back byte for
// byte, from the start and from offsets inside zero runs and data, on
// every driver; sparse stores (file holes, RBD thin provisioning) must
// not let a skipped zero block change a byte or the size.
func testZeros(t *testing.T, d blob.Driver) {
	want := zeroImage()
	// Byte-by-byte writes of the whole image would take long on remote
	// stores; its first 128 KiB hold the odd block boundaries.
	put1(t, d, "zeros-small", want[:128<<10], 1)
	wantContent(t, d, "zeros-small", want[:128<<10])
	for _, chunk := range []int{4093, 1 << 20} {
		put1(t, d, "zeros", want, chunk)
		wantContent(t, d, "zeros", want)
		for _, off := range []int64{1, 4096, 4096 + 17 + 2999, 1<<20 + 5, 5<<20 - 1, 10<<20 + 12345, int64(len(want)) - 1, int64(len(want))} {
			if got := read(t, d, "zeros", off); !bytes.Equal(got, want[off:]) {
				t.Errorf("chunk %d: read from %d: %s, want %s", chunk, off, describe(got), describe(want[off:]))
			}
		}
	}
	// All zeros: nothing but a length.
	empty := make([]byte, 3<<20+5)
	put1(t, d, "zeros-only", empty, 64<<10)
	wantContent(t, d, "zeros-only", empty)
}

// put1 commits p at key in writes of chunk bytes, replacing what is
// there, and deletes it when the test ends.
func put1(t *testing.T, d blob.Driver, key string, p []byte, chunk int) {
	t.Helper()
	tidy(t, d, key)
	if err := writeBlob(t.Context(), d, key, p, chunk); err != nil {
		t.Fatal(err)
	}
}
