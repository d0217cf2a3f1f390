package identity

import (
	"context"
	"errors"
	"fmt"
)

// Roles and role assignments.

// builtinRole reports whether a role is one of bootstrap's, which Keystone
// marks immutable.
func builtinRole(name string) bool {
	return name == RoleAdmin || name == RoleMember || name == RoleReader
}

// Immutable reports whether the role may not be deleted.
func (r *Role) Immutable() bool { return builtinRole(r.Name) }

// ListRoles returns the roles matching f (by name).
func (s *Service) ListRoles(ctx context.Context, f Filter) ([]*Role, error) {
	return s.store.ListRoles(ctx, Filter{Name: f.Name})
}

// GetRole returns one role.
func (s *Service) GetRole(ctx context.Context, id string) (*Role, error) {
	return s.store.GetRole(ctx, id)
}

// CreateRole creates a role (for custom policy rules; it implies nothing).
func (s *Service) CreateRole(ctx context.Context, r Role) (*Role, error) {
	if err := checkName("role", r.Name, maxName); err != nil {
		return nil, err
	}
	if err := checkDescription(r.Description); err != nil {
		return nil, err
	}
	r.ID = newID()
	if err := s.store.CreateRole(ctx, &r); err != nil {
		if errors.Is(err, ErrConflict) {
			return nil, Errorf(ErrConflict, "Conflict occurred attempting to store role - Duplicate entry found with name %s.", r.Name)
		}
		return nil, err
	}
	return &r, nil
}

// DeleteRole deletes a role and its assignments; bootstrap's roles are
// immutable.
func (s *Service) DeleteRole(ctx context.Context, id string) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	r, err := s.store.GetRole(ctx, id)
	if err != nil {
		return err
	}
	if r.Immutable() {
		return Errorf(ErrForbidden, "Unable to delete immutable role %s.", r.Name)
	}
	return s.store.DeleteRole(ctx, id)
}

// Grant adds a role assignment; granting one that exists is not an error.
func (s *Service) Grant(ctx context.Context, a Assignment) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	if err := s.checkAssignment(ctx, a); err != nil {
		return err
	}
	return s.store.AddAssignment(ctx, a)
}

// RevokeGrant removes a role assignment.
func (s *Service) RevokeGrant(ctx context.Context, a Assignment) error {
	defer s.validated.clear() // tokens may now be refused, or carry other roles
	if err := s.checkAssignment(ctx, a); err != nil {
		return err
	}
	err := s.store.RemoveAssignment(ctx, a)
	if errors.Is(err, ErrNotFound) {
		return notGranted(a)
	}
	return err
}

// CheckGrant returns nil if the assignment exists, ErrNotFound if not.
func (s *Service) CheckGrant(ctx context.Context, a Assignment) error {
	if err := s.checkAssignment(ctx, a); err != nil {
		return err
	}
	f := AssignmentFilter{UserID: a.UserID, RoleID: a.RoleID, ProjectID: a.ProjectID, SystemOnly: a.System}
	as, err := s.store.ListAssignments(ctx, f)
	if err != nil {
		return err
	}
	if len(as) == 0 {
		return notGranted(a)
	}
	return nil
}

func notGranted(a Assignment) error {
	target := "project " + a.ProjectID
	if a.System {
		target = "the system"
	}
	return Errorf(ErrNotFound, "Could not find role assignment with role: %s, user: %s, %s.", a.RoleID, a.UserID, target)
}

// checkAssignment finds each record an assignment names, so a missing one
// gets Keystone's "Could not find role: ..." rather than a generic error.
func (s *Service) checkAssignment(ctx context.Context, a Assignment) error {
	if a.System == (a.ProjectID != "") {
		return Errorf(ErrInvalid, "A role assignment is either on a project or on the system.")
	}
	if _, err := s.store.GetRole(ctx, a.RoleID); err != nil {
		return err
	}
	if _, err := s.store.GetUser(ctx, a.UserID); err != nil {
		return err
	}
	if !a.System {
		if _, err := s.store.GetProject(ctx, a.ProjectID); err != nil {
			return err
		}
	}
	return nil
}

// ListAssignments returns the assignments matching f. With effective, each
// assignment is followed by the ones its role implies, as Keystone's
// ?effective lists them.
func (s *Service) ListAssignments(ctx context.Context, f AssignmentFilter, effective bool) ([]Assignment, error) {
	if !effective {
		return s.store.ListAssignments(ctx, f)
	}
	// Implied roles count for the role filter too, so list without it and
	// filter after expanding.
	roleID := f.RoleID
	f.RoleID = ""
	direct, err := s.store.ListAssignments(ctx, f)
	if err != nil {
		return nil, err
	}
	var out []Assignment
	seen := map[Assignment]bool{}
	for _, a := range direct {
		roles, err := s.effectiveRoles(ctx, AssignmentFilter{UserID: a.UserID, RoleID: a.RoleID,
			ProjectID: a.ProjectID, SystemOnly: a.System, ProjectOnly: !a.System})
		if err != nil {
			return nil, err
		}
		for _, r := range roles {
			e := a
			e.RoleID = r.ID
			if !seen[e] && (roleID == "" || roleID == r.ID) {
				seen[e] = true
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// String renders an assignment for logs.
func (a Assignment) String() string {
	if a.System {
		return fmt.Sprintf("user %s role %s on system", a.UserID, a.RoleID)
	}
	return fmt.Sprintf("user %s role %s on project %s", a.UserID, a.RoleID, a.ProjectID)
}
