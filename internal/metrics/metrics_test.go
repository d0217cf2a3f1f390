package metrics_test

import (
	"testing"
	"time"

	"github.com/glint-image/glint/internal/metrics"
)

// BenchmarkObserveRequest is what metrics add to every API request: the
// in-flight gauge up and down, one counter and one histogram observation.
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New()
	b.ReportAllocs()
	for i := range b.N {
		m.InFlight(1)
		m.ObserveRequest("/v2/images/{id}", "GET", 200, time.Duration(i)*time.Microsecond)
		m.InFlight(-1)
	}
}

// TestNilMetricsMeasureNothing: every seam takes a nil *Metrics (metrics
// off) without checking.
func TestNilMetricsMeasureNothing(t *testing.T) {
	var m *metrics.Metrics
	m.ObserveRequest("/", "GET", 200, time.Millisecond)
	m.InFlight(1)
	m.TaskFinished("web-download", "success")
	m.TokenCache("builtin", true)
	m.QuotaRefused("image_count_total")
	m.Notification("published", 1)
	m.ObserveTx("write", time.Millisecond, nil)
	if err := m.Register(nil); err != nil {
		t.Fatal(err)
	}
	if d := m.Driver("x", nil); d != nil {
		t.Fatal("a nil Metrics wrapped a driver")
	}
}
