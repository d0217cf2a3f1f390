package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/glint-image/glint/internal/identity"
)

// The identity.Store half of the metadata store: domains, projects, users
// and roles here; assignments, revocations and login failures in
// identity_tokens.go. Lists are small (an installation has tens or
// hundreds of projects and users), so they are not paginated.

var _ identity.Store = (*Store)(nil)

// identityErr maps a constraint violation to identity's error kinds.
func (s *Store) identityErr(err error, what string) error {
	switch s.d.Violation(err) {
	case UniqueViolation:
		return identity.Errorf(identity.ErrConflict, "%s already exists", what)
	case ForeignKeyViolation:
		return identity.Errorf(identity.ErrNotFound, "%s refers to a record that does not exist", what)
	}
	return err
}

// where builds "col = $n AND ..." from the non-empty filter values.
type where struct {
	conds []string
	args  []any
}

func (w *where) eq(col, val string) {
	if val != "" {
		w.args = append(w.args, val)
		w.conds = append(w.conds, fmt.Sprintf("%s = $%d", col, len(w.args)))
	}
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// one runs an UPDATE or DELETE that must touch exactly one row.
func (s *Store) one(ctx context.Context, notFound error, query string, args ...any) error {
	return s.write(ctx, func(tx *Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound
		}
		return nil
	})
}

// list runs a query and scans each row with scan.
func list[T any](ctx context.Context, db *sql.DB, scan func(scanner) (*T, error), query string, args ...any) ([]*T, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// get runs a query for one row, mapping no row to notFound.
func get[T any](ctx context.Context, db *sql.DB, scan func(scanner) (*T, error), notFound error, query string, args ...any) (*T, error) {
	v, err := scan(db.QueryRowContext(ctx, query, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound
	}
	return v, err
}

// Domains.

const domainColumns = `id, name, description, enabled`

func (s *Store) CreateDomain(ctx context.Context, d *identity.Domain) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_domains (`+domainColumns+`) VALUES ($1, $2, $3, $4)`,
			d.ID, d.Name, d.Description, d.Enabled)
		return s.identityErr(err, "domain "+d.Name)
	})
}

func (s *Store) GetDomain(ctx context.Context, id string) (*identity.Domain, error) {
	return get(ctx, s.r, scanDomain, identity.NotFound("domain", id),
		`SELECT `+domainColumns+` FROM identity_domains WHERE id = $1`, id)
}

func (s *Store) ListDomains(ctx context.Context, f identity.Filter) ([]*identity.Domain, error) {
	var w where
	w.eq("name", f.Name)
	return list(ctx, s.r, scanDomain, `SELECT `+domainColumns+` FROM identity_domains`+w.String()+` ORDER BY name, id`, w.args...)
}

func scanDomain(sc scanner) (*identity.Domain, error) {
	var d identity.Domain
	return &d, sc.Scan(&d.ID, &d.Name, &d.Description, &d.Enabled)
}

// Projects.

const projectColumns = `id, domain_id, name, description, enabled`

func (s *Store) CreateProject(ctx context.Context, p *identity.Project) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_projects (`+projectColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			p.ID, p.DomainID, p.Name, p.Description, p.Enabled)
		return s.identityErr(err, "project "+p.Name)
	})
}

func (s *Store) GetProject(ctx context.Context, id string) (*identity.Project, error) {
	return get(ctx, s.r, scanProject, identity.NotFound("project", id),
		`SELECT `+projectColumns+` FROM identity_projects WHERE id = $1`, id)
}

func (s *Store) ListProjects(ctx context.Context, f identity.Filter) ([]*identity.Project, error) {
	var w where
	w.eq("name", f.Name)
	w.eq("domain_id", f.DomainID)
	return list(ctx, s.r, scanProject, `SELECT `+projectColumns+` FROM identity_projects`+w.String()+` ORDER BY name, id`, w.args...)
}

