package filesystem

import (
	"bytes"
	"errors"
	"io"
	"os"
)

// bufferSize batches the small writes an HTTP body tends to produce into
// fewer syscalls; io.Copy's 32 KiB chunks pass through in 64 KiB writes.
const bufferSize = 64 << 10

// holeBlock is the unit of sparseness: a block of this many zero bytes is
// not written and stays a hole. 4 KiB is the block size of ext4, XFS and
// btrfs on the usual page size, so every zero block the filesystem could
// leave unallocated is found, and no smaller run is skipped only to cost
// a partial block anyway.
const holeBlock = 4 << 10

// zeroBlock is compared against: bytes.Equal is the runtime's vectorised
// memequal, far faster than a byte loop, and fails at the first byte of
// real data.
var zeroBlock [holeBlock]byte

// holeWriter is a buffered writer (bufio.Writer's Write, Flush, Buffered
// and ReadFrom) that writes a file from its current position on, seeking
// over every block of zeros instead of writing it. It only ever writes
// past the file's end, where skipped bytes read as zeros once the file's
// length is set (the writer's Commit truncates to its size). Buffers go
// out whole, so from a block-aligned start every block is aligned in the
// file.
type holeWriter struct {
	f   *os.File
	buf []byte
	err error // sticky: a failed write leaves the position unknown
}

func newHoleWriter(f *os.File) *holeWriter {
	return &holeWriter{f: f, buf: make([]byte, 0, bufferSize)}
}

// Buffered is the number of bytes held, not yet in the file.
func (h *holeWriter) Buffered() int { return len(h.buf) }

func (h *holeWriter) Write(p []byte) (int, error) {
	if h.err != nil {
		return 0, h.err
	}
	n := 0
	for len(p) > 0 {
		if len(h.buf) == 0 && len(p) >= bufferSize {
			// Whole buffers' worth go to the file without a copy.
			k := len(p) - len(p)%bufferSize
			if err := h.put(p[:k]); err != nil {
				return n, err
			}
			p, n = p[k:], n+k
			continue
		}
		k := copy(h.buf[len(h.buf):cap(h.buf)], p)
		h.buf = h.buf[:len(h.buf)+k]
		p, n = p[k:], n+k
		if len(h.buf) == cap(h.buf) {
			if err := h.Flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom fills the buffer straight from r until EOF.
func (h *holeWriter) ReadFrom(r io.Reader) (int64, error) {
	if h.err != nil {
		return 0, h.err
	}
	var total int64
	for {
		n, err := r.Read(h.buf[len(h.buf):cap(h.buf)])
		h.buf = h.buf[:len(h.buf)+n]
		total += int64(n)
		if len(h.buf) == cap(h.buf) {
			if ferr := h.Flush(); ferr != nil {
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

// Flush writes out what is buffered.
func (h *holeWriter) Flush() error {
	if h.err != nil {
		return h.err
	}
	if err := h.put(h.buf); err != nil {
		return err
	}
	h.buf = h.buf[:0]
	return nil
}

// put writes p at the file's position, seeking over its zero blocks and
// writing each run of other blocks in one call.
func (h *holeWriter) put(p []byte) error {
	for start := 0; start < len(p); {
		end := start
		for end < len(p) && isZero(p[end:min(end+holeBlock, len(p))]) {
			end += holeBlock
		}
		if end = min(end, len(p)); end > start {
			if _, err := h.f.Seek(int64(end-start), io.SeekCurrent); err != nil {
				h.err = err
				return err
			}
			start = end
		}
		for end < len(p) && !isZero(p[end:min(end+holeBlock, len(p))]) {
			end += holeBlock
		}
		if end = min(end, len(p)); end > start {
			if _, err := h.f.Write(p[start:end]); err != nil {
				h.err = err
				return err
			}
			start = end
		}
	}
	return nil
}

func isZero(p []byte) bool { return bytes.Equal(p, zeroBlock[:len(p)]) }
