package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/glint-image/glint/internal/imagecache"
)

// Cache exports a node's image cache counters, read at each scrape (the
// cache keeps them as atomics, so a scrape costs no lock).
type Cache struct {
	stats                          func() imagecache.Stats
	requests, bytes, entries, size *prometheus.Desc
}

// NewCache reads the counters through stats.
func NewCache(stats func() imagecache.Stats) *Cache {
	return &Cache{stats: stats,
		requests: prometheus.NewDesc("glint_image_cache_requests_total", "Downloads of images in remote stores, by whether a local copy served them.", []string{"result"}, nil),
		bytes:    prometheus.NewDesc("glint_image_cache_bytes_total", "Image bytes sent from copies (hit), read from stores into copies (fill), or read from stores past the cache (pass).", []string{"kind"}, nil),
		entries:  prometheus.NewDesc("glint_image_cache_entries", "Complete image copies in this node's cache.", nil, nil),
		size:     prometheus.NewDesc("glint_image_cache_size_bytes", "Bytes held by this node's cache.", nil, nil)}
}

func (c *Cache) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.requests
	ch <- c.bytes
	ch <- c.entries
	ch <- c.size
}

func (c *Cache) Collect(ch chan<- prometheus.Metric) {
	st := c.stats()
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(st.Hits), "hit")
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(st.Misses), "miss")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.HitBytes), "hit")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.FillBytes), "fill")
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.CounterValue, float64(st.PassBytes), "pass")
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(st.Entries))
	ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(st.Size))
}
