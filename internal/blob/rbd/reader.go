//go:build ceph

package rbd

import (
	"context"
	"errors"
	"fmt"
	"io"

	cephrbd "github.com/ceph/go-ceph/rbd"
)

// readAhead is how many chunks a reader has in flight besides the one
// being consumed: librbd reads one object per request, so a single
// request at a time leaves the OSDs idle between round trips. Memory per
// open reader: (readAhead + 1) × chunk size (32 MiB at 8 MiB chunks).
const readAhead = 3

// reader streams an image snapshot from an offset, reading the next
// chunks in parallel while the current one is consumed.
type reader struct {
	ctx     context.Context
	img     *cephrbd.Image
	next    int64 // where the next chunk read starts
	size    int64
	chunk   int
	cur     []byte         // unread bytes of the current chunk
	curBuf  []byte         // the buffer cur points into
	free    [][]byte       // buffers not in use
	pending []chan fetched // chunk reads in flight, in order
	err     error
}

type fetched struct {
	buf []byte
	n   int
	err error
}

func newReader(ctx context.Context, img *cephrbd.Image, offset, size int64, chunk int) *reader {
	return &reader{ctx: ctx, img: img, next: offset, size: size, chunk: chunk}
}

// fill starts chunk reads until readAhead+1 are in flight or the end is
// reached. Chunks after the first are aligned to chunk boundaries, so
// every read after it touches one object.
func (r *reader) fill() {
	for len(r.pending) <= readAhead && r.next < r.size {
		n := int64(r.chunk) - r.next%int64(r.chunk)
		n = min(n, r.size-r.next)
		var buf []byte
		if k := len(r.free); k > 0 {
			buf, r.free = r.free[k-1], r.free[:k-1]
		} else {
			buf = make([]byte, r.chunk)
		}
		buf = buf[:n]
		ch := make(chan fetched, 1)
		go func(off int64) {
			k, err := r.img.ReadAt(buf, off)
			if errors.Is(err, io.EOF) && k == len(buf) {
				err = nil
			}
			ch <- fetched{buf: buf, n: k, err: err}
		}(r.next)
		r.pending = append(r.pending, ch)
		r.next += n
	}
}

func (r *reader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	for len(r.cur) == 0 {
		if r.curBuf != nil {
			r.free = append(r.free, r.curBuf[:cap(r.curBuf)])
			r.curBuf = nil
		}
		r.fill()
		if len(r.pending) == 0 {
			r.err = io.EOF
			return 0, io.EOF
		}
		if err := r.ctx.Err(); err != nil {
			r.err = err
			return 0, err
		}
		f := <-r.pending[0]
		r.pending = r.pending[1:]
		if f.err == nil && f.n < len(f.buf) {
			f.err = io.ErrUnexpectedEOF
		}
		if f.err != nil {
			r.err = fmt.Errorf("rbd: reading: %w", f.err)
			return 0, r.err
		}
		r.curBuf, r.cur = f.buf, f.buf[:f.n]
		r.fill()
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}

// Close waits for the reads in flight (they use the image) and closes
// the image.
func (r *reader) Close() error {
	for _, ch := range r.pending {
		<-ch
	}
	r.pending = nil
	if r.err == nil {
		r.err = errors.New("rbd: read after Close")
	}
	if r.img == nil {
		return nil
	}
	img := r.img
	r.img = nil
	return img.Close()
}
