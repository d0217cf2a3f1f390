package imagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// The SQL backends' tests of a migration that backfills memberships'
// copies of their images' sort keys (sqlstore migration 00029) share
// these: the images before the migration, and the listing that must
// read the copies afterwards.

// SeedShares creates three shared images, sh0..sh2, named b, c and a.
// The test then writes their memberships as the store did before the
// migration, and renames sh2 to z.
func SeedShares(t *testing.T, s image.Store) {
	t.Helper()
	owner := "owner"
	for i, name := range []string{"b", "c", "a"} {
		img := &image.Image{ID: fmt.Sprintf("sh%d", i), Name: &name, Status: image.StatusQueued,
			Visibility: image.VisibilityShared, Owner: &owner, CreatedAt: time.Unix(int64(i), 0), UpdatedAt: time.Unix(int64(i), 0)}
		if err := s.CreateImage(t.Context(), img); err != nil {
			t.Fatal(err)
		}
	}
}

// CheckSharesByName lists the shares of project "acc" by name: after the
// rename of SeedShares' sh2 to z they come as sh0 (b), sh1 (c), sh2 (z).
func CheckSharesByName(t *testing.T, s image.Store) {
	t.Helper()
	got, err := s.ListImages(t.Context(), image.ListQuery{Caller: image.Scope{Project: "acc"},
		Sort: []image.SortKey{{Key: "name"}}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if order, want := ids(got), []string{"sh0", "sh1", "sh2"}; !slices.Equal(order, want) {
		t.Errorf("shares by name: %v, want %v", order, want)
	}
}
