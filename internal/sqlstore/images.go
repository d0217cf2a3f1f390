package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// imageColumns is the column list every image query selects, in the order
// imageRow scans them.
const imageColumns = `id, name, status, visibility, protected, os_hidden, min_disk, min_ram,
	disk_format, container_format, owner, size, virtual_size, checksum, os_hash_algo,
	os_hash_value, location, created_at, updated_at, deleted_at`

// CreateImage inserts img with its properties and tags.
func (s *Store) CreateImage(ctx context.Context, img *image.Image) error {
	err := s.write(ctx, func(tx *Tx) error {
		if err := insertImage(ctx, tx, s, img); err != nil {
			return err
		}
		tx.wrote(img)
		return nil
	})
	if err == nil {
		s.created()
	}
	return err
}

func insertImage(ctx context.Context, tx *Tx, s *Store, img *image.Image) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)`,
		img.ID, nullString(img.Name), string(img.Status), string(img.Visibility),
		img.Protected, img.Hidden, img.MinDisk, img.MinRAM,
		nullString(img.DiskFormat), nullString(img.ContainerFormat), nullString(img.Owner),
		nullInt(img.Size), nullInt(img.VirtualSize), nullIfEmpty(img.Checksum),
		nullIfEmpty(img.HashAlgo), nullIfEmpty(img.HashValue), img.Location,
		s.d.BindTime(img.CreatedAt), s.d.BindTime(img.UpdatedAt), s.nullTime(img.DeletedAt))
	if err != nil {
		return s.constraintErr(err, "image "+img.ID)
	}
	return insertSets(ctx, tx, img.ID, img.Properties, img.Tags)
}

// GetImage returns the image, deleted or not. With the record cache
// (records.go) it first reads only the image's revision and, when the
// cache holds the record at that revision, answers a copy of it: the
// full query's correlated subqueries of properties and tags, and its
// two dozen columns (which the SQLite driver names anew on every query),
// cost several times what the one-column probe does. A miss loads the
// record as before and keeps it; an image the cache holds no record of
// at all is loaded straight away, with no probe first (the first show of
// each image after a start). With the database's stamp (SetStamp) it
// asks nothing at all when the cache holds the record from a query made
// since the last commit to the database, by any process. The image
// returned is the caller's own to change.
func (s *Store) GetImage(ctx context.Context, id string) (_ *image.Image, err error) {
	defer s.markUnavailable(&err)
	q := pooled{s.r, s}
	if s.records == nil {
		return s.getImage(ctx, q, id, "")
	}
	// The stamp is read before any query: a commit between the two
	// changes the stamp, so the record is never taken as current at a
	// stamp older than the snapshot it was read in.
	st := s.readStamp()
	if st != (Stamp{}) {
		if img := s.records.current(id, st); img != nil {
			return cloneImage(img), nil
		}
	}
	if s.records.has(id) {
		rev, found, err := s.revision(ctx, q, id)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, notFound(id)
		}
		if img := s.records.get(id, rev); img != nil {
			if st != (Stamp{}) {
				s.records.confirm(id, rev, st)
			}
			return cloneImage(img), nil
		}
	}
	img, rev, err := s.loadImage(ctx, q, id)
	if err != nil {
		return nil, err
	}
	// One statement is one snapshot, so the record is the database's at
	// the revision it was read with, whatever the probe read.
	s.records.put(cloneImage(img), rev, st)
	return img, nil
}

// revision reads an image's revision (migration 00028).
func (s *Store) revision(ctx context.Context, q querier, id string) (rev int64, found bool, err error) {
	rows, err := q.QueryContext(ctx, `SELECT revision FROM images WHERE id = $1`, id)
	if err != nil {
		return 0, false, err
	}
	if found = rows.Next(); found {
		err = rows.Scan(&rev)
	}
	return rev, found, errors.Join(err, rows.Err(), rows.Close())
}

// loadImage loads one image, deleted or not, with the revision its row
// was read at.
func (s *Store) loadImage(ctx context.Context, q querier, id string) (*image.Image, int64, error) {
	rows, err := q.QueryContext(ctx, s.selectImages+` FROM images WHERE id = $1`, id)
	if err != nil {
		return nil, 0, err
	}
	r := s.newImageRow()
	var img *image.Image
	if rows.Next() {
		img, err = r.scan(rows)
	}
	if err = errors.Join(err, rows.Err(), rows.Close()); err != nil {
		return nil, 0, err
	}
	if img == nil {
		return nil, 0, notFound(id)
	}
	return img, r.rev, nil
}

// cachedCurrent returns, inside a write transaction, the cached record of
// the image at the revision the transaction reads, locked against other
// writers (Dialect.LockRow), or nil when the cache holds no record at that
// revision (or the image is missing). Such a record is what the database
// holds, so a save can tell what it changes without reading the row and
// its sets: one narrow query instead of three. The caller must not
// modify it.
func (s *Store) cachedCurrent(ctx context.Context, tx *Tx, id string) (*image.Image, error) {
	if s.records == nil {
		return nil, nil
	}
	var rev int64
	err := tx.QueryRowContext(ctx, `SELECT revision FROM images WHERE id = $1`+s.d.LockRow, id).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.records.get(id, rev), nil
}

// cacheSaved keeps, once the transaction commits, the record a save
// leaves, so that the next GetImage of the image (the next PATCH of it)
// is answered from the cache instead of loading it. cur is the record the
// save started from, exact at the revision the transaction read under
// its lock (cachedCurrent), so the record left is cur with what SaveImage
// wrote: the client-mutable columns and updated_at as img has them, and
// img's properties and tags, as a load would return them (times through
// the database's precision, tags sorted and without repeats, empty sets
// empty and not nil). The revision is read after the writes, in the same
// transaction; the triggers change nothing else of the image.
func (s *Store) cacheSaved(ctx context.Context, tx *Tx, cur, img *image.Image) error {
	rev, found, err := s.revision(ctx, tx, img.ID)
	if err != nil || !found {
		return err
	}
	updated, err := s.d.ScanTime(s.d.BindTime(img.UpdatedAt))
	if err != nil {
		return err
	}
	next := *cur
	next.Name, next.DiskFormat, next.ContainerFormat, next.Owner = img.Name, img.DiskFormat, img.ContainerFormat, img.Owner
	next.Visibility, next.Protected, next.Hidden = img.Visibility, img.Protected, img.Hidden
	next.MinDisk, next.MinRAM = img.MinDisk, img.MinRAM
	next.UpdatedAt = updated.UTC()
	next.Properties = map[string]string{}
	maps.Copy(next.Properties, img.Properties)
	next.Tags = slices.Compact(slices.Sorted(slices.Values(img.Tags)))
	if next.Tags == nil {
		next.Tags = []string{}
	}
	// A deep copy: img stays its caller's, cur the cache's.
	rec := cloneImage(&next)
	tx.afterCommit(func() { s.records.put(rec, rev, Stamp{}) })
	return nil
}

// nullOf is the column value of an optional text field.
func nullOf(p *string) sql.NullString {
	if p == nil {
		return sql.NullString{}
	}
	return sql.NullString{String: *p, Valid: true}
}

// cloneImage is a deep copy of img: the cache's records are shared, and
// GetImage's callers change what they get.
func cloneImage(img *image.Image) *image.Image {
	l := &loadedImage{img: *img}
	c := &l.img
	c.Name = cloneOpt(img.Name, &l.name)
	c.DiskFormat = cloneOpt(img.DiskFormat, &l.diskFormat)
	c.ContainerFormat = cloneOpt(img.ContainerFormat, &l.containerFormat)
	c.Owner = cloneOpt(img.Owner, &l.owner)
	c.Size = cloneOpt(img.Size, &l.size)
	c.VirtualSize = cloneOpt(img.VirtualSize, &l.virtualSize)
	c.DeletedAt = cloneOpt(img.DeletedAt, &l.deletedAt)
	if img.Properties != nil {
		c.Properties = maps.Clone(img.Properties)
	}
	if img.Tags != nil {
		c.Tags = slices.Clone(img.Tags)
	}
	return c
}

// cloneOpt stores *v in *into and returns into, or nil for nil.
func cloneOpt[T any](v, into *T) *T {
	if v == nil {
		return nil
	}
	*into = *v
	return into
}

// SaveImage writes the client-mutable attributes, and replaces properties
// and tags, if the image is still in status ifStatus.
func (s *Store) SaveImage(ctx context.Context, img *image.Image, ifStatus image.Status, ifUpdatedAt time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		cur, err := s.cachedCurrent(ctx, tx, img.ID)
		if err != nil {
			return err
		}
		set, args, err := s.changedColumns(ctx, tx, img, cur)
		if err != nil {
			return err
		}
		n := len(args)
		args = append(args, s.d.BindTime(img.UpdatedAt), img.ID, string(ifStatus), s.d.BindTime(ifUpdatedAt))
		res, err := tx.ExecContext(ctx, `UPDATE images SET `+set+`updated_at = $`+strconv.Itoa(n+1)+`
			WHERE id = $`+strconv.Itoa(n+2)+` AND status = $`+strconv.Itoa(n+3)+
			` AND updated_at = $`+strconv.Itoa(n+4)+` AND deleted_at IS NULL`, args...)
		if err != nil {
			return err
		}
		if err := changedOne(ctx, tx, res, img.ID); err != nil {
			return err
		}
		if err := replaceSets(ctx, tx, img.ID, img.Properties, img.Tags, cur); err != nil {
			return err
		}
		if cur != nil {
			if err := s.cacheSaved(ctx, tx, cur, img); err != nil {
				return err
			}
		}
		// The compare-and-set on status and updated_at means the columns
		// not written are those img was read with.
		tx.wrote(img)
		return nil
	})
}

// changedColumns returns the SET assignments ("name = $1, ") and values
// of the client-mutable columns whose stored value differs from img's.
// Every column an UPDATE sets rewrites each index holding it, and the
// listing's indexes (00008) put visibility and owner in front of most of
// them: a PATCH of one property would otherwise rewrite some twenty index
// entries. A row that is missing sets nothing; the UPDATE then finds no
// row and changedOne says why. cur, if not nil, is the stored record
// (cachedCurrent), which then need not be read.
func (s *Store) changedColumns(ctx context.Context, tx *Tx, img, cur *image.Image) (string, []any, error) {
	var (
		name, disk, container, owner sql.NullString
		visibility                   string
		protected, hidden            bool
		minDisk, minRAM              int64
	)
	if cur != nil {
		name, disk, container, owner = nullOf(cur.Name), nullOf(cur.DiskFormat), nullOf(cur.ContainerFormat), nullOf(cur.Owner)
		visibility, protected, hidden = string(cur.Visibility), cur.Protected, cur.Hidden
		minDisk, minRAM = cur.MinDisk, cur.MinRAM
	} else {
		err := tx.QueryRowContext(ctx, `SELECT name, visibility, protected, os_hidden, min_disk, min_ram,
		disk_format, container_format, owner FROM images WHERE id = $1`+s.d.LockRow, img.ID).
			Scan(&name, &visibility, &protected, &hidden, &minDisk, &minRAM, &disk, &container, &owner)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil, nil
		}
		if err != nil {
			return "", nil, err
		}
	}
	var set string
	var args []any
	add := func(changed bool, col string, v any) {
		if changed {
			args = append(args, v)
			set += col + " = $" + strconv.Itoa(len(args)) + ", "
		}
	}
	differs := func(stored sql.NullString, p *string) bool {
		return stored.Valid != (p != nil) || (p != nil && stored.String != *p)
	}
	add(differs(name, img.Name), "name", nullString(img.Name))
	add(visibility != string(img.Visibility), "visibility", string(img.Visibility))
	add(protected != img.Protected, "protected", img.Protected)
	add(hidden != img.Hidden, "os_hidden", img.Hidden)
	add(minDisk != img.MinDisk, "min_disk", img.MinDisk)
	add(minRAM != img.MinRAM, "min_ram", img.MinRAM)
	add(differs(disk, img.DiskFormat), "disk_format", nullString(img.DiskFormat))
	add(differs(container, img.ContainerFormat), "container_format", nullString(img.ContainerFormat))
	add(differs(owner, img.Owner), "owner", nullString(img.Owner))
	return set, args, nil
}

// pairs calls fn with the two text columns of each row of query ($1 = id).
func pairs(ctx context.Context, tx *Tx, query, id string, fn func(a, b string)) error {
	rows, err := tx.QueryContext(ctx, query, id)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a, b string
		if err := rows.Scan(&a, &b); err != nil {
			return err
		}
		fn(a, b)
	}
	return rows.Err()
}

// replaceSets makes an image's properties and tags the given ones, writing
// only the differences: a PATCH usually changes one property, and each
// row written also updates every index of its table. cur, if not nil, is
// the stored record (cachedCurrent), whose sets then need not be read.
func replaceSets(ctx context.Context, tx *Tx, id string, props map[string]string, tags []string, cur *image.Image) error {
	var curProps map[string]string
	curTags := map[string]bool{}
	if cur != nil {
		// Only read here: cur is shared with the cache.
		curProps = cur.Properties
		for _, t := range cur.Tags {
			curTags[t] = true
		}
	} else {
		curProps = map[string]string{}
		err := pairs(ctx, tx, `SELECT name, value FROM image_properties WHERE image_id = $1`, id,
			func(name, value string) { curProps[name] = value })
		if err != nil {
			return err
		}
		err = pairs(ctx, tx, `SELECT value, '' FROM image_tags WHERE image_id = $1`, id,
			func(tag, _ string) { curTags[tag] = true })
		if err != nil {
			return err
		}
	}
	var err error
	for name := range curProps {
		if _, keep := props[name]; !keep {
			if _, err := tx.ExecContext(ctx, `DELETE FROM image_properties WHERE image_id = $1 AND name = $2`, id, name); err != nil {
				return err
			}
		}
	}
	for name, value := range props {
		old, had := curProps[name]
		switch {
		case !had:
			_, err = tx.ExecContext(ctx, insertProperty, id, name, value)
		case old != value:
			_, err = tx.ExecContext(ctx, `UPDATE image_properties SET value = $3 WHERE image_id = $1 AND name = $2`, id, name, value)
		}
		if err != nil {
			return err
		}
	}
	want := make(map[string]bool, len(tags))
	for _, t := range tags {
		want[t] = true
		if !curTags[t] {
			if _, err := tx.ExecContext(ctx, insertTag, id, t); err != nil {
				return err
			}
		}
	}
	for t := range curTags {
		if !want[t] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM image_tags WHERE image_id = $1 AND value = $2`, id, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// SetStatus moves an image from one status to another.
