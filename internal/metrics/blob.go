package metrics

import (
	"context"
	"errors"
	"io"
	"sync"
	"syscall"
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// Driver wraps a blob.Driver so that every operation is timed and counted
// under the store's id, and the bytes of every writer (upload) and reader
// (download) are counted as they pass. With a nil m it returns d itself.
func (m *Metrics) Driver(store string, d blob.Driver) blob.Driver {
	if m == nil {
		return d
	}
	return (&driver{m: m, store: store, d: d}).withResume() // resume.go
}

type driver struct {
	m     *Metrics
	store string
	d     blob.Driver
}

// Sweep passes the optional capability through.
func (d *driver) Sweep(ctx context.Context) error {
	if s, ok := d.d.(blob.Sweeper); ok {
		return s.Sweep(ctx)
	}
	return nil
}

// Unwrap is the wrapped driver, for capabilities the wrapper does not pass.
func (d *driver) Unwrap() blob.Driver { return d.d }

func (d *driver) observe(op string, start time.Time, err error) {
	d.m.storeSeconds.WithLabelValues(d.store, op).Observe(time.Since(start).Seconds())
	if err != nil && !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, context.Canceled) {
		d.m.storeErrors.WithLabelValues(d.store, op).Inc()
	}
}

func (d *driver) Writer(ctx context.Context, key string) (blob.Writer, error) {
	start := time.Now()
	w, err := d.d.Writer(ctx, key)
	d.observe("writer", start, err)
	if err != nil {
		return nil, err
	}
	return &writer{Writer: w, d: d, start: start}, nil
}

func (d *driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	start := time.Now()
	r, err := d.d.Reader(ctx, key, offset)
	d.observe("reader", start, err)
	if err != nil {
		return nil, err
	}
	rd := &reader{d: d, start: start, r: r, offset: offset}
	if sc, ok := r.(syscall.Conn); ok {
		// A file: keep sendfile (the socket asks for syscall.Conn) and
		// count by the file's position at Close instead of by Read.
		return &fileReader{reader: rd, sc: sc}, nil
	}
	return rd, nil
}

func (d *driver) Stat(ctx context.Context, key string) (blob.Info, error) {
	start := time.Now()
	info, err := d.d.Stat(ctx, key)
	d.observe("stat", start, err)
	return info, err
}

func (d *driver) Delete(ctx context.Context, key string) error {
	start := time.Now()
	err := d.d.Delete(ctx, key)
	d.observe("delete", start, err)
	return err
}

// writer counts the bytes written and the time from opening to commit.
type writer struct {
	blob.Writer
	d     *driver
	start time.Time
}

// Unwrap is the wrapped writer, for capabilities the wrapper does not
// pass on (blob.HintSize).
func (w *writer) Unwrap() blob.Writer { return w.Writer }

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.d.m.transferBytes.WithLabelValues("upload", w.d.store).Add(float64(n))
	return n, err
}

func (w *writer) Commit(ctx context.Context) error {
	start := time.Now()
	err := w.Writer.Commit(ctx)
	w.d.observe("commit", start, err)
	if err == nil {
		w.d.m.transferSeconds.WithLabelValues("upload", w.d.store).Observe(time.Since(w.start).Seconds())
	}
	return err
}

// reader counts the bytes read and the time from opening to close.
type reader struct {
	d      *driver
	start  time.Time
	r      io.ReadCloser
	offset int64
	n      int64
	once   sync.Once
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.n += int64(n)
	return n, err
}

func (r *reader) Close() error {
	r.once.Do(func() {
		n := r.n
		if sk, ok := r.r.(io.Seeker); ok {
			// sendfile moves the file's position without a Read.
			if pos, err := sk.Seek(0, io.SeekCurrent); err == nil && pos >= r.offset {
				n = pos - r.offset
			}
		}
		r.d.m.transferBytes.WithLabelValues("download", r.d.store).Add(float64(n))
		r.d.m.transferSeconds.WithLabelValues("download", r.d.store).Observe(time.Since(r.start).Seconds())
	})
	return r.r.Close()
}

// fileReader lets the socket reach the file underneath for sendfile.
type fileReader struct {
	*reader
	sc syscall.Conn
}

func (f *fileReader) SyscallConn() (syscall.RawConn, error) { return f.sc.SyscallConn() }
