package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/task"
)

// RecordStore is the record store glint serves from: images, tasks, the
// metadata definitions catalog and the built-in identity.
type RecordStore interface {
	image.Store
	task.Store
	metadef.Store
	identity.Store
}

// Records is a RecordStore that times every call of the store underneath
// by operation: the method's name (GetImage, ListImages, ClaimTask, ...),
// a label bounded by the store's interfaces. A call is what one query
// (or one transaction of a few) costs the service, scanning and decoding
// included, and with notifications on also the notification written in
// the same transaction. Each method is one line of timing around the
// call (records_*.go).
type Records struct {
	images     image.Store
	tasks      task.Store
	metadefs   metadef.Store
	identities identity.Store
	seconds    *prometheus.HistogramVec
}

var _ RecordStore = (*Records)(nil)

// Records decorates st, or returns it unchanged without metrics.
func (m *Metrics) Records(st RecordStore) RecordStore {
	if m == nil {
		return st
	}
	return &Records{images: st, tasks: st, metadefs: st, identities: st, seconds: m.dbQuerySeconds}
}

func (rec *Records) observe(op string, start time.Time) {
	rec.seconds.WithLabelValues(op).Observe(time.Since(start).Seconds())
}
