package imagetest

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/glint-image/glint/internal/image"
)

// Bench measures the listing queries of the API's list workloads on a
// catalog of 10,000 images, and 100,000 unless -short, shaped as glint
// bench seeds it: a tenth public, half private to the caller's project,
// fifty tags. newStore returns an empty store closed when b ends; each
// size is seeded once, through CreateImage, and shared by its queries.
//
//	func BenchmarkStore(b *testing.B) { imagetest.Bench(b, newStore) }
func Bench(b *testing.B, newStore func(b *testing.B) image.Store) {
	sizes := []int{10000, 100000}
	if testing.Short() {
		sizes = sizes[:1]
	}
	member := image.Scope{Project: "bench-project"}
	hidden := false
	queries := []struct {
		name string
		q    func(i int) image.ListQuery
	}{
		{"default", func(int) image.ListQuery { return image.ListQuery{Caller: member, Hidden: &hidden, Limit: 25} }},
		{"name-sorted", func(int) image.ListQuery {
			return image.ListQuery{Caller: member, Hidden: &hidden, Limit: 25, Sort: []image.SortKey{{Key: "name"}}}
		}},
		{"tag", func(i int) image.ListQuery {
			return image.ListQuery{Caller: member, Hidden: &hidden, Limit: 25, Tags: []string{"t" + strconv.Itoa(i%50)}}
		}},
		{"public", func(int) image.ListQuery {
			return image.ListQuery{Caller: member, Hidden: &hidden, Limit: 25, Visibility: "public"}
		}},
		{"page-1000", func(int) image.ListQuery { return image.ListQuery{Caller: member, Hidden: &hidden, Limit: 1000} }},
	}
	parent := b
	for _, n := range sizes {
		var s image.Store
		for _, q := range queries {
			b.Run(fmt.Sprintf("%s/%d", q.name, n), func(b *testing.B) {
				if s == nil {
					s = newStore(parent) // outlives this sub-benchmark
					seedCatalog(b, s, n)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					imgs, err := s.ListImages(context.Background(), q.q(i))
					if err != nil {
						b.Fatal(err)
					}
					if len(imgs) == 0 {
						b.Fatal("the query found nothing")
					}
				}
			})
		}
	}
}

// seedCatalog creates n images in s.
func seedCatalog(b *testing.B, s image.Store, n int) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			owner, vis := "bench-project", image.VisibilityPrivate
			switch i % 10 {
			case 0:
				owner, vis = "bench-admin", image.VisibilityPublic
			case 1:
				vis = image.VisibilityCommunity
			case 2, 3, 4:
				vis = image.VisibilityShared
			}
			name := fmt.Sprintf("bench-%06d", i)
			at := t0.Add(time.Duration(i) * time.Second)
			return s.CreateImage(context.Background(), &image.Image{
				ID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: &name, Owner: &owner,
				Status: image.StatusQueued, Visibility: vis, CreatedAt: at, UpdatedAt: at,
				Tags:       []string{"bench", "t" + strconv.Itoa(i%50)},
				Properties: map[string]string{"bench_group": strconv.Itoa(i % 100), "bench_counter": "0"},
			})
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}
