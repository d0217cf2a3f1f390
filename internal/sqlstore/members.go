package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/glint-image/glint/internal/image"
)

const memberColumns = `image_id, member, status, created_at, updated_at`

// AddMember shares an image with a project. The image must exist; whether
// it may have members (shared, not deleted) is the service's call.
func (s *Store) AddMember(ctx context.Context, m *image.Member) error {
	return s.write(ctx, func(tx *Tx) error { return s.insertMember(ctx, tx, m) })
}

func (s *Store) insertMember(ctx context.Context, tx *Tx, m *image.Member) error {
	// A trigger copies the image's sort keys into the membership for the
	// listing's indexes (migrations 00008, 00029; listquery.go); the
	// foreign key refuses a membership of a missing image.
	_, err := tx.ExecContext(ctx, `INSERT INTO image_members (`+memberColumns+`)
		VALUES ($1, $2, $3, $4, $5)`,
		m.ImageID, m.MemberID, string(m.Status), s.d.BindTime(m.CreatedAt), s.d.BindTime(m.UpdatedAt))
	if err != nil {
		return s.constraintErr(err, fmt.Sprintf("member %s of image %s", m.MemberID, m.ImageID))
	}
	return nil
}

// GetMember returns one membership.
func (s *Store) GetMember(ctx context.Context, imageID, memberID string) (_ *image.Member, err error) {
	defer s.markUnavailable(&err)
	row := s.r.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM image_members
		WHERE image_id = $1 AND member = $2`, imageID, memberID)
	m, err := s.scanMember(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, memberNotFound(imageID, memberID)
	}
	return m, err
}

// ListMembers returns an image's members, oldest first. An image without
// members, or without a record at all, has an empty list.
func (s *Store) ListMembers(ctx context.Context, imageID string) (_ []*image.Member, err error) {
	defer s.markUnavailable(&err)
	rows, err := s.r.QueryContext(ctx, `SELECT `+memberColumns+` FROM image_members
		WHERE image_id = $1 ORDER BY created_at, member`, imageID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	members := []*image.Member{}
	for rows.Next() {
		m, err := s.scanMember(rows)
		if err != nil {
			return nil, err
		}
		members = append(members, m)
	}
	return members, rows.Err()
}

// UpdateMember records a member's new status and updated_at.
func (s *Store) UpdateMember(ctx context.Context, m *image.Member) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE image_members SET status = $1, updated_at = $2
			WHERE image_id = $3 AND member = $4`,
			string(m.Status), s.d.BindTime(m.UpdatedAt), m.ImageID, m.MemberID)
		return oneMember(res, err, m.ImageID, m.MemberID)
	})
}

// DeleteMember ends a share.
func (s *Store) DeleteMember(ctx context.Context, imageID, memberID string) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM image_members WHERE image_id = $1 AND member = $2`,
			imageID, memberID)
		return oneMember(res, err, imageID, memberID)
	})
}

func oneMember(res sql.Result, err error, imageID, memberID string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return memberNotFound(imageID, memberID)
	}
	return nil
}

func memberNotFound(imageID, memberID string) error {
	return &image.Error{Kind: image.ErrNotFound,
		Msg: fmt.Sprintf("%s is not a member of image %s", memberID, imageID)}
}

func (s *Store) scanMember(sc scanner) (*image.Member, error) {
	var (
		m      image.Member
		status string
	)
	created, updated := s.timeColumn(), s.timeColumn()
	if err := sc.Scan(&m.ImageID, &m.MemberID, &status, created, updated); err != nil {
		return nil, err
	}
	m.Status = image.MemberStatus(status)
	m.CreatedAt, m.UpdatedAt = created.t, updated.t
	return &m, nil
}
