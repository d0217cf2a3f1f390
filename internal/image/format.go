package image

import (
	"context"

	"github.com/glint-image/glint/internal/diskformat"
)

// checkFormat applies the format inspector's verdict to data about to be
// stored for img: data that is unsafe, or not in the image's declared
// disk_format, is refused (ErrUnsupported, 415 as in Glance) with the
// inspector's reason. Otherwise it returns the virtual size to record, nil
// when the data does not tell.
//
// Glance Zed inspects nothing on upload and later releases only with a
// declared bare container; glint inspects every upload and import.
func (s *Service) checkFormat(ctx context.Context, img *Image, r diskformat.Report) (*int64, error) {
	disk, container := "", ""
	if img.DiskFormat != nil {
		disk = *img.DiskFormat
	}
	if img.ContainerFormat != nil {
		container = *img.ContainerFormat
	}
	virtual, err := r.Check(disk, container, s.opts.Formats)
	if err != nil {
		s.log.WarnContext(ctx, "image data refused by the format inspector", "image_id", img.ID,
			"disk_format", disk, "container_format", container, "detected", r.Format, "reason", err.Error())
		return nil, newError(ErrUnsupported, "%s", err.Error())
	}
	if r.Format != disk && container == "bare" {
		s.log.InfoContext(ctx, "image data accepted under another disk_format", "image_id", img.ID,
			"disk_format", disk, "detected", r.Format)
	}
	if virtual <= 0 {
		return nil, nil
	}
	return &virtual, nil
}