func (s *Store) SetStatus(ctx context.Context, id string, from, to image.Status, at time.Time) error {
	set := `status = $1, updated_at = $2`
	if to == image.StatusQueued {
		// Back to queued means the upload did not happen: forget its data.
		set += `, size = NULL, virtual_size = NULL, checksum = NULL, os_hash_algo = NULL,
			os_hash_value = NULL, location = ''`
	}
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET `+set+`
			WHERE id = $3 AND status = $4 AND deleted_at IS NULL`,
			string(to), s.d.BindTime(at), id, string(from))
		if err != nil {
			return err
		}
		return changedOne(ctx, tx, res, id)
	})
}

// FinishUpload records the uploaded data and activates a saving image. A
// virtual size the upload did not learn keeps the one already recorded.
func (s *Store) FinishUpload(ctx context.Context, id string, r image.UploadResult, at time.Time) error {
	return s.write(ctx, func(tx *Tx) error { return s.finishUpload(ctx, tx, id, r, at) })
}

func (s *Store) finishUpload(ctx context.Context, tx *Tx, id string, r image.UploadResult, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE images SET status = $1, size = $2, checksum = $3,
		os_hash_algo = $4, os_hash_value = $5, location = $6, updated_at = $7,
		virtual_size = COALESCE($10, virtual_size)
		WHERE id = $8 AND status = $9 AND deleted_at IS NULL`,
		string(image.StatusActive), r.Size, nullIfEmpty(r.Checksum), nullIfEmpty(r.HashAlgo),
		nullIfEmpty(r.HashValue), r.Location, s.d.BindTime(at), id, string(image.StatusSaving), nullInt(r.VirtualSize))
	if err != nil {
		return err
	}
	return changedOne(ctx, tx, res, id)
}

