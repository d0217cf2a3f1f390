package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// Shared data (image.DataRefs). Adopting data and releasing its last
// reference both lock the data's shared_data row (SQLite's single writer
// does that by itself), so they run one after the other: an adopter
// either sees the row, and its reference then keeps the data, or sees it
// gone, and keeps its own copy.

// adoptAttempts bounds the lookups of FinishShared: in PostgreSQL the row
// an insert conflicted with can be deleted (its last reference released)
// before the next statement locks it, and the insert then succeeds.
const adoptAttempts = 3

// FinishShared activates a saving image with shared data.
func (s *Store) FinishShared(ctx context.Context, id string, r image.UploadResult, at time.Time) (string, error) {
	return s.shareAnd(ctx, id, r, func(tx *Tx, loc string) error {
		u := r
		u.Location = loc
		// The same write as FinishUpload: if the image moved on, the
		// error rolls back the reference and the data row with it.
		return s.finishUpload(ctx, tx, id, u, at)
	})
}

// ImportShared records an import's copy of data that may be shared.
func (s *Store) ImportShared(ctx context.Context, id, taskID string, u image.ImportUpdate, r image.UploadResult, at time.Time) (string, error) {
	return s.shareAnd(ctx, id, r, func(tx *Tx, loc string) error {
		u.AddLocations = append(slices.Clone(u.AddLocations), loc)
		// If the image is gone, moved on or no longer this task's, the
		// error rolls back the reference and the data row with it.
		return s.updateImport(ctx, tx, id, taskID, u, at)
	})
}

// shareAnd adopts the data r wrote (or registers it), adds image id's
// reference to it and runs record with the shared data's location, all
// in one write; it returns that location.
func (s *Store) shareAnd(ctx context.Context, id string, r image.UploadResult, record func(tx *Tx, loc string) error) (string, error) {
	store, key, ok := strings.Cut(r.Location, ":")
	if !ok || r.HashAlgo != image.HashAlgo || r.HashValue == "" {
		return "", fmt.Errorf("sqlstore: data at %q without its %s cannot be shared", r.Location, image.HashAlgo)
	}
	var loc string
	err := s.write(ctx, func(tx *Tx) error {
		shared, err := s.adopt(ctx, tx, store, key, r.Size, r.HashValue)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO shared_data_refs (store, blob_key, image_id)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, store, shared, id); err != nil {
			return err
		}
		loc = store + ":" + shared
		return record(tx, loc)
	})
	if err != nil {
		return "", err
	}
	return loc, nil
}

// adopt returns the key of the store's data of this size and sha512,
// registering key as that data when there is none.
func (s *Store) adopt(ctx context.Context, tx *Tx, store, key string, size int64, sum string) (string, error) {
	for range adoptAttempts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO shared_data (store, blob_key, size, sha512)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, store, key, size, sum); err != nil {
			return "", err
		}
		var shared string
		err := tx.QueryRowContext(ctx, `SELECT blob_key FROM shared_data
			WHERE store = $1 AND size = $2 AND sha512 = $3`+s.d.LockRow, store, size, sum).Scan(&shared)
		if err == nil {
			return shared, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	return "", fmt.Errorf("sqlstore: shared data of %d bytes in %s kept changing", size, store)
}

// ReleaseData drops one image's reference to data.
func (s *Store) ReleaseData(ctx context.Context, id, location string) (bool, error) {
	store, key, _ := strings.Cut(location, ":")
	var unused bool
	err := s.write(ctx, func(tx *Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM shared_data WHERE store = $1 AND blob_key = $2`+s.d.LockRow,
			store, key).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			unused = true // never shared (or released before): its image's alone
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM shared_data_refs
			WHERE store = $1 AND blob_key = $2 AND image_id = $3`, store, key, id); err != nil {
			return err
		}
		var left int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM shared_data_refs
			WHERE store = $1 AND blob_key = $2`, store, key).Scan(&left); err != nil {
			return err
		}
		if left > 0 {
			unused = false
			return nil
		}
		unused = true
		_, err = tx.ExecContext(ctx, `DELETE FROM shared_data WHERE store = $1 AND blob_key = $2`, store, key)
		return err
	})
	return unused, err
}

// DataReferences counts the references to data.
func (s *Store) DataReferences(ctx context.Context, location string) (_ int64, err error) {
	defer s.markUnavailable(&err)
	store, key, _ := strings.Cut(location, ":")
	var n int64
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM shared_data_refs WHERE store = $1 AND blob_key = $2`,
		store, key).Scan(&n)
	return n, err
}

// DataSharing sums the shared data per store.
func (s *Store) DataSharing(ctx context.Context) (_ []image.StoreSharing, err error) {
	defer s.markUnavailable(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT d.store, COUNT(*), COALESCE(SUM(r.n), 0),
			COALESCE(SUM(d.size), 0), COALESCE(SUM(d.size * (r.n - 1)), 0)
		FROM shared_data d JOIN (SELECT store, blob_key, COUNT(*) AS n FROM shared_data_refs
			GROUP BY store, blob_key) r ON r.store = d.store AND r.blob_key = d.blob_key
		GROUP BY d.store ORDER BY d.store`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []image.StoreSharing
	for rows.Next() {
		var st image.StoreSharing
		if err := rows.Scan(&st.Store, &st.Blobs, &st.Images, &st.Bytes, &st.Saved); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}
