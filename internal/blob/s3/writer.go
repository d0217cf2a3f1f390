package s3

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/glint-image/glint/internal/blob"
)

var (
	// errClosed is returned by Write and Commit once the writer has been
	// committed or cancelled.
	errClosed = errors.New("s3: writer already committed or cancelled")
	// errCancelled is the cause handed to part uploads that Cancel stops.
	errCancelled = errors.New("s3: writer cancelled")
)

// abortTimeout bounds the request that aborts a multipart upload.
const abortTimeout = time.Minute

// writer buffers a blob into parts of partCap bytes. The first time a
// part is full and more bytes arrive, it starts a multipart upload; from
// then on every full part is uploaded in the background while the next
// one fills. A blob that never fills a part is sent as one PUT at Commit.
//
// Memory is bounded at (concurrency + 1) × the part size per writer: at
// most concurrency parts in flight, plus the one being filled. When all
// upload slots are busy, handing off the next part blocks Write; that
// backpressure is what holds the bound. With the defaults that is
// 3 × 16 MiB = 48 MiB, until a blob passes 12.5 GiB and its parts start
// to grow (partCap).
//
// Like most io.Writers it is not safe for concurrent use.
type writer struct {
	d      *Driver
	key    string // for messages
	object string // d.prefix + key

	// ctx governs the part uploads. Write has no ctx parameter, so the
	// uploads it starts run under the ctx given to Driver.Writer. It is
	// the errgroup's, so the first failed part cancels the others, and
	// context.Cause(ctx) is that failure; cancel ends it early.
	ctx    context.Context
	cancel context.CancelCauseFunc
	parts  *errgroup.Group

	buf      []byte // the part being filled; nil until needed
	size     int64
	err      error  // the first Write failure; Commit returns it too
	uploadID string // "" until the first part is handed off
	sent     int    // parts handed off

	mu       sync.Mutex
	uploaded []minio.CompletePart // parts done, in completion order
	// cutOff is set when a part request fails: the server may not be
	// done with it.
	cutOff atomic.Bool

	done bool // set by Commit (whatever its outcome) and Cancel
}

var _ io.ReaderFrom = (*writer)(nil)

// Writer starts a blob at key. Nothing is sent until a full part is
// followed by more bytes, or Commit is called. Cancelling ctx stops the part uploads already started,
// so later Writes and Commit fail; pass a ctx that lasts as long as the
// writer is in use, such as the request's.
func (d *Driver) Writer(ctx context.Context, key string) (blob.Writer, error) {
	object, err := d.object(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	uctx, cancel := context.WithCancelCause(ctx)
	g, gctx := errgroup.WithContext(uctx)
	g.SetLimit(d.concurrency)
	return &writer{d: d, key: key, object: object, ctx: gctx, cancel: cancel, parts: g}, nil
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	n := 0
	for len(p) > 0 {
		if err := w.makeRoom(); err != nil {
			w.err = fmt.Errorf("s3: write %q: %w", w.key, err)
			return n, w.err
		}
		c := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:c]...)
		p = p[c:]
		n += c
		w.size += int64(c)
	}
	return n, nil
}

// ReadFrom reads straight into the part buffer, saving io.Copy the copy
// through its own buffer.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, errClosed
	}
	var total int64
	for {
		if err := w.makeRoom(); err != nil {
			w.err = fmt.Errorf("s3: write %q: %w", w.key, err)
			return total, w.err
		}
		n, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
		w.size += int64(n)
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *writer) Size() int64 { return w.size }

// makeRoom makes sure w.buf has space, handing a full one off as the next
// part. It first reports an earlier failure, a failed part upload or the
// end of the Writer's ctx, so a failure surfaces at the next Write.
func (w *writer) makeRoom() error {
	if w.err != nil {
		return w.err
	}
	if err := context.Cause(w.ctx); err != nil {
		return err
	}
	if w.buf != nil && len(w.buf) == cap(w.buf) {
		// This part and the one the caller is writing would be too many.
		if w.sent+1 == maxParts {
			return fmt.Errorf("blob larger than S3's %d parts allow at part size %d; raise PartSize", maxParts, w.d.partSize)
		}
		if err := w.sendPart(); err != nil {
			return err
		}
	}
	if w.buf == nil {
		w.buf = w.d.getBuf(w.partCap())
	}
	return nil
}

// partCap is the size of the next part: PartSize for the first
// partsPerStep parts, then one PartSize more every partsPerStep parts.
// Growing linearly rather than doubling keeps the memory of a 1 TiB
// upload at 3 × 208 MiB with the defaults.
func (w *writer) partCap() int64 {
	return min(w.d.partSize*int64(1+w.sent/w.d.partsPerStep), MaxPartSize)
}

