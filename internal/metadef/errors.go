package metadef

import (
	"errors"
	"fmt"
)

// Kinds of error. The HTTP layer maps each to one status code in
// internal/api errors.go; the Store returns the last three too.
var (
	ErrInvalid   = errors.New("metadef: invalid")   // 400
	ErrForbidden = errors.New("metadef: forbidden") // 403
	ErrNotFound  = errors.New("metadef: not found") // 404
	ErrDuplicate = errors.New("metadef: duplicate") // 409
	// ErrProtected is a Store's answer to deleting from a protected
	// namespace; the Service words it as a 403.
	ErrProtected = errors.New("metadef: protected")
)

// Error is a domain error with the message Glance gives for it.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Duplicate is a Store's answer to a write that would repeat a unique
// name: What is "namespace", "object", "property", "tag" or
// "association", Name the name repeated.
type Duplicate struct {
	What, Name string
}

func (d *Duplicate) Error() string { return fmt.Sprintf("metadef: duplicate %s %q", d.What, d.Name) }
func (d *Duplicate) Unwrap() error { return ErrDuplicate }

// notFoundResource is Glance's bare 404, for a namespace the caller may
// not see ("The resource could not be found.").
func notFoundResource() error {
	return newError(ErrNotFound, "The resource could not be found.")
}
