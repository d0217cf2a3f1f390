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
//
// It is also a syscall.Conn, as *os.File is, so that a copy to a socket
// still uses sendfile (where the kernel reads holes as zero pages, no disk
// involved): the file's offset is set to the reader's position when the
// socket asks, and read back before the reader goes on.
type sparseReader struct {
	f         *os.File
	fd        int
	off, size int64
	// The segment around off: [off, holeEnd) is a hole, or [off, dataEnd)
	// is data; both behind off means the next segment is not known yet.
	holeEnd, dataEnd int64
	// moved: the file's offset was handed out (SyscallConn) and is the
	// position now, not off.
	moved bool
}

var (
	_ syscall.Conn = (*sparseReader)(nil)
	_ io.Seeker    = (*sparseReader)(nil)
)

func (r *sparseReader) Read(p []byte) (int, error) {
	if err := r.sync(); err != nil {
		return 0, err
	}
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

// sync takes the position back from the file's offset after a sendfile.
func (r *sparseReader) sync() error {
	if !r.moved {
		return nil
	}
	pos, err := r.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	r.off, r.moved = pos, false
	r.holeEnd, r.dataEnd = 0, 0
	return nil
}

// SyscallConn hands the file to a socket's sendfile, from the reader's
// position.
func (r *sparseReader) SyscallConn() (syscall.RawConn, error) {
	if err := r.sync(); err != nil {
		return nil, err
	}
	if _, err := r.f.Seek(r.off, io.SeekStart); err != nil {
		return nil, err
	}
	r.moved = true
	return r.f.SyscallConn()
}

// Seek moves the position (the metrics count a download's bytes by it).
func (r *sparseReader) Seek(offset int64, whence int) (int64, error) {
	if err := r.sync(); err != nil {
		return 0, err
	}
	switch whence {
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	}
	if offset < 0 {
		return 0, errors.New("filesystem: seek to a negative position")
	}
	r.off = offset
	r.holeEnd, r.dataEnd = 0, 0
	return offset, nil
}

func (r *sparseReader) Close() error { return r.f.Close() }