// sendPart hands w.buf to a background upload as the next part, starting
// the multipart upload with the first one.
func (w *writer) sendPart() error {
	if w.uploadID == "" {
		id, err := w.d.core.NewMultipartUpload(w.ctx, w.d.bucket, w.object, putOptions())
		if err != nil {
			return err
		}
		w.uploadID = id
	}
	w.sent++
	num, buf := w.sent, w.buf
	w.buf = nil
	// Go blocks while all upload slots are busy: the backpressure that
	// bounds memory.
	w.parts.Go(func() error { return w.uploadPart(num, buf) })
	return nil
}

func (w *writer) uploadPart(num int, buf []byte) error {
	part, err := w.d.core.PutObjectPart(w.ctx, w.d.bucket, w.object, w.uploadID, num,
		bytes.NewReader(buf), int64(len(buf)), minio.PutObjectPartOptions{})
	if err != nil {
		w.cutOff.Store(true)
		return fmt.Errorf("part %d: %w", num, err)
	}
	w.d.putBuf(buf)
	w.mu.Lock()
	defer w.mu.Unlock()
	// Checksums the server computed are passed back, as minio-go's own
	// PutObject does; servers that require them reject completion without.
	w.uploaded = append(w.uploaded, minio.CompletePart{
		PartNumber:        num,
		ETag:              part.ETag,
		ChecksumCRC32:     part.ChecksumCRC32,
		ChecksumCRC32C:    part.ChecksumCRC32C,
		ChecksumSHA1:      part.ChecksumSHA1,
		ChecksumSHA256:    part.ChecksumSHA256,
		ChecksumCRC64NVME: part.ChecksumCRC64NVME,
	})
	return nil
}

// Commit uploads what is left and completes the multipart upload, which
// is when S3 makes the whole object visible at once. If anything fails the
// upload is aborted, so a failed Commit leaves nothing behind.
func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errClosed
	}
	w.done = true
	if err := w.commit(ctx); err != nil {
		// The commit error is the one worth reporting; an abort failure
		// leaves an upload for Sweep.
		_ = w.abort(ctx)
		return w.d.wrap("commit", w.key, err)
	}
	w.cancel(errClosed) // releases the ctx; nothing is running any more
	return nil
}

func (w *writer) commit(ctx context.Context) error {
	if w.err != nil {
		return w.err // a blob that missed bytes must not be committed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := context.Cause(w.ctx); err != nil {
		return err
	}
	if w.uploadID == "" {
		return w.putWhole(ctx)
	}
	// Parts in flight run under the Writer's ctx; Commit's ends them too.
	stop := context.AfterFunc(ctx, func() { w.cancel(context.Cause(ctx)) })
	defer stop()
	if len(w.buf) > 0 {
		if err := w.sendPart(); err != nil {
			return err
		}
	}
	if err := w.parts.Wait(); err != nil {
		return err
	}
	// Wait has cancelled w.ctx, so completion runs under Commit's ctx.
	slices.SortFunc(w.uploaded, func(a, b minio.CompletePart) int { return cmp.Compare(a.PartNumber, b.PartNumber) })
	_, err := w.d.core.CompleteMultipartUpload(ctx, w.d.bucket, w.object, w.uploadID, w.uploaded, putOptions())
	return err
}

// putWhole sends a blob that fits in one part as a single PUT: one
// request instead of three, and no multipart upload to clean up.
func (w *writer) putWhole(ctx context.Context) error {
	buf := w.buf
	w.buf = nil
	_, err := w.d.core.PutObject(ctx, w.d.bucket, w.object, bytes.NewReader(buf), int64(len(buf)), "", "", putOptions())
	if err == nil && buf != nil {
		w.d.putBuf(buf)
	}
	return err
}

// Cancel aborts the multipart upload, which deletes the parts already
// stored. It is a no-op after Commit or a previous Cancel.
func (w *writer) Cancel(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	if err := w.abort(ctx); err != nil {
		return fmt.Errorf("s3: cancel %q: upload %s is left for Sweep: %w", w.key, w.uploadID, err)
	}
	return nil
}

// abort aborts exactly this writer's multipart upload, by its ID: a
// concurrent writer to the same key has its own upload, which must
// survive.
//
// Parts in flight are let finish first (unless ctx ends): a part whose
// request was cut off may still be stored by the server after the abort,
// which brings the upload back. Only if that happened does abortUpload
// need to watch for it.
//
// The abort request is sent even when ctx has already ended (a caller
// cancelling because its request was cut off, typically), bounded by
// abortTimeout: an upload left behind keeps its parts stored, and billed,
// until the next Sweep.
func (w *writer) abort(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { w.cancel(errCancelled) })
	_ = w.parts.Wait() // a failed part is moot now
	stop()
	w.cancel(errCancelled)
	if w.buf != nil {
		// Never sent, so nothing else can be reading it.
		w.d.putBuf(w.buf)
		w.buf = nil
	}
	if w.uploadID == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	return w.d.abortUpload(ctx, w.object, w.uploadID, w.cutOff.Load())
}

// putOptions are the options of every object write. minio-go computes no
// MD5 unless asked (SendContentMd5), which suits: integrity hashing
// happens above the driver.
func putOptions() minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: "application/octet-stream"}
}
