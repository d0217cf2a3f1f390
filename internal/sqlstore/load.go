package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/glint-image/glint/internal/image"
)

// This file loads images. Every image query selects the image columns
// and, packed into two more text columns, its properties and tags, so one
// row carries a whole image: no second and third query per page, and no
// row per property for the driver to step through.

// Packed sets: each element is its length in bytes, a colon and its bytes
// ("4:arch6:x86_64" is one property arch=x86_64; "2:t13:new" the tags t1
// and new). Lengths make any byte a safe part of a value.

// setColumns returns the two packed-set subqueries for the dialect.
func setColumns(d Dialect) string {
	element := func(col string) string { return fmt.Sprintf(d.ByteLength, col) + " || ':' || " + col }
	// No ORDER BY in the aggregates: it costs a sort per image, and the
	// order is restored where it matters (tags, in unpackTags).
	props := fmt.Sprintf(d.Aggregate, element("name")+" || "+element("value"))
	tags := fmt.Sprintf(d.Aggregate, element("value"))
	return `, (SELECT ` + props + ` FROM image_properties WHERE image_id = images.id)` +
		`, (SELECT ` + tags + ` FROM image_tags WHERE image_id = images.id)`
}

// getImage loads one image, deleted or not. lock is appended to the SELECT
// of the row (Dialect.LockRow, or "").
func (s *Store) getImage(ctx context.Context, q querier, id, lock string) (*image.Image, error) {
	imgs, err := s.loadImages(ctx, q, s.selectImages+` FROM images WHERE id = $1`+lock, id)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, notFound(id)
	}
	return imgs[0], nil
}

// loadImages runs a query that starts with s.selectImages.
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
	return imgs, nil
}

// unpack calls fn with each element of a packed set.
func unpack(packed string, fn func(string)) error {
	for packed != "" {
		colon := strings.IndexByte(packed, ':')
		if colon < 0 {
			return fmt.Errorf("corrupt packed set %q", packed)
		}
		n, err := strconv.Atoi(packed[:colon])
		if err != nil || n < 0 || colon+1+n > len(packed) {
			return fmt.Errorf("corrupt packed set %q", packed)
		}
		fn(packed[colon+1 : colon+1+n])
		packed = packed[colon+1+n:]
	}
	return nil
}

func unpackProperties(packed string) (map[string]string, error) {
	props := map[string]string{}
	var name string
	odd := false
	err := unpack(packed, func(e string) {
		if !odd {
			name = e
		} else {
			props[name] = e
		}
		odd = !odd
	})
	if err == nil && odd {
		err = fmt.Errorf("corrupt packed properties %q", packed)
	}
	return props, err
}

// unpackTags returns the tags sorted, as the store contract has them.
func unpackTags(packed string) ([]string, error) {
	tags := []string{}
	err := unpack(packed, func(e string) { tags = append(tags, e) })
	slices.Sort(tags)
	return tags, err
}

type scanner interface{ Scan(dest ...any) error }

func (s *Store) scanImage(sc scanner) (*image.Image, error) {
	var (
		img                                  image.Image
		status, visibility                   string
		name, diskFormat, containerFormat    sql.NullString
		owner, checksum, hashAlgo, hashValue sql.NullString
		size, virtualSize                    sql.NullInt64
		props, tags                          sql.NullString
	)
	created, updated, deleted := s.timeColumn(), s.timeColumn(), s.timeColumn()
	err := sc.Scan(&img.ID, &name, &status, &visibility, &img.Protected, &img.Hidden,
		&img.MinDisk, &img.MinRAM, &diskFormat, &containerFormat, &owner, &size, &virtualSize,
		&checksum, &hashAlgo, &hashValue, &img.Location, created, updated, deleted, &props, &tags)
	if err != nil {
		return nil, err
	}
	if img.Properties, err = unpackProperties(props.String); err != nil {
		return nil, fmt.Errorf("%s: image %s: %w", s.d.Name, img.ID, err)
	}
	if img.Tags, err = unpackTags(tags.String); err != nil {
		return nil, fmt.Errorf("%s: image %s: %w", s.d.Name, img.ID, err)
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
