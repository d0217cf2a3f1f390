package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glint-image/glint/internal/image"
)

// storageEvery is how stale the store usage may be: counting walks every
// blob's metadata (a directory tree, an object listing), which at a few
// hundred thousand blobs takes seconds, so it is done at most this often.
const storageEvery = 5 * time.Minute

// Storage exports what each image store holds: blobs, their logical and
// physical bytes (holes of sparse files take none), and the bytes shared
// data saves, refreshed at most every storageEvery during a scrape.
type Storage struct {
	report func(ctx context.Context) ([]image.StoreUsage, error)
	log    *slog.Logger

	mu                                   sync.Mutex
	at                                   time.Time
	last                                 []image.StoreUsage
	blobs, logical, physical, saved, shd *prometheus.Desc
}

// NewStorage returns the collector over report (image.StorageUsage).
func NewStorage(report func(ctx context.Context) ([]image.StoreUsage, error), log *slog.Logger) *Storage {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help+" (refreshed every 5 min at most).", []string{"store"}, nil)
	}
	return &Storage{report: report, log: log,
		blobs:    desc("glint_store_blobs", "Blobs committed in the store"),
		logical:  desc("glint_store_logical_bytes", "Sum of the sizes of the store's blobs, zeros included"),
		physical: desc("glint_store_physical_bytes", "Space the store's blobs take, without the zeros a sparse store leaves out"),
		saved:    desc("glint_store_shared_saved_bytes", "Bytes identical uploads would have taken beyond one copy each, saved by sharing"),
		shd:      desc("glint_store_shared_images", "Images whose data the store keeps as shared data")}
}

func (s *Storage) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.blobs, s.logical, s.physical, s.saved, s.shd} {
		ch <- d
	}
}

func (s *Storage) Collect(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.at) >= storageEvery {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		last, err := s.report(ctx)
		cancel()
		if err != nil {
			s.log.Warn("counting the stores for metrics", "err", err)
		} else {
			s.last, s.at = last, time.Now()
		}
	}
	gauge := func(d *prometheus.Desc, v int64, store string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), store)
	}
	for _, u := range s.last {
		if u.Counted {
			gauge(s.blobs, u.Blobs.Blobs, u.Store)
			gauge(s.logical, u.Blobs.Bytes, u.Store)
			if u.Blobs.Physical >= 0 {
				gauge(s.physical, u.Blobs.Physical, u.Store)
			}
		}
		gauge(s.saved, u.Sharing.Saved, u.Store)
		gauge(s.shd, u.Sharing.Images, u.Store)
	}
}
