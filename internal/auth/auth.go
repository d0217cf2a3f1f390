// Package auth establishes who is calling: an Authenticator turns a request
// into a caller.Principal, which the API puts in the request context for
// the handlers.
package auth

import (
	"context"
	"errors"
	"net/http"

	"github.com/glint-image/glint/internal/caller"
)

// ErrUnauthenticated means the request carries no usable credentials.
var ErrUnauthenticated = errors.New("unauthenticated")

// ErrUnavailable means the credentials could not be checked (an identity
// service that does not answer): the request fails, it is not let in.
var ErrUnavailable = errors.New("identity service unavailable")

// Authenticator identifies the caller of a request.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (caller.Principal, error)
}