// DeleteImage soft-deletes a live image and returns it as it was.
func (s *Store) DeleteImage(ctx context.Context, id string, at time.Time) (*image.Image, error) {
	var prior *image.Image
	err := s.write(ctx, func(tx *Tx) error {
		// The row is locked while read, so the record returned (and its
		// location, which the caller deletes) is the one deleted.
		img, err := s.getImage(ctx, tx, id, s.d.LockRow)
		if err != nil {
			return err
		}
		if img.IsDeleted() {
			return notFound(id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE images SET status = $1, deleted_at = $2, updated_at = $2
			WHERE id = $3`, string(image.StatusDeleted), s.d.BindTime(at), id)
		prior = img
		if err == nil && tx.hooked {
			gone := *img
			stamp := at.UTC().Truncate(time.Microsecond) // as stored
			gone.Status, gone.UpdatedAt, gone.DeletedAt = image.StatusDeleted, stamp, &stamp
			tx.wrote(&gone)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return prior, nil
}

// AddTag adds a tag; adding one already there only touches updated_at.
func (s *Store) AddTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		if err := s.touchLive(ctx, tx, id, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, insertTag, id, tag)
		return err
	})
}

// RemoveTag removes a tag the image carries.
func (s *Store) RemoveTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		if err := s.touchLive(ctx, tx, id, at); err != nil {
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
	// inFlight repeats the condition of the partial index images_status
	// (migration 00018), which holds only in-flight images: SQLite uses
	// a partial index only for a query that states its condition.
	return s.queryImages(ctx, s.selectImages+` FROM images
		WHERE `+inFlight+` AND status = '`+string(image.StatusSaving)+`' AND deleted_at IS NULL ORDER BY created_at, id`)
}

// inFlight is the condition of the partial index images_status.
const inFlight = "status IN ('saving', 'uploading', 'importing')"

// DeletedWithData lists deleted images whose data may still exist.
func (s *Store) DeletedWithData(ctx context.Context) ([]*image.Image, error) {
	return s.queryImages(ctx, s.selectImages+` FROM images
		WHERE deleted_at IS NOT NULL AND location <> '' ORDER BY deleted_at, id`)
}

// ClearLocation forgets where an image's data was.
func (s *Store) ClearLocation(ctx context.Context, id string) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE images SET location = '' WHERE id = $1`, id)
		if err != nil {
			return err
		}
		return changedOne(ctx, tx, res, id)
	})
}

func (s *Store) queryImages(ctx context.Context, query string, args ...any) (_ []*image.Image, err error) {
	defer s.markUnavailable(&err)
	return s.loadImages(ctx, pooled{s.r, s}, query, args...)
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
func (s *Store) touchLive(ctx context.Context, tx *Tx, id string, at time.Time) error {
	res, err := tx.ExecContext(ctx, `UPDATE images SET updated_at = $1
		WHERE id = $2 AND deleted_at IS NULL`, s.d.BindTime(at), id)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, notFound(id))
	}
	return nil
}

