package s3

import (
	"context"

	"github.com/minio/minio-go/v7"

	"github.com/glint-image/glint/internal/blob"
)

var _ blob.UsageReporter = (*Driver)(nil)

// Usage lists the objects under the prefix. S3 stores what it is given,
// zeros included, so their physical size is their size (as S3 bills it).
func (d *Driver) Usage(ctx context.Context) (blob.Usage, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var u blob.Usage
	for obj := range d.core.Client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: d.prefix, Recursive: true}) {
		if obj.Err != nil {
			return blob.Usage{}, d.wrap("usage", d.prefix, obj.Err)
		}
		u.Blobs++
		u.Bytes += obj.Size
	}
	u.Physical = u.Bytes
	return u, nil
}
