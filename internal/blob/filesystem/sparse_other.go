//go:build !linux

package filesystem

import (
	"io"
	"os"
)

// allocated: this platform's block counts are not read; -1 says unknown.
func allocated(os.FileInfo) int64 { return -1 }

// openRead returns the file positioned at offset: without SEEK_DATA the
// holes are read through the filesystem like any data.
func openRead(f *os.File, _ os.FileInfo, offset int64) (io.ReadCloser, error) {
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			return nil, err
		}
	}
	return f, nil
}