// insertTag adds tag $2 to image $1, copying the image's created_at and
// name for the tag's indexes in creation and in name order (listsets.go;
// migrations 00007, 00031), and whether it is deleted, which those
// indexes leave out (00032). It is the only statement that adds tags: a
// rename and a delete are copied by triggers. The WHERE is also what
// SQLite needs to tell the upsert clause from a join constraint.
const insertTag = `INSERT INTO image_tags (image_id, value, image_created_at, image_name, image_deleted)
	SELECT id, $2, created_at, COALESCE(name, ''), deleted_at IS NOT NULL FROM images WHERE id = $1
	ON CONFLICT DO NOTHING`

// insertProperty adds property $2 = $3 to image $1, copying the image's
// created_at and whether it is deleted for the property-ordered index
// (listsets.go), as insertTag does.
const insertProperty = `INSERT INTO image_properties (image_id, name, value, image_created_at, image_deleted)
	SELECT id, $2, $3, created_at, deleted_at IS NOT NULL FROM images WHERE id = $1`

// upsertProperty sets property $2 of image $1 to $3.
const upsertProperty = insertProperty + `
	ON CONFLICT (image_id, name) DO UPDATE SET value = excluded.value`

// insertSets adds properties and tags to an image that has none. A tag
// given twice is stored once.
func insertSets(ctx context.Context, tx *Tx, id string, props map[string]string, tags []string) error {
	for k, v := range props {
		if _, err := tx.ExecContext(ctx, insertProperty, id, k, v); err != nil {
			return err
		}
	}
	for _, t := range tags {
		if _, err := tx.ExecContext(ctx, insertTag, id, t); err != nil {
			return err
		}
	}
	return nil
}

