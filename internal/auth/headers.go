package auth

import (
	"context"
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/caller"
)

// TrustedHeaders takes the caller from the headers that keystonemiddleware
// sets after validating a token (X-Project-Id, X-User-Id, X-Roles). It must
// only run behind something that sets those headers itself, or in tests:
// any client can forge them.
type TrustedHeaders struct{}

var _ Authenticator = TrustedHeaders{}

// Authenticate implements Authenticator. A request without a project or a
// user is unauthenticated.
func (TrustedHeaders) Authenticate(_ context.Context, r *http.Request) (caller.Principal, error) {
	p := caller.Principal{
		UserID:    firstHeader(r, "X-User-Id", "X-User"),
		ProjectID: firstHeader(r, "X-Project-Id", "X-Tenant-Id", "X-Tenant"),
	}
	for _, role := range strings.Split(r.Header.Get("X-Roles"), ",") {
		if role = strings.TrimSpace(role); role != "" {
			p.Roles = append(p.Roles, role)
		}
	}
	if p.ProjectID == "" && p.UserID == "" {
		return caller.Principal{}, ErrUnauthenticated
	}
	return p, nil
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := strings.TrimSpace(r.Header.Get(n)); v != "" {
			return v
		}
	}
	return ""
}
