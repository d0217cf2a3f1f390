package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/caller"
)

// TokenAuthenticator authenticates Image API requests by the X-Auth-Token
// they carry, validated in-process against the identity service (no HTTP
// round trip, unlike keystonemiddleware in front of Glance).
type TokenAuthenticator struct {
	svc *Service
}

var _ auth.Authenticator = (*TokenAuthenticator)(nil)

// NewTokenAuthenticator returns an authenticator over svc.
func NewTokenAuthenticator(svc *Service) *TokenAuthenticator {
	return &TokenAuthenticator{svc: svc}
}

// Authenticate implements auth.Authenticator. A missing, malformed,
// forged, expired or revoked token is auth.ErrUnauthenticated, and so is
// an unscoped one: it names no project the image service could act for,
// and under Glance every policy needs one (keystonemiddleware passes such
// a token on, Glance then denies it; answering 401 here tells the client
// to fetch a scoped token instead). A failing store is returned as is.
func (a *TokenAuthenticator) Authenticate(ctx context.Context, r *http.Request) (caller.Principal, error) {
	t, err := a.svc.ValidateToken(ctx, r.Header.Get("X-Auth-Token"))
	if errors.Is(err, ErrUnauthorized) {
		return caller.Principal{}, fmt.Errorf("%w: %v", auth.ErrUnauthenticated, err)
	}
	if err != nil {
		return caller.Principal{}, err
	}
	if !t.Scoped() {
		return caller.Principal{}, fmt.Errorf("%w: unscoped token", auth.ErrUnauthenticated)
	}
	return PrincipalOf(t), nil
}

// PrincipalOf returns the caller.Principal a validated token stands for.
func PrincipalOf(t *Token) caller.Principal {
	p := caller.Principal{
		UserID:       t.User.ID,
		UserName:     t.User.Name,
		UserDomainID: t.User.DomainID,
		Roles:        t.RoleNames(),
		SystemScope:  t.System,
	}
	if t.Project != nil {
		p.ProjectID = t.Project.ID
		p.ProjectName = t.Project.Name
		p.ProjectDomainID = t.Project.DomainID
	}
	return p
}

// Challenge is the WWW-Authenticate value of a 401, pointing clients at
// the identity service as Keystone's does: Keystone uri="<auth URL>".
func Challenge(authURL string) string {
	return `Keystone uri="` + authURL + `"`
}