// CreateBatch inserts images with their properties and tags, and then
// memberships, all in one transaction: how benchmarks seed catalogs of a
// million images in minutes rather than hours. It does what CreateImage
// and AddMember do, without their per-call commit.
func (s *Store) CreateBatch(ctx context.Context, imgs []*image.Image, members []*image.Member) error {
	err := s.write(ctx, func(tx *Tx) error {
		for _, img := range imgs {
			if err := insertImage(ctx, tx, s, img); err != nil {
				return err
			}
		}
		for _, m := range members {
			if err := s.insertMember(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(imgs) > 0 {
		_ = s.Analyze(ctx) // on failure the planner keeps its statistics; the next refresh tries again
	}
	return err
}

// PutImage writes a record verbatim (image.VerbatimStore): the image row
// is upserted, its properties, tags and members replaced, in one write.
func (s *Store) PutImage(ctx context.Context, img *image.Image, members []*image.Member) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO images (`+imageColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
			ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status,
			visibility = excluded.visibility, protected = excluded.protected, os_hidden = excluded.os_hidden,
			min_disk = excluded.min_disk, min_ram = excluded.min_ram, disk_format = excluded.disk_format,
			container_format = excluded.container_format, owner = excluded.owner, size = excluded.size,
			virtual_size = excluded.virtual_size, checksum = excluded.checksum,
			os_hash_algo = excluded.os_hash_algo, os_hash_value = excluded.os_hash_value,
			location = excluded.location, created_at = excluded.created_at,
			updated_at = excluded.updated_at, deleted_at = excluded.deleted_at`,
			img.ID, nullString(img.Name), string(img.Status), string(img.Visibility),
			img.Protected, img.Hidden, img.MinDisk, img.MinRAM,
			nullString(img.DiskFormat), nullString(img.ContainerFormat), nullString(img.Owner),
			nullInt(img.Size), nullInt(img.VirtualSize), nullIfEmpty(img.Checksum),
			nullIfEmpty(img.HashAlgo), nullIfEmpty(img.HashValue), img.Location,
			s.d.BindTime(img.CreatedAt), s.d.BindTime(img.UpdatedAt), s.nullTime(img.DeletedAt))
		if err != nil {
			return s.constraintErr(err, "image "+img.ID)
		}
		for _, table := range []string{"image_properties", "image_tags", "image_members"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE image_id = $1`, img.ID); err != nil {
				return err
			}
		}
		if err := insertSets(ctx, tx, img.ID, img.Properties, img.Tags); err != nil {
			return err
		}
		for _, m := range members {
			// The membership's trigger copies the image's sort keys
			// (migration 00029), which the upsert above has just set.
			m := *m
			m.ImageID = img.ID
			if err := s.insertMember(ctx, tx, &m); err != nil {
				return err
			}
		}
		return nil
	})
}
