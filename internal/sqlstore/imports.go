package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// LockImport sets the import lock property of a live image, unless set.
func (s *Store) LockImport(ctx context.Context, id, taskID string, at time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		img, err := s.getImage(ctx, tx, id, s.d.LockRow)
		if err != nil {
			return err
		}
		if img.IsDeleted() {
			return notFound(id)
		}
		if _, locked := img.Properties[image.ImportLock]; locked {
			return &image.Error{Kind: image.ErrConflict,
				Msg: fmt.Sprintf("New operation on image '%s' is not permitted as prior operation is still in progress", id)}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE images SET updated_at = $1 WHERE id = $2`,
			s.d.BindTime(later(at, img.UpdatedAt)), id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, insertProperty, id, image.ImportLock, taskID)
		return err
	})
}

// later is at, or just after prev when the clock has not moved past it:
// updated_at is the version PATCHes are conditional on, so every write
// must change it.
func later(at, prev time.Time) time.Time {
	if at.Truncate(time.Microsecond).After(prev) {
		return at
	}
	return prev.Add(time.Microsecond)
}

// UpdateImport applies one import step to an image record, checking the
// lock and status on the row it locks, so concurrent steps (and PATCHes,
// which are conditional on updated_at) serialise.
func (s *Store) UpdateImport(ctx context.Context, id, taskID string, u image.ImportUpdate, at time.Time) error {
	return s.write(ctx, func(tx *Tx) error { return s.updateImport(ctx, tx, id, taskID, u, at) })
}

func (s *Store) updateImport(ctx context.Context, tx *Tx, id, taskID string, u image.ImportUpdate, at time.Time) error {
	img, err := s.getImage(ctx, tx, id, s.d.LockRow)
	if err != nil {
		return err
	}
	if img.IsDeleted() {
		return notFound(id)
	}
	if taskID != "" && img.Properties[image.ImportLock] != taskID {
		return &image.Error{Kind: image.ErrConflict,
			Msg: fmt.Sprintf("Image %s is not locked by import task %s", id, taskID)}
	}
	if len(u.IfStatus) > 0 && !slices.Contains(u.IfStatus, img.Status) {
		return &image.Error{Kind: image.ErrConflict,
			Msg: fmt.Sprintf("Image %s is %s, not %v", id, img.Status, u.IfStatus)}
	}
	if u.SetLocations != nil && img.Location != u.IfLocation {
		return &image.Error{Kind: image.ErrConflict,
			Msg: fmt.Sprintf("The locations of image %s changed meanwhile", id)}
	}
	applyImportUpdate(img, u)
	_, err = tx.ExecContext(ctx, `UPDATE images SET status = $1, size = $2, virtual_size = $3, checksum = $4,
		os_hash_algo = $5, os_hash_value = $6, disk_format = $7, container_format = $8, location = $9,
		updated_at = $10 WHERE id = $11`,
		string(img.Status), nullInt(img.Size), nullInt(img.VirtualSize), nullIfEmpty(img.Checksum),
		nullIfEmpty(img.HashAlgo), nullIfEmpty(img.HashValue), nullString(img.DiskFormat),
		nullString(img.ContainerFormat), img.Location, s.d.BindTime(later(at, img.UpdatedAt)), id)
	if err != nil {
		return err
	}
	for _, name := range u.DelProps {
		if _, ok := u.SetProps[name]; ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = $1 AND name = $2`, id, name); err != nil {
			return err
		}
	}
	for name, value := range u.SetProps {
		if _, err := tx.ExecContext(ctx, upsertProperty, id, name, value); err != nil {
			return err
		}
	}
	return nil
}

// applyImportUpdate changes the columns of img that u names.
func applyImportUpdate(img *image.Image, u image.ImportUpdate) {
	if u.Status != "" {
		img.Status = u.Status
	}
	if u.Status == image.StatusQueued {
		img.Size, img.VirtualSize, img.Checksum, img.HashAlgo, img.HashValue, img.Location = nil, nil, "", "", "", ""
		return
	}
	if u.Size != nil {
		img.Size = u.Size
	}
	if u.VirtualSize != nil {
		img.VirtualSize = u.VirtualSize
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&img.Checksum, u.Checksum}, {&img.HashAlgo, u.HashAlgo}, {&img.HashValue, u.HashValue}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if u.DiskFormat != nil {
		img.DiskFormat = u.DiskFormat
	}
	if u.ContainerFormat != nil {
		img.ContainerFormat = u.ContainerFormat
	}
	if u.SetLocations != nil {
		img.Location = image.JoinLocations(u.SetLocations)
		return
	}
	locs := img.Locations()
	for _, l := range u.AddLocations {
		if !slices.Contains(locs, l) {
			locs = append(locs, l)
		}
	}
	locs = slices.DeleteFunc(locs, func(l string) bool { return slices.Contains(u.RemoveLocations, l) })
	img.Location = image.JoinLocations(locs)
}

// Imports lists live images being staged or imported, or holding an
// import lock, oldest first.
func (s *Store) Imports(ctx context.Context) ([]*image.Image, error) {
	return s.queryImages(ctx, s.selectImages+` FROM images
		WHERE deleted_at IS NULL AND (status IN ($1, $2) OR EXISTS (SELECT 1 FROM image_properties p
			WHERE p.image_id = images.id AND p.name = $3))
		ORDER BY created_at, id`, string(image.StatusUploading), string(image.StatusImporting), image.ImportLock)
}
