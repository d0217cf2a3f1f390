package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// errClosed is returned by Write and Commit once the writer has been
// committed or cancelled.
var errClosed = errors.New("filesystem: writer already committed or cancelled")

// writer streams into a temp file under root/tmp until Commit renames it
// to the blob's path. Blocks of zeros are skipped rather than written
// (holeWriter), so the raw images that are mostly zeros take only the
// space of their data; Commit sets the file's length, and the holes read
// back as zeros. Like most io.Writers it is not safe for concurrent use.
type writer struct {
	d    *Driver
	key  string
	dst  string // the committed blob's path
	f    *os.File
	buf  *holeWriter
	size int64
	// queued is the end of the range whose writeback was started last,
	// waited is where the one before it ended (see startWriteback).
	queued, waited int64
	// done is set by Commit (whatever its outcome) and by Cancel; from
	// then on the temp file is either renamed or removed.
	done bool
}

var _ io.ReaderFrom = (*writer)(nil)

func newWriter(d *Driver, key, dst string, f *os.File) *writer {
	return &writer{d: d, key: key, dst: dst, f: f, buf: newHoleWriter(f)}
}

func (w *writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, errClosed
	}
	n, err := w.buf.Write(p)
	w.size += int64(n)
	w.writeback()
	return n, err
}

// writebackWindow is how much written data goes to the disk in one step
// while an upload streams.
const writebackWindow = 8 << 20

// writeback starts the disk write of each full window of data that has
// left the buffer, and waits for the window before it.
func (w *writer) writeback() {
	inFile := w.size - int64(w.buf.Buffered())
	if inFile-w.queued < writebackWindow {
		return
	}
	startWriteback(w.f, w.waited, w.queued, inFile-w.queued)
	w.waited, w.queued = w.queued, inFile
}

// ReadFrom fills the buffer straight from r, saving io.Copy's own buffer
// and one copy of every byte.
func (w *writer) ReadFrom(r io.Reader) (int64, error) {
	if w.done {
		return 0, errClosed
	}
	n, err := w.buf.ReadFrom(r)
	w.size += n
	w.writeback()
	return n, err
}

func (w *writer) Size() int64 { return w.size }

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
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.buf.Flush(); err != nil {
		return err
	}
	// Zeros at the end were never written: the length says they are there.
	if err := w.f.Truncate(w.size); err != nil {
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
