package filesystem

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing [off, off+n) of f to
// disk now, and waits until [prev, off) has reached it. A large upload
// then trickles to disk while it streams, with a bounded amount of dirty
// page cache, instead of leaving every byte for the fsync at the end,
// which would otherwise take seconds after the last byte arrived.
// Errors are ignored: this only moves work earlier, and Commit's fsync
// still decides.
func startWriteback(f *os.File, prev, off, n int64) {
	fd := int(f.Fd())
	if off > prev {
		unix.SyncFileRange(fd, prev, off-prev, unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
	}
	unix.SyncFileRange(fd, off, n, unix.SYNC_FILE_RANGE_WRITE)
}
