package imagetest

import (
	"maps"
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// testQuotas covers usage counting and limit overrides.
func testQuotas(t *testing.T, s image.Store) {
	ctx := t.Context()
	u, err := s.ProjectUsage(ctx, "owner")
	if err != nil || u != (image.Usage{}) {
		t.Fatalf("usage of an empty project: %+v, %v", u, err)
	}
	queued := newImage("q1")
	saving := newImage("s1")
	saving.Status = image.StatusSaving
	killed := newImage("k1")
	killed.Status = image.StatusKilled
	active := newImage("a1")
	active.Status, active.Size, active.Location = image.StatusActive, ptr(int64(3<<20)), "store:a1"
	gone := newImage("d1")
	gone.Status, gone.Size, gone.Location = image.StatusActive, ptr(int64(5<<20)), "store:d1"
	other := newImage("o1")
	other.Owner = ptr("someone-else")
	other.Status, other.Size, other.Location = image.StatusActive, ptr(int64(7<<20)), "store:o1"
	staged := newImage("u1")
	staged.Status, staged.Size = image.StatusUploading, ptr(int64(2<<20))
	create(t, s, queued, saving, killed, active, gone, other, staged)
	if _, err := s.DeleteImage(ctx, "d1", at(10)); err != nil {
		t.Fatal(err)
	}
	u, err = s.ProjectUsage(ctx, "owner")
	want := image.Usage{Images: 4, Uploading: 2, SizeBytes: 3 << 20, StageBytes: 2 << 20}
	if err != nil || u != want {
		t.Fatalf("usage: %+v, want %+v (err %v)", u, want, err)
	}

	if l, err := s.ProjectLimits(ctx, "owner"); err != nil || len(l) != 0 {
		t.Fatalf("limits before any override: %v, %v", l, err)
	}
	for _, kv := range []struct {
		name string
		v    int64
	}{{image.QuotaImageCountTotal, 5}, {image.QuotaImageSizeTotal, 100}, {image.QuotaImageCountTotal, 7}} {
		if err := s.SetProjectLimit(ctx, "owner", kv.name, kv.v); err != nil {
			t.Fatal(err)
		}
	}
	l, err := s.ProjectLimits(ctx, "owner")
	if err != nil || !maps.Equal(l, map[string]int64{image.QuotaImageCountTotal: 7, image.QuotaImageSizeTotal: 100}) {
		t.Fatalf("limits: %v, %v", l, err)
	}
	if l, _ := s.ProjectLimits(ctx, "someone-else"); len(l) != 0 {
		t.Fatalf("another project's limits: %v", l)
	}
	if err := s.DeleteProjectLimits(ctx, "owner"); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.ProjectLimits(ctx, "owner"); len(l) != 0 {
		t.Fatalf("limits after reset: %v", l)
	}
}
