package filesystem

import (
	"errors"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// allocated is the space f takes on disk, from its block count (st_blocks
// counts 512-byte units whatever the filesystem's block size), or -1 when
// the filesystem does not say.
func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return -1
}

// openRead returns f as the blob's reader, or, when the file has holes,
// a reader that hands out the holes' zeros from memory: it asks the
// filesystem where data is (SEEK_DATA, SEEK_HOLE) and reads only that.
// A dense file stays an *os.File, keeping sendfile for downloads.
func openRead(f *os.File, fi os.FileInfo, offset int64) (io.ReadCloser, error) {
	if a := allocated(fi); a < 0 || a >= fi.Size() {
		if offset > 0 {
			if _, err := f.Seek(offset, io.SeekStart); err != nil {
				return nil, err
			}
		}
		return f, nil
	}
	return &sparseReader{f: f, fd: int(f.Fd()), off: offset, size: fi.Size()}, nil
}

// sparseReader reads a file with holes. Committed blobs never change in
// place (a new Commit renames a new file over the name), so the map of
// holes it learns stays true for the open file.
type sparseReader struct {
	f         *os.File
	fd        int
	off, size int64
	// The segment around off: [off, holeEnd) is a hole, or [off, dataEnd)
	// is data; both behind off means the next segment is not known yet.
	holeEnd, dataEnd int64
}

func (r *sparseReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.off >= r.holeEnd && r.off >= r.dataEnd {
		r.locate()
	}
	if r.off < r.holeEnd {
		n := int(min(int64(len(p)), r.holeEnd-r.off))
		clear(p[:n])
		r.off += int64(n)
		return n, nil
	}
	n, err := r.f.ReadAt(p[:min(int64(len(p)), r.dataEnd-r.off)], r.off)
	r.off += int64(n)
	if errors.Is(err, io.EOF) {
		// The file is shorter than it was when opened; that is no blob.
		err = io.ErrUnexpectedEOF
		if n > 0 {
			err = nil
		}
	}
	return n, err
}

// locate finds the segment that starts at off. Where the filesystem
// cannot tell (no SEEK_DATA support, or any other error), the rest of
// the file is taken for data, which reads correctly, only not faster.
func (r *sparseReader) locate() {
	data, err := unix.Seek(r.fd, r.off, unix.SEEK_DATA)
	switch {
	case errors.Is(err, unix.ENXIO): // no data after off: a hole to the end
		r.holeEnd = r.size
		return
	case err != nil:
		r.dataEnd = r.size
		return
	case data > r.off:
		r.holeEnd = min(data, r.size)
		return
	}
	hole, err := unix.Seek(r.fd, r.off, unix.SEEK_HOLE)
	if err != nil || hole <= r.off {
		hole = r.size
	}
	r.dataEnd = min(hole, r.size)
}

func (r *sparseReader) Close() error { return r.f.Close() }
