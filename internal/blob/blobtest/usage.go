package blobtest

import (
	"testing"

	"github.com/glint-image/glint/internal/blob"
)

// testUsage: a driver that reports usage counts exactly its committed
// blobs and their sizes, not writers still open; what they take
// physically is unknown (-1) or at most what a store could need beyond
// their sizes (a block per blob).
func testUsage(t *testing.T, d blob.Driver) {
	ur, ok := blob.As[blob.UsageReporter](d)
	if !ok {
		return // an optional capability this driver does not have
	}
	put(t, d, "usage/a", content(80, 100000))
	put(t, d, "usage-b", make([]byte, 1<<20))
	w := newWriter(t, d, "usage-open")
	if _, err := w.Write(content(81, 5000)); err != nil {
		t.Fatal(err)
	}
	u, err := ur.Usage(t.Context())
	if err != nil {
		t.Fatalf("Usage: %v", err)
	}
	if u.Blobs != 2 || u.Bytes != 100000+1<<20 {
		t.Errorf("Usage = %+v, want 2 blobs of %d bytes", u, 100000+1<<20)
	}
	if u.Physical < -1 || u.Physical > u.Bytes+2*64<<10 {
		t.Errorf("Usage.Physical = %d for %d bytes", u.Physical, u.Bytes)
	}
}