func (s *Store) UpdateProject(ctx context.Context, p *identity.Project) error {
	err := s.one(ctx, identity.NotFound("project", p.ID),
		`UPDATE identity_projects SET name = $1, description = $2, enabled = $3 WHERE id = $4`,
		p.Name, p.Description, p.Enabled, p.ID)
	return s.identityErr(err, "project "+p.Name)
}

func (s *Store) DeleteProject(ctx context.Context, id string) error {
	return s.one(ctx, identity.NotFound("project", id), `DELETE FROM identity_projects WHERE id = $1`, id)
}

func scanProject(sc scanner) (*identity.Project, error) {
	var p identity.Project
	return &p, sc.Scan(&p.ID, &p.DomainID, &p.Name, &p.Description, &p.Enabled)
}

// Users.

const userColumns = `id, domain_id, name, password_hash, enabled, default_project_id, description, email, tokens_not_before`

func (s *Store) CreateUser(ctx context.Context, u *identity.User) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_users (`+userColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			u.ID, u.DomainID, u.Name, u.PasswordHash, u.Enabled, u.DefaultProjectID, u.Description, u.Email,
			s.optTime(u.TokensNotBefore))
		return s.identityErr(err, "user "+u.Name)
	})
}

func (s *Store) GetUser(ctx context.Context, id string) (*identity.User, error) {
	return get(ctx, s.r, s.scanUser, identity.NotFound("user", id),
		`SELECT `+userColumns+` FROM identity_users WHERE id = $1`, id)
}

func (s *Store) ListUsers(ctx context.Context, f identity.Filter) ([]*identity.User, error) {
	var w where
	w.eq("name", f.Name)
	w.eq("domain_id", f.DomainID)
	return list(ctx, s.r, s.scanUser, `SELECT `+userColumns+` FROM identity_users`+w.String()+` ORDER BY name, id`, w.args...)
}

func (s *Store) UpdateUser(ctx context.Context, u *identity.User) error {
	err := s.one(ctx, identity.NotFound("user", u.ID), `UPDATE identity_users SET name = $1, password_hash = $2,
		enabled = $3, default_project_id = $4, description = $5, email = $6, tokens_not_before = $7 WHERE id = $8`,
		u.Name, u.PasswordHash, u.Enabled, u.DefaultProjectID, u.Description, u.Email, s.optTime(u.TokensNotBefore), u.ID)
	return s.identityErr(err, "user "+u.Name)
}

func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.one(ctx, identity.NotFound("user", id), `DELETE FROM identity_users WHERE id = $1`, id)
}

func (s *Store) scanUser(sc scanner) (*identity.User, error) {
	var u identity.User
	notBefore := s.timeColumn()
	err := sc.Scan(&u.ID, &u.DomainID, &u.Name, &u.PasswordHash, &u.Enabled, &u.DefaultProjectID,
		&u.Description, &u.Email, notBefore)
	u.TokensNotBefore = notBefore.t
	return &u, err
}

// Roles.

const roleColumns = `id, name, description`

func (s *Store) CreateRole(ctx context.Context, r *identity.Role) error {
	return s.write(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO identity_roles (`+roleColumns+`) VALUES ($1, $2, $3)`,
			r.ID, r.Name, r.Description)
		return s.identityErr(err, "role "+r.Name)
	})
}

func (s *Store) GetRole(ctx context.Context, id string) (*identity.Role, error) {
	return get(ctx, s.r, scanRole, identity.NotFound("role", id),
		`SELECT `+roleColumns+` FROM identity_roles WHERE id = $1`, id)
}

func (s *Store) ListRoles(ctx context.Context, f identity.Filter) ([]*identity.Role, error) {
	var w where
	w.eq("name", f.Name)
	return list(ctx, s.r, scanRole, `SELECT `+roleColumns+` FROM identity_roles`+w.String()+` ORDER BY name, id`, w.args...)
}

func (s *Store) DeleteRole(ctx context.Context, id string) error {
	return s.one(ctx, identity.NotFound("role", id), `DELETE FROM identity_roles WHERE id = $1`, id)
}

func scanRole(sc scanner) (*identity.Role, error) {
	var r identity.Role
	return &r, sc.Scan(&r.ID, &r.Name, &r.Description)
}
