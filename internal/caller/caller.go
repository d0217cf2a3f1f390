// Package caller says who is calling: the Principal an authenticator
// established at the edge, carried to the domain in a context or as a
// value. It knows no transport; internal/auth turns requests into
// principals.
package caller

import (
	"context"
	"strings"
)

// Principal is an authenticated caller.
type Principal struct {
	UserID    string
	ProjectID string
	Roles     []string

	// Set by token authenticators that know them (empty otherwise).
	UserName        string
	UserDomainID    string
	ProjectName     string
	ProjectDomainID string
	// SystemScope is set for a system-scoped token (Keystone's
	// "system": {"all": true}); ProjectID is then empty.
	SystemScope bool
}

// HasRole reports whether the principal holds role (case-insensitive, as
// oslo.policy compares roles).
func (p Principal) HasRole(role string) bool {
	for _, r := range p.Roles {
		if strings.EqualFold(r, role) {
			return true
		}
	}
	return false
}

// IsAdmin reports whether the principal holds the admin role.
func (p Principal) IsAdmin() bool { return p.HasRole("admin") }

type principalKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal in ctx, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}

type tokenKey struct{}

// WithToken returns ctx carrying the caller's token, for the services
// glint calls on the caller's behalf (an external Barbican).
func WithToken(ctx context.Context, token string) context.Context {
	return context.WithValue(ctx, tokenKey{}, token)
}

// TokenFromContext returns the caller's token in ctx, "" if none.
func TokenFromContext(ctx context.Context) string {
	t, _ := ctx.Value(tokenKey{}).(string)
	return t
}
