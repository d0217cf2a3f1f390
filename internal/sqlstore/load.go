package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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
	r := s.newImageRow()
	for rows.Next() {
		img, err := r.scan(rows)
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

// imageRow holds the scan destinations of an image query's columns. One
// is made per query and reused for each of its rows: destinations passed
// to Scan escape to the heap, and a page of 1000 images would otherwise
// allocate some twenty of them per row.
type imageRow struct {
	s                                    *Store
	id, status, visibility, location     string
	protected, hidden                    bool
	minDisk, minRAM                      int64
	name, diskFormat, containerFormat    sql.NullString
	owner, checksum, hashAlgo, hashValue sql.NullString
	size, virtualSize                    sql.NullInt64
	props, tags                          sql.NullString
	created, updated, deleted            timeColumn
	rev                                  int64 // images.revision (migration 00028)
	dest                                 []any
}

func (s *Store) newImageRow() *imageRow {
	r := &imageRow{s: s}
	r.created.d, r.updated.d, r.deleted.d = &s.d, &s.d, &s.d
	r.dest = []any{&r.id, &r.name, &r.status, &r.visibility, &r.protected, &r.hidden,
		&r.minDisk, &r.minRAM, &r.diskFormat, &r.containerFormat, &r.owner, &r.size, &r.virtualSize,
		&r.checksum, &r.hashAlgo, &r.hashValue, &r.location, &r.created, &r.updated, &r.deleted, &r.rev, &r.props, &r.tags}
	return r
}

// loadedImage is an image and the values its optional fields point to,
// allocated together: one allocation per image instead of one per field.
type loadedImage struct {
	img                                      image.Image
	name, diskFormat, containerFormat, owner string
	size, virtualSize                        int64
	deletedAt                                time.Time
}

// scan reads the row sc is on into a new image.
func (r *imageRow) scan(sc scanner) (*image.Image, error) {
	if err := sc.Scan(r.dest...); err != nil {
		return nil, err
	}
	l := &loadedImage{}
	img := &l.img
	var err error
	if img.Properties, err = unpackProperties(r.props.String); err != nil {
		return nil, fmt.Errorf("%s: image %s: %w", r.s.d.Name, r.id, err)
	}
	if img.Tags, err = unpackTags(r.tags.String); err != nil {
		return nil, fmt.Errorf("%s: image %s: %w", r.s.d.Name, r.id, err)
	}
	img.ID, img.Location = r.id, r.location
	img.Protected, img.Hidden, img.MinDisk, img.MinRAM = r.protected, r.hidden, r.minDisk, r.minRAM
	img.Name = optString(r.name, &l.name)
	img.DiskFormat = optString(r.diskFormat, &l.diskFormat)
	img.ContainerFormat = optString(r.containerFormat, &l.containerFormat)
	img.Owner = optString(r.owner, &l.owner)
	img.Size = optInt(r.size, &l.size)
	img.VirtualSize = optInt(r.virtualSize, &l.virtualSize)
	img.Status, img.Visibility = image.Status(r.status), image.Visibility(r.visibility)
	img.Checksum, img.HashAlgo, img.HashValue = r.checksum.String, r.hashAlgo.String, r.hashValue.String
	img.CreatedAt, img.UpdatedAt = r.created.t, r.updated.t
	if r.deleted.valid {
		l.deletedAt = r.deleted.t
		img.DeletedAt = &l.deletedAt
	}
	return img, nil
}

// optString stores v in *into and returns into, or nil for NULL.
func optString(v sql.NullString, into *string) *string {
	if !v.Valid {
		return nil
	}
	*into = v.String
	return into
}

func optInt(v sql.NullInt64, into *int64) *int64 {
	if !v.Valid {
		return nil
	}
	*into = v.Int64
	return into
}
