package image

import (
	"errors"
	"fmt"
	"time"
)

// Kinds of domain error. The HTTP layer maps each to one status code in a
// single function (internal/api errors.go); nothing else knows about HTTP.
var (
	ErrNotFound    = errors.New("not found")             // 404
	ErrForbidden   = errors.New("forbidden")             // 403
	ErrConflict    = errors.New("conflict")              // 409
	ErrDuplicate   = errors.New("duplicate")             // 409
	ErrInvalid     = errors.New("invalid")               // 400
	ErrTooLarge    = errors.New("too large")             // 413
	ErrGone        = errors.New("gone")                  // 410
	ErrRange       = errors.New("range not satisfiable") // 416
	ErrUnsupported = errors.New("unsupported")           // 415
	ErrUnavailable = errors.New("unavailable")           // 503
	ErrTimeout     = errors.New("timeout")               // 408: the client stopped sending
)

// Error is a domain error with a message meant for a person. Kind is one of
// the sentinels above, so errors.Is(err, ErrNotFound) works on it.
type Error struct {
	Kind error
	Msg  string
	// Detail marks a message Glance gives as the detail under the
	// status's standard explanation ("Property x does not exist."), not as
	// the explanation itself; the HTTP layer composes it that way.
	Detail bool
	// cause is the underlying failure, for logs; never shown to clients.
	cause error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return e.Msg + " (" + e.cause.Error() + ")"
	}
	return e.Msg
}

func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

func newError(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// newDetail is newError for a message Glance words as a detail.
func newDetail(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Detail: true}
}

func notFoundImage(id string) error {
	return newError(ErrNotFound, "No image found with ID %s", id)
}

// RetryAfter is how long err's cause said to wait before asking again (a
// key manager's Retry-After on its 429 or 503), or 0 when nothing in err's
// chain says. An error carries the hint by having a RetryAfter method; the
// HTTP layer renders it, so no store or client needs to know HTTP's header
// to pass it on.
func RetryAfter(err error) time.Duration {
	var hint interface{ RetryAfter() time.Duration }
	if errors.As(err, &hint) {
		return hint.RetryAfter()
	}
	return 0
}
