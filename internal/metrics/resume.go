package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// resumableDriver is the metrics wrapper of a driver that is a
// blob.Resumer: resumable writers (every upload's, where the store has
// them) are timed and counted like the others. Wrapping only such drivers
// keeps blob.As from finding a Resumer the store does not have.
type resumableDriver struct {
	*driver
	r blob.Resumer
}

func (d *driver) withResume() blob.Driver {
	if r, ok := blob.As[blob.Resumer](d.d); ok {
		return &resumableDriver{driver: d, r: r}
	}
	return d
}

func (d *resumableDriver) ResumableWriter(ctx context.Context, key string) (blob.ResumableWriter, error) {
	start := time.Now()
	w, err := d.r.ResumableWriter(ctx, key)
	d.observe("writer", start, err)
	if err != nil {
		return nil, err
	}
	return &resumableWriter{writer: writer{Writer: w, d: d.driver, start: start}, rw: w}, nil
}

func (d *resumableDriver) Resume(ctx context.Context, key string, state []byte) (blob.ResumableWriter, error) {
	start := time.Now()
	w, err := d.r.Resume(ctx, key, state)
	d.observe("resume", start, err)
	if err != nil {
		return nil, err
	}
	return &resumableWriter{writer: writer{Writer: w, d: d.driver, start: start}, rw: w}, nil
}

func (d *resumableDriver) Discard(ctx context.Context, state []byte) error {
	start := time.Now()
	err := d.r.Discard(ctx, state)
	d.observe("discard", start, err)
	return err
}

type resumableWriter struct {
	writer
	rw blob.ResumableWriter
}

func (w *resumableWriter) Checkpoint(ctx context.Context) ([]byte, error) {
	start := time.Now()
	st, err := w.rw.Checkpoint(ctx)
	w.d.observe("checkpoint", start, err)
	return st, err
}
