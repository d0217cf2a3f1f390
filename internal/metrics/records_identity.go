package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

// The identity.Store methods of Records: each times one call.

func (rec *Records) CreateDomain(ctx context.Context, d *identity.Domain) error {
	defer rec.observe("CreateDomain", time.Now())
	return rec.identities.CreateDomain(ctx, d)
}

func (rec *Records) GetDomain(ctx context.Context, id string) (*identity.Domain, error) {
	defer rec.observe("GetDomain", time.Now())
	return rec.identities.GetDomain(ctx, id)
}

func (rec *Records) ListDomains(ctx context.Context, f identity.Filter) ([]*identity.Domain, error) {
	defer rec.observe("ListDomains", time.Now())
	return rec.identities.ListDomains(ctx, f)
}

func (rec *Records) CreateProject(ctx context.Context, p *identity.Project) error {
	defer rec.observe("CreateProject", time.Now())
	return rec.identities.CreateProject(ctx, p)
}

func (rec *Records) GetProject(ctx context.Context, id string) (*identity.Project, error) {
	defer rec.observe("GetProject", time.Now())
	return rec.identities.GetProject(ctx, id)
}

func (rec *Records) ListProjects(ctx context.Context, f identity.Filter) ([]*identity.Project, error) {
	defer rec.observe("ListProjects", time.Now())
	return rec.identities.ListProjects(ctx, f)
}

func (rec *Records) UpdateProject(ctx context.Context, p *identity.Project) error {
	defer rec.observe("UpdateProject", time.Now())
	return rec.identities.UpdateProject(ctx, p)
}

func (rec *Records) DeleteProject(ctx context.Context, id string) error {
	defer rec.observe("DeleteProject", time.Now())
	return rec.identities.DeleteProject(ctx, id)
}

func (rec *Records) CreateUser(ctx context.Context, u *identity.User) error {
	defer rec.observe("CreateUser", time.Now())
	return rec.identities.CreateUser(ctx, u)
}

func (rec *Records) GetUser(ctx context.Context, id string) (*identity.User, error) {
	defer rec.observe("GetUser", time.Now())
	return rec.identities.GetUser(ctx, id)
}

func (rec *Records) ListUsers(ctx context.Context, f identity.Filter) ([]*identity.User, error) {
	defer rec.observe("ListUsers", time.Now())
	return rec.identities.ListUsers(ctx, f)
}

func (rec *Records) UpdateUser(ctx context.Context, u *identity.User) error {
	defer rec.observe("UpdateUser", time.Now())
	return rec.identities.UpdateUser(ctx, u)
}

func (rec *Records) DeleteUser(ctx context.Context, id string) error {
	defer rec.observe("DeleteUser", time.Now())
	return rec.identities.DeleteUser(ctx, id)
}

func (rec *Records) CreateRole(ctx context.Context, r *identity.Role) error {
	defer rec.observe("CreateRole", time.Now())
	return rec.identities.CreateRole(ctx, r)
}

func (rec *Records) GetRole(ctx context.Context, id string) (*identity.Role, error) {
	defer rec.observe("GetRole", time.Now())
	return rec.identities.GetRole(ctx, id)
}

func (rec *Records) ListRoles(ctx context.Context, f identity.Filter) ([]*identity.Role, error) {
	defer rec.observe("ListRoles", time.Now())
	return rec.identities.ListRoles(ctx, f)
}

func (rec *Records) DeleteRole(ctx context.Context, id string) error {
	defer rec.observe("DeleteRole", time.Now())
	return rec.identities.DeleteRole(ctx, id)
}

func (rec *Records) AddAssignment(ctx context.Context, a identity.Assignment) error {
	defer rec.observe("AddAssignment", time.Now())
	return rec.identities.AddAssignment(ctx, a)
}

func (rec *Records) RemoveAssignment(ctx context.Context, a identity.Assignment) error {
	defer rec.observe("RemoveAssignment", time.Now())
	return rec.identities.RemoveAssignment(ctx, a)
}

func (rec *Records) ListAssignments(ctx context.Context, f identity.AssignmentFilter) ([]identity.Assignment, error) {
	defer rec.observe("ListAssignments", time.Now())
	return rec.identities.ListAssignments(ctx, f)
}

func (rec *Records) RevokeToken(ctx context.Context, auditID string, expiresAt time.Time) error {
	defer rec.observe("RevokeToken", time.Now())
	return rec.identities.RevokeToken(ctx, auditID, expiresAt)
}

func (rec *Records) IsTokenRevoked(ctx context.Context, auditID string) (bool, error) {
	defer rec.observe("IsTokenRevoked", time.Now())
	return rec.identities.IsTokenRevoked(ctx, auditID)
}

func (rec *Records) PurgeRevocations(ctx context.Context, before time.Time) error {
	defer rec.observe("PurgeRevocations", time.Now())
	return rec.identities.PurgeRevocations(ctx, before)
}

func (rec *Records) LoginFailures(ctx context.Context, userID string) (identity.LoginFailures, error) {
	defer rec.observe("LoginFailures", time.Now())
	return rec.identities.LoginFailures(ctx, userID)
}

func (rec *Records) AddLoginFailure(ctx context.Context, userID string, at time.Time, since time.Time) (identity.LoginFailures, error) {
	defer rec.observe("AddLoginFailure", time.Now())
	return rec.identities.AddLoginFailure(ctx, userID, at, since)
}

func (rec *Records) ClearLoginFailures(ctx context.Context, userID string) error {
	defer rec.observe("ClearLoginFailures", time.Now())
	return rec.identities.ClearLoginFailures(ctx, userID)
}
