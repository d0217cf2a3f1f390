package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

// Role assignments, token revocations and login failures.

// optTime binds a time that is absent when zero.
func (s *Store) optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return s.d.BindTime(t)
}

func (s *Store) AddAssignment(ctx context.Context, a identity.Assignment) error {
	return s.write(ctx, func(tx *Tx) error {
		var err error
		if a.System {
			_, err = tx.ExecContext(ctx, `INSERT INTO identity_system_roles (user_id, role_id)
				VALUES ($1, $2) ON CONFLICT DO NOTHING`, a.UserID, a.RoleID)
		} else {
			_, err = tx.ExecContext(ctx, `INSERT INTO identity_project_roles (user_id, project_id, role_id)
				VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, a.UserID, a.ProjectID, a.RoleID)
		}
		return s.identityErr(err, "role assignment")
	})
}

func (s *Store) RemoveAssignment(ctx context.Context, a identity.Assignment) error {
	notFound := identity.Errorf(identity.ErrNotFound, "no such role assignment")
	if a.System {
		return s.one(ctx, notFound, `DELETE FROM identity_system_roles WHERE user_id = $1 AND role_id = $2`,
			a.UserID, a.RoleID)
	}
	return s.one(ctx, notFound, `DELETE FROM identity_project_roles WHERE user_id = $1 AND project_id = $2 AND role_id = $3`,
		a.UserID, a.ProjectID, a.RoleID)
}

// ListAssignments returns project assignments (by user, project, role)
// and then system ones (by user, role).
func (s *Store) ListAssignments(ctx context.Context, f identity.AssignmentFilter) ([]identity.Assignment, error) {
	out := []identity.Assignment{}
	// Both queries in one snapshot, so a concurrent change is seen whole.
	err := s.read(ctx, func(tx *Tx) error {
		if !f.SystemOnly {
			var w where
			w.eq("user_id", f.UserID)
			w.eq("project_id", f.ProjectID)
			w.eq("role_id", f.RoleID)
			err := scanAssignments(ctx, tx, &out, false, `SELECT user_id, project_id, role_id
				FROM identity_project_roles`+w.String()+` ORDER BY user_id, project_id, role_id`, w.args...)
			if err != nil {
				return err
			}
		}
		if f.ProjectOnly || f.ProjectID != "" {
			return nil
		}
		var w where
		w.eq("user_id", f.UserID)
		w.eq("role_id", f.RoleID)
		return scanAssignments(ctx, tx, &out, true, `SELECT user_id, '', role_id
			FROM identity_system_roles`+w.String()+` ORDER BY user_id, role_id`, w.args...)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanAssignments(ctx context.Context, tx *Tx, out *[]identity.Assignment, system bool, query string, args ...any) error {
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		a := identity.Assignment{System: system}
		if err := rows.Scan(&a.UserID, &a.ProjectID, &a.RoleID); err != nil {
			return err
		}
		*out = append(*out, a)
	}
	return rows.Err()
}

// RevokeToken records a revoked audit id; revoking it again keeps the
// later expiry.
func (s *Store) RevokeToken(ctx context.Context, auditID string, expiresAt time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_revoked_tokens (audit_id, expires_at) VALUES ($1, $2)
			ON CONFLICT (audit_id) DO UPDATE SET expires_at = excluded.expires_at
			WHERE identity_revoked_tokens.expires_at < excluded.expires_at`,
			auditID, s.d.BindTime(expiresAt))
		return err
	})
}

func (s *Store) IsTokenRevoked(ctx context.Context, auditID string) (bool, error) {
	var one int
	// Asked for each token the identity service has not validated yet:
	// a prepared statement (pooled), not one prepared per call.
	err := pooled{s.r, s}.QueryRowContext(ctx, `SELECT 1 FROM identity_revoked_tokens WHERE audit_id = $1`, auditID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// PurgeRevocations forgets revocations of tokens that expired before
// `before`: an expired token is refused anyway.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM identity_revoked_tokens WHERE expires_at < $1`, s.d.BindTime(before))
		return err
	})
}

func (s *Store) LoginFailures(ctx context.Context, userID string) (identity.LoginFailures, error) {
	var f identity.LoginFailures
	last := s.timeColumn()
	err := s.r.QueryRowContext(ctx, `SELECT failures, last_at FROM identity_login_failures WHERE user_id = $1`,
		userID).Scan(&f.Count, last)
	if errors.Is(err, sql.ErrNoRows) {
		return identity.LoginFailures{}, nil
	}
	f.LastAt = last.t
	return f, err
}

// AddLoginFailure is one upsert, so concurrent failures on any number of
// nodes each count: the row lock (PostgreSQL) or the single writer
// (SQLite) orders them.
func (s *Store) AddLoginFailure(ctx context.Context, userID string, at, since time.Time) (identity.LoginFailures, error) {
	var f identity.LoginFailures
	err := s.write(ctx, func(tx *Tx) error {
		last := s.timeColumn()
		err := tx.QueryRowContext(ctx, `INSERT INTO identity_login_failures (user_id, failures, last_at)
			VALUES ($1, 1, $2)
			ON CONFLICT (user_id) DO UPDATE SET
				failures = CASE WHEN identity_login_failures.last_at < $3 THEN 1
					ELSE identity_login_failures.failures + 1 END,
				last_at = excluded.last_at
			RETURNING failures, last_at`,
			userID, s.d.BindTime(at), s.d.BindTime(since)).Scan(&f.Count, last)
		f.LastAt = last.t
		return s.identityErr(err, "login failure")
	})
	return f, err
}

func (s *Store) ClearLoginFailures(ctx context.Context, userID string) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM identity_login_failures WHERE user_id = $1`, userID)
		return err
	})
}
