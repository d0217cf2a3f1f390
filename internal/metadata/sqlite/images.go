package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"glint/internal/image"
)

// imageColumns is the column list every image query selects, in the order
// scanImage reads them.
const imageColumns = `id, name, status, visibility, protected, os_hidden, min_disk, min_ram,
	disk_format, container_format, owner, size, virtual_size, checksum, os_hash_algo,
	os_hash_value, location, created_at, updated_at, deleted_at`

// CreateImage inserts img with its properties and tags.
func (s *Store) CreateImage(ctx context.Context, img *image.Image) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
			img.ID, nullString(img.Name), string(img.Status), string(img.Visibility),
			img.Protected, img.Hidden, img.MinDisk, img.MinRAM,
			nullString(img.DiskFormat), nullString(img.ContainerFormat), nullString(img.Owner),
			nullInt(img.Size), nullInt(img.VirtualSize), nullIfEmpty(img.Checksum),
			nullIfEmpty(img.HashAlgo), nullIfEmpty(img.HashValue), img.Location,
			formatTime(img.CreatedAt), formatTime(img.UpdatedAt), nullTime(img.DeletedAt))
		if err != nil {
			return constraintErr(err, "image "+img.ID)
		}
		return insertSets(ctx, tx, img.ID, img.Properties, img.Tags)
	})
}

// GetImage returns the image, deleted or not.
func (s *Store) GetImage(ctx context.Context, id string) (*image.Image, error) {
	var img *image.Image
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		img, err = getImage(ctx, tx, id)
		return err
	})
	return img, err
}

// SaveImage writes the client-mutable attributes, and replaces properties
// and tags, if the image is still in status ifStatus.
func (s *Store) SaveImage(ctx context.Context, img *image.Image, ifStatus image.Status) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET name = $1, visibility = $2,
			protected = $3, os_hidden = $4, min_disk = $5, min_ram = $6, disk_format = $7,
			container_format = $8, owner = $9, updated_at = $10
			WHERE id = $11 AND status = $12 AND deleted_at IS NULL`,
			nullString(img.Name), string(img.Visibility), img.Protected, img.Hidden,
			img.MinDisk, img.MinRAM, nullString(img.DiskFormat), nullString(img.ContainerFormat),
			nullString(img.Owner), formatTime(img.UpdatedAt), img.ID, string(ifStatus))
		if err != nil {
			return err
		}
		if err := changedOne(ctx, tx, res, img.ID); err != nil {
			return err
		}
		for _, table := range []string{"image_properties", "image_tags"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE image_id = $1`, img.ID); err != nil {
				return err
			}
		}
		return insertSets(ctx, tx, img.ID, img.Properties, img.Tags)
	})
}

// SetStatus moves an image from one status to another.
func (s *Store) SetStatus(ctx context.Context, id string, from, to image.Status, at time.Time) error {
	set := `status = $1, updated_at = $2`
	if to == image.StatusQueued {
		// Back to queued means the upload did not happen: forget its data.
		set += `, size = NULL, virtual_size = NULL, checksum = NULL, os_hash_algo = NULL,
			os_hash_value = NULL, location = ''`
	}
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET `+set+`
			WHERE id = $3 AND status = $4 AND deleted_at IS NULL`,
			string(to), formatTime(at), id, string(from))
		if err != nil {
			return err
		}
		return changedOne(ctx, tx, res, id)
	})
}

// FinishUpload records the uploaded data and activates a saving image.
func (s *Store) FinishUpload(ctx context.Context, id string, r image.UploadResult, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET status = $1, size = $2, checksum = $3,
			os_hash_algo = $4, os_hash_value = $5, location = $6, updated_at = $7
			WHERE id = $8 AND status = $9 AND deleted_at IS NULL`,
			string(image.StatusActive), r.Size, nullIfEmpty(r.Checksum), nullIfEmpty(r.HashAlgo),
			nullIfEmpty(r.HashValue), r.Location, formatTime(at), id, string(image.StatusSaving))
		if err != nil {
			return err
		}
		return changedOne(ctx, tx, res, id)
	})
}

