package sqlstore

import (
	"context"
	"database/sql/driver"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// ProjectUsage counts what a project's images use. Sizes count images
// that hold data (a location); staged data is the size recorded on images
// being staged or imported (the staged file's, for glance-direct). The
// bytes of partial uploads count too, each toward its kind's quota.
func (s *Store) ProjectUsage(ctx context.Context, project string) (_ image.Usage, err error) {
	defer s.markUnavailable(&err)
	var u image.Usage
	var partialFile, partialStage int64
	err = s.r.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN p.kind = 'file' THEN p.received ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN p.kind = 'stage' THEN p.received ELSE 0 END), 0)
		FROM partial_uploads p JOIN images i ON i.id = p.image_id
		WHERE p.owner = $1 AND i.deleted_at IS NULL`, project).Scan(&partialFile, &partialStage)
	if err != nil {
		return u, err
	}
	u.SizeBytes, u.StageBytes = partialFile, partialStage
	var images image.Usage
	err = s.r.QueryRowContext(ctx, `SELECT
			COALESCE(SUM(CASE WHEN status <> 'killed' THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status IN ('saving', 'uploading', 'importing') THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN location IS NOT NULL AND location <> '' THEN size ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN status IN ('uploading', 'importing') AND (location IS NULL OR location = '')
				THEN COALESCE(size, 0) ELSE 0 END), 0)
		FROM images WHERE owner = $1 AND deleted_at IS NULL`, project).Scan(&images.Images, &images.Uploading, &images.SizeBytes, &images.StageBytes)
	u.Images, u.Uploading = images.Images, images.Uploading
	u.SizeBytes += images.SizeBytes
	u.StageBytes += images.StageBytes
	return u, err
}

// ProjectLimits returns a project's quota overrides.
func (s *Store) ProjectLimits(ctx context.Context, project string) (_ map[string]int64, err error) {
	defer s.markUnavailable(&err)
	// Through the statement cache: every create asks.
	rows, err := pooled{s.r, s}.QueryContext(ctx, `SELECT name, quota_limit FROM project_quotas WHERE project_id = $1`, project)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var limit int64
		if err := rows.Scan(&name, &limit); err != nil {
			return nil, err
		}
		out[name] = limit
	}
	return out, rows.Err()
}

// SetProjectLimit sets one override, replacing any earlier one.
func (s *Store) SetProjectLimit(ctx context.Context, project, name string, limit int64) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO project_quotas (project_id, name, quota_limit) VALUES ($1, $2, $3)
			ON CONFLICT (project_id, name) DO UPDATE SET quota_limit = excluded.quota_limit`, project, name, limit)
		return err
	})
}

// DeleteProjectLimits drops all of a project's overrides.
func (s *Store) DeleteProjectLimits(ctx context.Context, project string) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM project_quotas WHERE project_id = $1`, project)
		return err
	})
}

// LockProject holds a project-wide lock that all nodes sharing the
// database respect, until the returned func is called. It holds one
// connection for that time, so callers keep the locked section short.
func (s *Store) LockProject(ctx context.Context, project string) (func(), error) {
	if s.d.LockProject == "" {
		return func() {}, nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, s.d.LockProject, project); err != nil {
		conn.Close()
		return nil, err
	}
	return func() {
		// Unlock even when the request's context has ended; closing the
		// connection would release the lock too, but returns it to no pool.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, s.d.UnlockProject, project); err != nil {
			// Raw returns the ErrBadConn that makes the pool drop the
			// connection, and the lock with it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
