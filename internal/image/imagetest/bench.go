package imagetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/image/catalog"
)

// Bench measures a show (GetImage) and every listing shape of ListShapes
// on catalogs of 10,000 and, unless -short, 100,000 images, or of the
// sizes GLINT_BENCH_SIZES lists ("10000,100000,1000000"). Catalogs are
// seeded directly through the store (CreateBatch when the store has it),
// once per size, and shared by that size's sub-benchmarks, which are
// named shape/size so that one run compares sizes and shapes:
//
//	func BenchmarkStore(b *testing.B) { Bench(b, newStore) }
//
// With GLINT_BENCH_DELETED=1 each catalog also holds as many deleted
// images as live ones, newer than all of them (catalog.SeedDeleted): the
// history of a cloud that makes and deletes snapshots.
//
// newStore returns an empty store closed when b ends.
func Bench(b *testing.B, newStore func(b *testing.B) image.Store) {
	sizes, err := benchSizes()
	if err != nil {
		b.Fatal(err)
	}
	parent := b
	for _, n := range sizes {
		var s image.Store
		store := func(b *testing.B) image.Store {
			if s == nil {
				s = newStore(parent) // outlives this sub-benchmark
				if err := catalog.Seed(context.Background(), s, 0, n); err != nil {
					b.Fatal(err)
				}
				if os.Getenv("GLINT_BENCH_DELETED") == "1" {
					if err := catalog.SeedDeleted(context.Background(), s, n, 2*n); err != nil {
						b.Fatal(err)
					}
				}
				if a, ok := s.(interface{ Analyze(context.Context) error }); ok {
					if err := a.Analyze(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			return s
		}
		b.Run(fmt.Sprintf("show/%d", n), func(b *testing.B) {
			s := store(b)
			rng := rand.New(rand.NewPCG(1, 2))
			b.ReportAllocs()
			b.ResetTimer()
			cpu := startCPU()
			for range b.N {
				if _, err := s.GetImage(context.Background(), catalog.ID(rng.IntN(n))); err != nil {
					b.Fatal(err)
				}
			}
			cpu.report(b)
		})
		for _, sh := range catalog.Shapes(n) {
			b.Run(fmt.Sprintf("list-%s/%d", sh.Name, n), func(b *testing.B) {
				s := store(b)
				b.ReportAllocs()
				b.ResetTimer()
				cpu := startCPU()
				for range b.N {
					imgs, err := s.ListImages(context.Background(), sh.Query)
					if err != nil {
						b.Fatal(err)
					}
					if (len(imgs) == 0) != sh.Empty {
						b.Fatalf("the query found %d images", len(imgs))
					}
				}
				cpu.report(b)
			})
		}
	}
}

func benchSizes() ([]int, error) {
	if env := os.Getenv("GLINT_BENCH_SIZES"); env != "" {
		var sizes []int
		for _, f := range strings.Split(env, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 100 {
				return nil, fmt.Errorf("GLINT_BENCH_SIZES: %q is not a catalog size", f)
			}
			sizes = append(sizes, n)
		}
		return sizes, nil
	}
	if testing.Short() {
		return []int{10000}, nil
	}
	return []int{10000, 100000}, nil
}

// cpuMeter measures the process's CPU time (user and system), which on a
// shared machine says more than the wall time: for SQLite it is the whole
// cost of a query; PostgreSQL's own work is in its processes, not here.
type cpuMeter struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuMeter { return cpuMeter{processCPU()} }

// report adds the CPU time per operation as the metric cpu-ns/op.
func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(processCPU()-m.start)/float64(b.N), "cpu-ns/op")
}
