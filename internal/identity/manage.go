package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Name length limits, Keystone's.
const (
	maxProjectName = 64
	maxName        = 255
	maxDescription = 65535
)

// Management of domains, projects, users, roles and assignments. The
// methods check their input and keep the records consistent; who may call
// them is the HTTP layer's policy.

// ListDomains returns the domains matching f (by name).
func (s *Service) ListDomains(ctx context.Context, f Filter) ([]*Domain, error) {
	return s.store.ListDomains(ctx, Filter{Name: f.Name})
}

// GetDomain returns one domain.
func (s *Service) GetDomain(ctx context.Context, id string) (*Domain, error) {
	return s.store.GetDomain(ctx, id)
}

// CreateProject creates a project in p.DomainID (Default when empty) and
// returns it with its new id.
func (s *Service) CreateProject(ctx context.Context, p Project) (*Project, error) {
	if p.DomainID == "" {
		p.DomainID = DefaultDomainID
	}
	if err := checkName("project", p.Name, maxProjectName); err != nil {
		return nil, err
	}
	if err := checkDescription(p.Description); err != nil {
		return nil, err
	}
	if _, err := s.store.GetDomain(ctx, p.DomainID); err != nil {
		return nil, err
	}
	p.ID = newID()
	if err := s.store.CreateProject(ctx, &p); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(ErrConflict, "Conflict occurred attempting to store project - it is not permitted "+
				"to have two projects with either the same name or same id in the same domain: name is %s, project id %s.",
				p.Name, p.ID)
		}
		return nil, err
	}
	return &p, nil
}

// GetProject returns one project.
func (s *Service) GetProject(ctx context.Context, id string) (*Project, error) {
	return s.store.GetProject(ctx, id)
}

// ListProjects returns the projects matching f.
func (s *Service) ListProjects(ctx context.Context, f Filter) ([]*Project, error) {
	return s.store.ListProjects(ctx, f)
}

// ProjectUpdate holds the fields to change; nil fields stay.
type ProjectUpdate struct {
	Name        *string
	Description *string
	Enabled     *bool
}

// UpdateProject changes a project and returns it as stored.
func (s *Service) UpdateProject(ctx context.Context, id string, u ProjectUpdate) (*Project, error) {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	p, err := s.store.GetProject(ctx, id)
	if err != nil {
		return nil, err
	}
	if u.Name != nil {
		if err := checkName("project", *u.Name, maxProjectName); err != nil {
			return nil, err
		}
		p.Name = *u.Name
	}
	if u.Description != nil {
		if err := checkDescription(*u.Description); err != nil {
			return nil, err
		}
		p.Description = *u.Description
	}
	if u.Enabled != nil {
		p.Enabled = *u.Enabled
	}
	if err := s.store.UpdateProject(ctx, p); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(ErrConflict, "Conflict occurred attempting to store project - it is not permitted "+
				"to have two projects with either the same name or same id in the same domain: name is %s, project id %s.",
				p.Name, p.ID)
		}
		return nil, err
	}
	return p, nil
}

// DeleteProject deletes a project and its role assignments.
func (s *Service) DeleteProject(ctx context.Context, id string) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	return s.store.DeleteProject(ctx, id)
}

// NewUser is what creating a user takes.
type NewUser struct {
	Name             string
	DomainID         string // Default when empty
	Password         string // optional: without one the user cannot log in
	Enabled          *bool  // default true
	DefaultProjectID string
	Description      string
	Email            string
}

// CreateUser creates a user and returns it with its new id.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (*User, error) {
	u := User{Name: n.Name, DomainID: n.DomainID, Enabled: n.Enabled == nil || *n.Enabled,
		DefaultProjectID: n.DefaultProjectID, Description: n.Description, Email: n.Email}
	if u.DomainID == "" {
		u.DomainID = DefaultDomainID
	}
	if err := s.checkUser(ctx, &u); err != nil {
		return nil, err
	}
	if _, err := s.store.GetDomain(ctx, u.DomainID); err != nil {
		return nil, err
	}
	if n.Password != "" {
		h, err := s.hashPassword(ctx, n.Password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
	}
	u.ID = newID()
	if err := s.store.CreateUser(ctx, &u); err != nil {
		return nil, userConflict(err, &u)
	}
	return &u, nil
}

