// Package identity is glint's built-in identity service: the subset of
// Keystone v3 that OpenStack clients need to log in to a stand-alone glint
// and manage its tenants. It holds the domain (domains, projects, users,
// roles and role assignments), issues and validates stateless signed
// tokens, throttles password guessing and bootstraps a fresh installation.
// The HTTP side lives in internal/identityapi; the tables in the metadata
// store (internal/sqlstore).
package identity

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultDomainID and DefaultDomainName identify the domain Keystone's
// bootstrap creates and that every client assumes when told nothing else.
const (
	DefaultDomainID   = "default"
	DefaultDomainName = "Default"
)

// The roles bootstrap creates. Each implies the next (admin → member →
// reader), as Keystone's bootstrap sets them up, so a token lists every
// role its holder effectively has.
const (
	RoleAdmin  = "admin"
	RoleMember = "member"
	RoleReader = "reader"
)

// impliedRoles maps a role name to the roles it directly implies. The
// chain is fixed: glint does not offer the implied-roles API.
var impliedRoles = map[string][]string{
	RoleAdmin:  {RoleMember},
	RoleMember: {RoleReader},
}

// Domain is a namespace for projects and users. Glint has one, Default,
// but keeps the type so names and ids look as they do in Keystone.
type Domain struct {
	ID          string
	Name        string
	Description string
	Enabled     bool
}

// Project owns resources (images); users act on it through roles.
type Project struct {
	ID          string
	DomainID    string
	Name        string
	Description string
	Enabled     bool
}

// User is someone who can log in with a password.
type User struct {
	ID               string
	DomainID         string
	Name             string
	PasswordHash     string // bcrypt; empty means password login is impossible
	Enabled          bool
	DefaultProjectID string // scope of a login that asks for none; may be ""
	Description      string
	Email            string
	// TokensNotBefore invalidates every token of the user issued before it
	// (set when the password changes, as Keystone revokes them then). Zero
	// means no such cut-off.
	TokensNotBefore time.Time
}

// Role is a named set of permissions; policy rules check role names.
type Role struct {
	ID          string
	Name        string
	Description string
}

// Assignment gives a user a role either on a project or on the whole
// system (System true, ProjectID empty).
type Assignment struct {
	UserID    string
	ProjectID string
	System    bool
	RoleID    string
}

// Filter selects list entries by exact name and domain; empty fields
// select everything. Domains and roles have no domain to filter on.
type Filter struct {
	Name     string
	DomainID string
}

// AssignmentFilter selects assignments; empty fields select everything.
// ProjectID implies project assignments only; SystemOnly asks for system
// assignments only.
type AssignmentFilter struct {
	UserID      string
	RoleID      string
	ProjectID   string
	SystemOnly  bool
	ProjectOnly bool
}

// LoginFailures is the record of a user's recent failed password logins.
type LoginFailures struct {
	Count  int
	LastAt time.Time // zero when Count is 0
}

// Store is where the identity data lives. It is composed of one small
// interface per kind of record; the SQL metadata store implements all of
// them, and identitytest.Run is the contract every implementation passes.
//
// Lookups of a missing record return an error wrapping ErrNotFound; a
// second record with the same id, or the same name in the same domain,
// an error wrapping ErrConflict.
type Store interface {
	DomainStore
	ProjectStore
	UserStore
	RoleStore
	AssignmentStore
	TokenStore
}

// DomainStore keeps domains.
type DomainStore interface {
	CreateDomain(ctx context.Context, d *Domain) error
	GetDomain(ctx context.Context, id string) (*Domain, error)
	ListDomains(ctx context.Context, f Filter) ([]*Domain, error)
}

// ProjectStore keeps projects. Deleting a project drops its assignments.
type ProjectStore interface {
	CreateProject(ctx context.Context, p *Project) error
	GetProject(ctx context.Context, id string) (*Project, error)
	ListProjects(ctx context.Context, f Filter) ([]*Project, error)
	UpdateProject(ctx context.Context, p *Project) error
	DeleteProject(ctx context.Context, id string) error
}

// UserStore keeps users. Deleting a user drops its assignments and its
// login failures.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, id string) (*User, error)
	ListUsers(ctx context.Context, f Filter) ([]*User, error)
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, id string) error
}

// RoleStore keeps roles. Deleting a role drops its assignments.
type RoleStore interface {
	CreateRole(ctx context.Context, r *Role) error
	GetRole(ctx context.Context, id string) (*Role, error)
	ListRoles(ctx context.Context, f Filter) ([]*Role, error)
	DeleteRole(ctx context.Context, id string) error
}

// AssignmentStore keeps role assignments. Adding one that exists is not
// an error; adding one whose user, project or role is missing is
// ErrNotFound, and so is removing one that does not exist.
type AssignmentStore interface {
	AddAssignment(ctx context.Context, a Assignment) error
	RemoveAssignment(ctx context.Context, a Assignment) error
	ListAssignments(ctx context.Context, f AssignmentFilter) ([]Assignment, error)
}

// TokenStore keeps what stateless tokens cannot carry: revocations (by
// audit id, kept until the token would have expired anyway) and failed
// login counts, shared by every node using the database.
type TokenStore interface {
	RevokeToken(ctx context.Context, auditID string, expiresAt time.Time) error
	IsTokenRevoked(ctx context.Context, auditID string) (bool, error)
	PurgeRevocations(ctx context.Context, before time.Time) error

	LoginFailures(ctx context.Context, userID string) (LoginFailures, error)
	// AddLoginFailure counts one more failure at `at`, first forgetting
	// the earlier ones if the last of them came before `since`, and
	// returns the new record. It is one atomic step, so failures on
	// several nodes at once are all counted.
	AddLoginFailure(ctx context.Context, userID string, at, since time.Time) (LoginFailures, error)
	ClearLoginFailures(ctx context.Context, userID string) error
}

// Kinds of error. The HTTP layer maps each to one status code.
var (
	ErrUnauthorized = errors.New("unauthorized") // 401: bad credentials or token
	ErrForbidden    = errors.New("forbidden")    // 403
	ErrNotFound     = errors.New("not found")    // 404
	ErrConflict     = errors.New("conflict")     // 409
	ErrInvalid      = errors.New("invalid")      // 400
	ErrBusy         = errors.New("busy")         // 429: too many logins in progress
)

// Error is an error with a message that may be shown to the caller. Kind
// is one of the sentinels above, so errors.Is works on it.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// Errorf returns an *Error of the given kind.
func Errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// NotFound is the error for a missing record, worded as Keystone words it
// ("Could not find project: 1234.").
func NotFound(kind, id string) error {
	return Errorf(ErrNotFound, "Could not find %s: %s.", kind, id)
}

// unauthorized is the one error a failed login or token check returns.
// The reason goes to the log only: callers learn nothing about which part
// of their credentials was wrong.
type unauthorized struct{ reason string }

func (e *unauthorized) Error() string { return "unauthorized: " + e.reason }
func (e *unauthorized) Unwrap() error { return ErrUnauthorized }

func deny(format string, args ...any) error {
	return &unauthorized{reason: fmt.Sprintf(format, args...)}
}