// DeleteImage soft-deletes a live image and returns it as it was.
func (s *Store) DeleteImage(ctx context.Context, id string, at time.Time) (*image.Image, error) {
	var prior *image.Image
	err := s.write(ctx, func(tx *sql.Tx) error {
		img, err := getImage(ctx, tx, id)
		if err != nil {
			return err
		}
		if img.IsDeleted() {
			return notFound(id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE images SET status = $1, deleted_at = $2, updated_at = $2
			WHERE id = $3`, string(image.StatusDeleted), formatTime(at), id)
		prior = img
		return err
	})
	if err != nil {
		return nil, err
	}
	return prior, nil
}

// AddTag adds a tag; adding one already there only touches updated_at.
func (s *Store) AddTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := touchLive(ctx, tx, id, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, id, tag)
		return err
	})
}

// RemoveTag removes a tag the image carries.
func (s *Store) RemoveTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		if err := touchLive(ctx, tx, id, at); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = $1 AND value = $2`, id, tag)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			// Returning an error rolls back the updated_at touch too.
			return errors.Join(err, &image.Error{Kind: image.ErrNotFound,
				Msg: fmt.Sprintf("Tag %s not found on image %s", tag, id)})
		}
		return nil
	})
}

// Stranded lists live images left in saving, oldest first.
func (s *Store) Stranded(ctx context.Context) ([]*image.Image, error) {
	return s.queryImages(ctx, `SELECT `+imageColumns+` FROM images
		WHERE status = $1 AND deleted_at IS NULL ORDER BY created_at, id`, string(image.StatusSaving))
}

// DeletedWithData lists deleted images whose data may still exist.
func (s *Store) DeletedWithData(ctx context.Context) ([]*image.Image, error) {
	return s.queryImages(ctx, `SELECT `+imageColumns+` FROM images
		WHERE deleted_at IS NOT NULL AND location <> '' ORDER BY deleted_at, id`)
}

// ClearLocation forgets where an image's data was.
func (s *Store) ClearLocation(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET location = '' WHERE id = $1`, id)
		if err != nil {
			return err
		}
		return changedOne(ctx, tx, res, id)
	})
}

func (s *Store) queryImages(ctx context.Context, query string, args ...any) ([]*image.Image, error) {
	var imgs []*image.Image
	err := s.read(ctx, func(tx *sql.Tx) error {
		var err error
		imgs, err = loadImages(ctx, tx, query, args...)
		return err
	})
	return imgs, err
}

func notFound(id string) error {
	return &image.Error{Kind: image.ErrNotFound, Msg: fmt.Sprintf("No image found with ID %s", id)}
}

// changedOne turns a conditional write that matched no row into the
// contract's error: ErrNotFound if the image does not exist at all,
// ErrConflict if it exists but has moved on (other status, or deleted).
func changedOne(ctx context.Context, q querier, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	var one int
	err = q.QueryRowContext(ctx, `SELECT 1 FROM images WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(id)
	}
	if err != nil {
		return err
	}
	return &image.Error{Kind: image.ErrConflict,
		Msg: fmt.Sprintf("Image %s was changed by another request; retry", id)}
}

// touchLive sets updated_at on an image that is not deleted, or reports it
// missing.
func touchLive(ctx context.Context, tx *sql.Tx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE images SET updated_at = $1
		WHERE id = $2 AND deleted_at IS NULL`, formatTime(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, notFound(id))
	}
	return nil
}

// insertSets adds properties and tags to an image that has none. A tag
// given twice is stored once.
func insertSets(ctx context.Context, tx *sql.Tx, id string, props map[string]string, tags []string) error {
	for k, v := range props {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value)
			VALUES ($1, $2, $3)`, id, k, v); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value) VALUES ($1, $2)
			ON CONFLICT DO NOTHING`, id, t); err != nil {
			return err
		}
	}
	return nil
}

func getImage(ctx context.Context, q querier, id string) (*image.Image, error) {
	imgs, err := loadImages(ctx, q, `SELECT `+imageColumns+` FROM images WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, notFound(id)
	}
	return imgs[0], nil
}

