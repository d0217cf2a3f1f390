// Package metrics is glint's Prometheus instrumentation: one registry with
// every family glint exports, and small decorators that measure at the
// seams (the HTTP API, blob.Driver, the record store's pools) instead of
// calls sprinkled through the code. Labels are bounded by construction:
// route patterns, methods, status codes, store ids, operation names,
// statuses. Never an image, project or user id.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the registry and the families glint updates directly.
// A nil *Metrics is valid and measures nothing, so every seam can take one
// unconditionally.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	requestSeconds  *prometheus.HistogramVec
	inFlight        prometheus.Gauge
	transferBytes   *prometheus.CounterVec
	transferSeconds *prometheus.HistogramVec
	storeSeconds    *prometheus.HistogramVec
	storeErrors     *prometheus.CounterVec
	dbSeconds       *prometheus.HistogramVec
	dbQuerySeconds  *prometheus.HistogramVec
	tasks           *prometheus.CounterVec
	tokenCache      *prometheus.CounterVec
	quotaRefusals   *prometheus.CounterVec
	notifications   *prometheus.CounterVec
}

// latencyBuckets span a cached token check (~100 µs) to a slow listing.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// transferBuckets span a small image on loopback to a large one over a WAN.
var transferBuckets = []float64{.01, .1, .5, 1, 5, 15, 60, 300, 900, 3600}

// New builds the registry with the Go and process collectors.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{reg: reg}
	f := factory{reg}
	m.requests = f.counter("glint_http_requests_total", "API requests answered, by route pattern, method and status.", "route", "method", "status")
	m.requestSeconds = f.histogram("glint_http_request_duration_seconds", "API request latency (to the end of the body), by route pattern and method.", latencyBuckets, "route", "method")
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{Name: "glint_http_requests_in_flight", Help: "Requests being served now."})
	reg.MustRegister(m.inFlight)
	m.transferBytes = f.counter("glint_image_transfer_bytes_total", "Image bytes written to (upload) or read from (download) each store.", "direction", "store")
	m.transferSeconds = f.histogram("glint_image_transfer_duration_seconds", "Duration of image data transfers to and from each store.", transferBuckets, "direction", "store")
	m.storeSeconds = f.histogram("glint_store_operation_duration_seconds", "Latency of store operations (open writer, commit, open reader, stat, delete; resume, checkpoint, discard of resumable uploads).", latencyBuckets, "store", "op")
	m.storeErrors = f.counter("glint_store_operation_errors_total", "Store operations that failed (not found is not a failure).", "store", "op")
	m.dbSeconds = f.histogram("glint_db_transaction_duration_seconds", "Latency of record-store transactions by kind (read, write).", latencyBuckets, "kind", "outcome")
	m.dbQuerySeconds = f.histogram("glint_db_query_duration_seconds", "Latency of record-store operations (one query, or one transaction of a few), by operation: the store method (GetImage, ListImages, SaveImage, ClaimTask, ...).", latencyBuckets, "op")
	m.tasks = f.counter("glint_import_tasks_total", "Import tasks that finished, by import method and outcome.", "method", "outcome")
	m.tokenCache = f.counter("glint_token_cache_total", "Token validations answered from the cache (hit) or by the identity service (miss).", "source", "result")
	m.quotaRefusals = f.counter("glint_quota_refusals_total", "Requests refused by a quota, by quota name.", "quota")
	m.notifications = f.counter("glint_notifications_total", "Notifications by outcome: queued (written to the outbox), published, dropped (outbox full), disabled.", "outcome")
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) histogram(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	f.reg.MustRegister(h)
	return h
}

// Register adds a collector (the record store's pool and catalog counts,
// the notification backlog), for parts built after the registry.
func (m *Metrics) Register(c prometheus.Collector) error {
	if m == nil {
		return nil
	}
	return m.reg.Register(c)
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{MaxRequestsInFlight: 4, Timeout: 30 * time.Second})
}

// Gatherer is the registry, for tests that read it directly.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// ObserveRequest records one answered API request. route is the pattern
// the request matched ("/v2/images/{id}"), never its path.
func (m *Metrics) ObserveRequest(route, method string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.requestSeconds.WithLabelValues(route, method).Observe(d.Seconds())
}

// InFlight adds delta to the requests being served.
func (m *Metrics) InFlight(delta float64) {
	if m == nil {
		return
	}
	m.inFlight.Add(delta)
}

// TaskFinished counts an import task that ended.
func (m *Metrics) TaskFinished(method, outcome string) {
	if m == nil {
		return
	}
	m.tasks.WithLabelValues(method, outcome).Inc()
}

// TokenCache counts one token validation by source (builtin, keystone)
// and whether the cache answered it.
func (m *Metrics) TokenCache(source string, hit bool) {
	if m == nil {
		return
	}
	result := "miss"
	if hit {
		result = "hit"
	}
	m.tokenCache.WithLabelValues(source, result).Inc()
}

// QuotaRefused counts a request refused by the named quota.
func (m *Metrics) QuotaRefused(quota string) {
	if m == nil {
		return
	}
	m.quotaRefusals.WithLabelValues(quota).Inc()
}

// Notification counts notifications by outcome.
func (m *Metrics) Notification(outcome string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.notifications.WithLabelValues(outcome).Add(float64(n))
}

// ObserveTx records one record-store transaction.
func (m *Metrics) ObserveTx(kind string, d time.Duration, err error) {
	if m == nil {
		return
	}
	outcome := "ok"
	if err != nil {
		outcome = "error"
	}
	m.dbSeconds.WithLabelValues(kind, outcome).Observe(d.Seconds())
}

// statusLabel avoids strconv on the hot path for the common codes.
func statusLabel(code int) string {
	switch code {
	case 200:
		return "200"
	case 201:
		return "201"
	case 204:
		return "204"
	case 404:
		return "404"
	}
	if code == 0 {
		return "200"
	}
	return strconv.Itoa(code)
}
