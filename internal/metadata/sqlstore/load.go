package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"glint/internal/image"
)

// This file loads images: the rows of a query, then the properties and tags
// of the whole batch, and the scanning of one row.

// getImage loads one image, deleted or not. lock is appended to the SELECT
// of the row (Dialect.LockRow, or "").
func (s *Store) getImage(ctx context.Context, q querier, id, lock string) (*image.Image, error) {
	imgs, err := s.loadImages(ctx, q, `SELECT `+imageColumns+` FROM images WHERE id = $1`+lock, id)
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
func (s *Store) loadImages(ctx context.Context, q querier, query string, args ...any) ([]*image.Image, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	imgs := []*image.Image{}
	for rows.Next() {
		img, err := s.scanImage(rows)
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

// inChunk bounds how many ids go in one IN (...) list, well under the
// limits on bound parameters (32766 in SQLite, 65535 in PostgreSQL).
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

func (s *Store) scanImage(sc scanner) (*image.Image, error) {
	var (
		img                                  image.Image
		status, visibility                   string
		name, diskFormat, containerFormat    sql.NullString
		owner, checksum, hashAlgo, hashValue sql.NullString
		size, virtualSize                    sql.NullInt64
	)
	created, updated, deleted := s.timeColumn(), s.timeColumn(), s.timeColumn()
	err := sc.Scan(&img.ID, &name, &status, &visibility, &img.Protected, &img.Hidden,
		&img.MinDisk, &img.MinRAM, &diskFormat, &containerFormat, &owner, &size, &virtualSize,
		&checksum, &hashAlgo, &hashValue, &img.Location, created, updated, deleted)
	if err != nil {
		return nil, err
	}
	img.Name, img.DiskFormat, img.ContainerFormat = strPtr(name), strPtr(diskFormat), strPtr(containerFormat)
	img.Owner, img.Size, img.VirtualSize = strPtr(owner), intPtr(size), intPtr(virtualSize)
	img.Status, img.Visibility = image.Status(status), image.Visibility(visibility)
	img.Checksum, img.HashAlgo, img.HashValue = checksum.String, hashAlgo.String, hashValue.String
	img.CreatedAt, img.UpdatedAt = created.t, updated.t
	if deleted.valid {
		img.DeletedAt = &deleted.t
	}
	return &img, nil
}
