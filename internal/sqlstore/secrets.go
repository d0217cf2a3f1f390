package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/glint-image/glint/internal/keymanager"
)

// The keymanager.Store half of the metadata store: the built-in key
// manager's secrets, one row each with the sealed payload.

var _ keymanager.Store = (*Store)(nil)

const secretColumns = `id, project_id, creator_id, name, secret_type, algorithm, bit_length, mode, content_type, expiration, created_at, updated_at`

// CreateSecret inserts a secret.
func (s *Store) CreateSecret(ctx context.Context, sec *keymanager.Secret) error {
	err := s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO secrets (`+secretColumns+`, payload)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			sec.ID, sec.ProjectID, sec.CreatorID, sec.Name, sec.Type, sec.Algorithm, sec.BitLength, sec.Mode, sec.ContentType,
			s.nullTime(sec.Expiration), s.d.BindTime(sec.CreatedAt), s.d.BindTime(sec.UpdatedAt), sec.Payload)
		return err
	})
	if s.d.Violation(err) == UniqueViolation {
		return &keymanager.Error{Kind: keymanager.ErrConflict, Msg: "A secret with id " + sec.ID + " exists already."}
	}
	return err
}

// GetSecret reads a secret with its sealed payload.
func (s *Store) GetSecret(ctx context.Context, id string) (_ *keymanager.Secret, err error) {
	defer s.markUnavailable(&err)
	var payload []byte
	row := s.r.QueryRowContext(ctx, `SELECT `+secretColumns+`, payload FROM secrets WHERE id = $1`, id)
	sec, err := s.scanSecret(row, &payload)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("secret %s: %w", id, keymanager.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	sec.Payload = payload
	return sec, nil
}

// ListSecrets returns a page of one project's secrets and the number
// matching.
func (s *Store) ListSecrets(ctx context.Context, q keymanager.ListQuery) (_ []*keymanager.Secret, total int, err error) {
	defer s.markUnavailable(&err)
	if q.ProjectID == "" {
		return nil, 0, errors.New("sqlstore: ListSecrets needs a project")
	}
	w := &where{}
	w.eq("project_id", q.ProjectID)
	w.eq("name", q.Name)
	w.eq("secret_type", q.Type)
	if q.NotExpired != nil {
		w.args = append(w.args, s.d.BindTime(*q.NotExpired))
		w.conds = append(w.conds, fmt.Sprintf("(expiration IS NULL OR expiration > $%d)", len(w.args)))
	}
	var list []*keymanager.Secret
	err = s.read(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM secrets`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		args := append(w.args[:len(w.args):len(w.args)], q.Limit, q.Offset)
		rows, err := tx.QueryContext(ctx, `SELECT `+secretColumns+` FROM secrets`+w.String()+
			fmt.Sprintf(` ORDER BY created_at, id LIMIT $%d OFFSET $%d`, len(args)-1, len(args)), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		out := []*keymanager.Secret{}
		for rows.Next() {
			sec, err := s.scanSecret(rows, nil)
			if err != nil {
				return err
			}
			out = append(out, sec)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		list = out
		return nil
	})
	return list, total, err
}

// DeleteSecret removes a secret.
func (s *Store) DeleteSecret(ctx context.Context, id string) error {
	return s.one(ctx, fmt.Errorf("secret %s: %w", id, keymanager.ErrNotFound), `DELETE FROM secrets WHERE id = $1`, id)
}

// scanSecret reads the secretColumns, then the payload into payload when
// it is not nil.
func (s *Store) scanSecret(sc scanner, payload *[]byte) (*keymanager.Secret, error) {
	var sec keymanager.Secret
	expiration, created, updated := s.timeColumn(), s.timeColumn(), s.timeColumn()
	dest := []any{&sec.ID, &sec.ProjectID, &sec.CreatorID, &sec.Name, &sec.Type, &sec.Algorithm, &sec.BitLength, &sec.Mode,
		&sec.ContentType, expiration, created, updated}
	if payload != nil {
		dest = append(dest, payload)
	}
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if expiration.valid {
		t := expiration.t
		sec.Expiration = &t
	}
	sec.CreatedAt, sec.UpdatedAt = created.t, updated.t
	return &sec, nil
}
