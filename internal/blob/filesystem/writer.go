package filesystem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// bufferSize batches the small writes an HTTP body tends to produce into
// fewer syscalls; io.Copy's 32 KiB chunks pass through in 64 KiB writes.
const bufferSize = 64 << 10

// holeBlock is the unit of sparseness: a block of this many zero bytes,
// aligned to it in the file, is not written and stays a hole. 4 KiB is
// the block size of ext4, XFS and btrfs on the usual page size, so every
// zero block the filesystem could leave unallocated is found, and no
// smaller run is skipped only to cost a partial block anyway.
const holeBlock = 4 << 10

// zeroBlock is compared against: bytes.Equal is the runtime's vectorised
// memequal, far faster than a byte loop.
var zeroBlock [holeBlock]byte

// errClosed is returned by Write and Commit once the writer has been
// committed or cancelled.
var errClosed = errors.New("filesystem: writer already committed or cancelled")

// writer streams into a temp file under root/tmp until Commit renames it
// to the blob's path. Blocks of zeros are skipped rather than written, so
// the raw images that are mostly zeros take only the space of their data;
// Commit sets the file's length, and the holes read back as zeros. Like
// most io.Writers it is not safe for concurrent use.
type writer struct {
	d   *Driver
	key string
	dst string // the committed blob's path
	f   *os.File
	// buf holds the bytes after flushed; it is written out when full, so
	// every flush starts at a multiple of bufferSize (and of holeBlock).
	buf     []byte
	flushed int64
	// queued is the end of the range whose writeback was started last,
	// waited is where the one before it ended (see startWriteback).
	queued, waited int64
	// done is set by Commit (whatever its outcome) and by Cancel; from
	// then on the temp file is either renamed or removed.
	done bool
	err  error // sticky: a failed write leaves the file in an unknown state
}

var _ io.ReaderFrom = (*writer)(nil)

func newWriter(d *Driver, key, dst string, f *os.File) *writer {
	return &writer{d: d, key: key, dst: dst, f: f, buf: make([]byte, 0, bufferSize)}
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	n := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= bufferSize {
			// Whole chunks go to the file without a copy into buf.
			k := len(p) - len(p)%bufferSize
			if err := w.put(p[:k]); err != nil {
				return n, err
			}
			p, n = p[k:], n+k
			continue
		}
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom fills the buffer straight from r, saving io.Copy's own buffer
// and one copy of every byte.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, errClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	var total int64
	for {
		n, err := r.Read(w.buf[len(w.buf):cap(w.buf)])
		w.buf = w.buf[:len(w.buf)+n]
		total += int64(n)
		if len(w.buf) == cap(w.buf) {
			if ferr := w.flush(); ferr != nil {
				return total, ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// flush writes buf out at its offset and empties it.
func (w *writer) flush() error {
	if err := w.put(w.buf); err != nil {
		return err
	}
	w.buf = w.buf[:0]
	return nil
}

// put writes p at the flushed offset, leaving out every aligned block of
// zeros, and starts the writeback of each full window.
func (w *writer) put(p []byte) error {
	off := w.flushed
	for start := 0; start < len(p); {
		// Skip a run of zero blocks, then write the run of data blocks
		// that follows it in one call.
		for start < len(p) && isZero(p[start:min(start+holeBlock, len(p))]) {
			start += holeBlock
		}
		end := start
		for end < len(p) && !isZero(p[end:min(end+holeBlock, len(p))]) {
			end += holeBlock
		}
		end = min(end, len(p))
		if end > start {
			if _, err := w.f.WriteAt(p[start:end], off+int64(start)); err != nil {
				w.err = err
				return err
			}
		}
		start = end
	}
	w.flushed += int64(len(p))
	w.writeback()
	return nil
}

func isZero(p []byte) bool { return bytes.Equal(p, zeroBlock[:len(p)]) }

// writebackWindow is how much written data goes to the disk in one step
// while an upload streams.
const writebackWindow = 8 << 20

// writeback starts the disk write of each full window of data that has
// left the buffer, and waits for the window before it.
func (w *writer) writeback() {
	if w.flushed-w.queued < writebackWindow {
		return
	}
	startWriteback(w.f, w.waited, w.queued, w.flushed-w.queued)
	w.waited, w.queued = w.queued, w.flushed
}

func (w *writer) Size() int64 { return w.flushed + int64(len(w.buf)) }

// Commit makes the blob durable (flush, set the length over any trailing
// hole, fsync the data) and then visible (rename, fsync the directory).
// If any step fails the temp file is removed, so a failed Commit leaves
// nothing behind, as blob.Writer requires. The one exception is a failed
// directory sync after the rename succeeded: the blob is then visible,
// only not guaranteed to survive a crash, and Commit still reports the
// error.
func (w *writer) Commit(ctx context.Context) error {
	if w.done {
		return errClosed
	}
	w.done = true
	if err := w.commit(ctx); err != nil {
		w.f.Close() // may already be closed; the error adds nothing
		os.Remove(w.f.Name())
		return fmt.Errorf("filesystem: commit %q: %w", w.key, err)
	}
	return nil
}

func (w *writer) commit(ctx context.Context) error {
	if w.err != nil {
		return w.err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	// Zeros at the end were never written: the length says they are there.
	if err := w.f.Truncate(w.flushed); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return err
	}
	if err := w.f.Close(); err != nil {
		return err
	}
	return w.d.install(w.f.Name(), w.dst)
}

// Cancel discards the temp file. It is a no-op after Commit or a previous
// Cancel. A temp file already gone (removed by Sweep) is not an error.
func (w *writer) Cancel(ctx context.Context) error {
	if w.done {
		return nil
	}
	w.done = true
	w.f.Close() // the data is being thrown away; a close error is moot
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("filesystem: cancel %q: %w", w.key, err)
	}
	return nil
}