// checkUser validates the fields a user is created or updated with.
func (s *Service) checkUser(ctx context.Context, u *User) error {
	if err := checkName("user", u.Name, maxName); err != nil {
		return err
	}
	if err := checkDescription(u.Description); err != nil {
		return err
	}
	if len(u.Email) > maxName {
		return Errorf(ErrInvalid, "Invalid input for field 'email': too long.")
	}
	if u.DefaultProjectID != "" {
		if _, err := s.store.GetProject(ctx, u.DefaultProjectID); err != nil {
			return err
		}
	}
	return nil
}

func userConflict(err error, u *User) error {
	if errors.Is(err, ErrConflict) {
		return Errorf(ErrConflict, "Conflict occurred attempting to store user - Duplicate entry found with name %s at domain ID %s.",
			u.Name, u.DomainID)
	}
	return err
}

// GetUser returns one user.
func (s *Service) GetUser(ctx context.Context, id string) (*User, error) {
	return s.store.GetUser(ctx, id)
}

// ListUsers returns the users matching f.
func (s *Service) ListUsers(ctx context.Context, f Filter) ([]*User, error) {
	return s.store.ListUsers(ctx, f)
}

// UserUpdate holds the fields to change; nil fields stay.
type UserUpdate struct {
	Name             *string
	Password         *string
	Enabled          *bool
	DefaultProjectID *string
	Description      *string
	Email            *string
}

// UpdateUser changes a user and returns it as stored. A new password
// invalidates the user's existing tokens, as in Keystone.
func (s *Service) UpdateUser(ctx context.Context, id string, up UserUpdate) (*User, error) {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		dst *string
		src *string
	}{{&u.Name, up.Name}, {&u.DefaultProjectID, up.DefaultProjectID},
		{&u.Description, up.Description}, {&u.Email, up.Email}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if up.Enabled != nil {
		u.Enabled = *up.Enabled
	}
	if err := s.checkUser(ctx, u); err != nil {
		return nil, err
	}
	if up.Password != nil {
		if u.PasswordHash, err = s.hashPassword(ctx, *up.Password); err != nil {
			return nil, err
		}
		// At the tokens' own resolution: a token issued in the same
		// millisecond as the change stays valid rather than a fresh
		// login failing.
		u.TokensNotBefore = s.now().Truncate(time.Millisecond)
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return nil, userConflict(err, u)
	}
	return u, nil
}

// ChangePassword is a user changing its own password, proving it knows
// the current one. A wrong original password is ErrUnauthorized and
// counts as a failed login.
func (s *Service) ChangePassword(ctx context.Context, userID, original, password string) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	if _, err := s.checkPassword(ctx, PasswordCredentials{UserID: userID, Password: original}, SourceFrom(ctx)); err != nil {
		return err
	}
	_, err := s.UpdateUser(ctx, userID, UserUpdate{Password: &password})
	return err
}

// DeleteUser deletes a user and its role assignments; its tokens stop
// working at once.
func (s *Service) DeleteUser(ctx context.Context, id string) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	return s.store.DeleteUser(ctx, id)
}

// UserProjects returns the projects on which the user has a role, only
// enabled ones if enabledOnly (what a token may be scoped to).
func (s *Service) UserProjects(ctx context.Context, userID string, enabledOnly bool) ([]*Project, error) {
	as, err := s.store.ListAssignments(ctx, AssignmentFilter{UserID: userID, ProjectOnly: true})
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, a := range as {
		ids = append(ids, a.ProjectID)
	}
	slices.Sort(ids)
	ps := []*Project{}
	for _, id := range slices.Compact(ids) {
		p, err := s.store.GetProject(ctx, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if p.Enabled || !enabledOnly {
			ps = append(ps, p)
		}
	}
	return ps, nil
}

// checkName rejects empty, over-long and control-character names.
func checkName(kind, name string, limit int) error {
	if strings.TrimSpace(name) == "" {
		return Errorf(ErrInvalid, "Invalid input for field 'name': the %s name must not be empty.", kind)
	}
	if len(name) > limit {
		return Errorf(ErrInvalid, "Invalid input for field 'name': the %s name is longer than %d characters.", kind, limit)
	}
	if strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Errorf(ErrInvalid, "Invalid input for field 'name': the %s name contains control characters.", kind)
	}
	return nil
}

func checkDescription(d string) error {
	if len(d) > maxDescription {
		return Errorf(ErrInvalid, "Invalid input for field 'description': longer than %d characters.", maxDescription)
	}
	return nil
}
