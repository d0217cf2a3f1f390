package blobtest

import (
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

// testSizeHint: a writer told the blob's size (blob.HintSize) stores what
// was written, whether the hint was right, too small or too large (a
// client's declared size is only a claim). Drivers without the capability
// ignore the hint and pass as well.
func testSizeHint(t *testing.T, d blob.Driver) {
	const size = 3<<20 + 17 // several chunks of any driver, not a multiple
	for i, hint := range []int64{size, 1 << 20, size + 5<<20, 0} {
		key := "sizehint/" + string(rune('a'+i))
		want := content(uint64(100+i), size)
		w := newWriter(t, d, key)
		blob.HintSize(w, hint)
		for p := want; len(p) > 0; p = p[min(len(p), 64<<10):] {
			if _, err := w.Write(p[:min(len(p), 64<<10)]); err != nil {
				t.Fatalf("hint %d: Write: %v", hint, err)
			}
		}
		if err := w.Commit(t.Context()); err != nil {
			t.Fatalf("hint %d: Commit: %v", hint, err)
		}
		if info, err := d.Stat(t.Context(), key); err != nil || info.Size != size {
			t.Errorf("hint %d: Stat = %+v, %v; want size %d", hint, info, err, size)
		}
		wantContent(t, d, key, want)
	}
}
