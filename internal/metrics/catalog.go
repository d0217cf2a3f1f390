package metrics

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glint-image/glint/internal/sqlstore"
)

// catalogEvery is how stale the catalog counts may be. Counting is one
// grouped scan of the images table; at a million images that is a
// fraction of a second, so it is done at most this often, whatever the
// scrape interval.
const catalogEvery = 30 * time.Second

// Catalog exports the image counts by status and visibility and the task
// counts by type and status (the import queue is the pending ones),
// refreshed at most every catalogEvery, during a scrape.
type Catalog struct {
	images, tasks func(ctx context.Context) ([]sqlstore.Count, error)
	log           *slog.Logger

	mu      sync.Mutex
	at      time.Time
	imgs    []sqlstore.Count
	tsks    []sqlstore.Count
	imgDesc *prometheus.Desc
	tskDesc *prometheus.Desc
}

// NewCatalog returns the collector over the two count queries.
func NewCatalog(images, tasks func(ctx context.Context) ([]sqlstore.Count, error), log *slog.Logger) *Catalog {
	return &Catalog{images: images, tasks: tasks, log: log,
		imgDesc: prometheus.NewDesc("glint_images", "Live images by status and visibility (refreshed every 30 s at most).", []string{"status", "visibility"}, nil),
		tskDesc: prometheus.NewDesc("glint_tasks", "Unfinished and unexpired tasks by type and status; pending ones wait for a runner.", []string{"type", "status"}, nil)}
}

func (c *Catalog) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.imgDesc
	ch <- c.tskDesc
}

func (c *Catalog) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) >= catalogEvery {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		imgs, err1 := c.images(ctx)
		tsks, err2 := c.tasks(ctx)
		cancel()
		if err1 != nil || err2 != nil {
			c.log.Warn("counting the catalog for metrics", "images_err", err1, "tasks_err", err2)
		} else {
			c.imgs, c.tsks, c.at = imgs, tsks, time.Now()
		}
	}
	for _, n := range c.imgs {
		ch <- prometheus.MustNewConstMetric(c.imgDesc, prometheus.GaugeValue, float64(n.N), n.Labels...)
	}
	for _, n := range c.tsks {
		ch <- prometheus.MustNewConstMetric(c.tskDesc, prometheus.GaugeValue, float64(n.N), n.Labels...)
	}
}
