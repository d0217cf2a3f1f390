package filesystem

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/glint-image/glint/internal/blob"
)

var _ blob.UsageReporter = (*Driver)(nil)

// Usage walks the committed blobs: their sizes, and the disk blocks they
// take (less than their sizes where zeros were left as holes). Temp files
// of open writers are not blobs and are left out.
func (d *Driver) Usage(ctx context.Context) (blob.Usage, error) {
	var u blob.Usage
	err := filepath.WalkDir(d.blobs, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() {
			if path == d.tmp {
				return filepath.SkipDir // the flat layout's temp files
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			return nil // removed meanwhile
		}
		u.Blobs++
		u.Bytes += fi.Size()
		if a := allocated(fi); a >= 0 && u.Physical >= 0 {
			u.Physical += a
		} else {
			u.Physical = -1
		}
		return nil
	})
	if err != nil {
		return blob.Usage{}, fmt.Errorf("filesystem: usage: %w", err)
	}
	return u, nil
}