// loadImages runs a query selecting imageColumns and completes each image
// with its properties and tags, in two more queries for the whole batch.
func loadImages(ctx context.Context, q querier, query string, args ...any) ([]*image.Image, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	imgs := []*image.Image{}
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		imgs = append(imgs, img)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return nil, err
	}
	if err := attachSets(ctx, q, imgs); err != nil {
		return nil, err
	}
	return imgs, nil
}

// inChunk bounds how many ids go in one IN (...) list, well under SQLite's
// limit on bound parameters.
const inChunk = 500

// attachSets fills Properties and Tags of imgs. Tags come back sorted.
func attachSets(ctx context.Context, q querier, imgs []*image.Image) error {
	byID := make(map[string]*image.Image, len(imgs))
	ids := make([]any, 0, len(imgs))
	for _, img := range imgs {
		img.Properties = map[string]string{}
		img.Tags = []string{}
		byID[img.ID] = img
		ids = append(ids, img.ID)
	}
	for start := 0; start < len(ids); start += inChunk {
		chunk := ids[start:min(start+inChunk, len(ids))]
		in := placeholders(1, len(chunk))
		err := eachRow(ctx, q, `SELECT image_id, name, value FROM image_properties
			WHERE image_id IN (`+in+`)`, chunk, func(id, name, value string) {
			byID[id].Properties[name] = value
		})
		if err != nil {
			return err
		}
		// Tags have two columns; the constant third fits eachRow's shape.
		err = eachRow(ctx, q, `SELECT image_id, value, '' FROM image_tags
			WHERE image_id IN (`+in+`) ORDER BY image_id, value`, chunk, func(id, value, _ string) {
			byID[id].Tags = append(byID[id].Tags, value)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// eachRow calls fn with the three text columns of every row of query.
func eachRow(ctx context.Context, q querier, query string, args []any, fn func(a, b, c string)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b, c string
		if err := rows.Scan(&a, &b, &c); err != nil {
			return err
		}
		fn(a, b, c)
	}
	return rows.Err()
}

// placeholders returns "$from, $from+1, ..." for n parameters.
func placeholders(from, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "$%d", from+i)
	}
	return b.String()
}

type scanner interface{ Scan(dest ...any) error }

func scanImage(sc scanner) (*image.Image, error) {
	var (
		img                                  image.Image
		status, visibility, created, updated string
		name, diskFormat, containerFormat    sql.NullString
		owner, checksum, hashAlgo, hashValue sql.NullString
		deleted                              sql.NullString
		size, virtualSize                    sql.NullInt64
	)
	err := sc.Scan(&img.ID, &name, &status, &visibility, &img.Protected, &img.Hidden,
		&img.MinDisk, &img.MinRAM, &diskFormat, &containerFormat, &owner, &size, &virtualSize,
		&checksum, &hashAlgo, &hashValue, &img.Location, &created, &updated, &deleted)
	if err != nil {
		return nil, err
	}
	img.Name, img.DiskFormat, img.ContainerFormat = strPtr(name), strPtr(diskFormat), strPtr(containerFormat)
	img.Owner, img.Size, img.VirtualSize = strPtr(owner), intPtr(size), intPtr(virtualSize)
	img.Status, img.Visibility = image.Status(status), image.Visibility(visibility)
	img.Checksum, img.HashAlgo, img.HashValue = checksum.String, hashAlgo.String, hashValue.String
	if img.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if img.UpdatedAt, err = parseTime(updated); err != nil {
		return nil, err
	}
	if deleted.Valid {
		t, err := parseTime(deleted.String)
		if err != nil {
			return nil, err
		}
		img.DeletedAt = &t
	}
	return &img, nil
}
