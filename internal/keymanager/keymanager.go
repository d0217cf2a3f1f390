// Package keymanager is glint's own key manager: secrets (in practice the
// certificates that image signatures are checked against) owned by a
// project, with Barbican's access rules, so that Barbican's clients and
// the signature verifier can use glint in place of a Barbican. The HTTP
// side (Barbican's secrets API) is internal/keymanagerapi; a client of an
// existing Barbican is internal/keymanager/barbican.
package keymanager

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Secret types, as Barbican names them.
const (
	TypeSymmetric   = "symmetric"
	TypePublic      = "public"
	TypePrivate     = "private"
	TypePassphrase  = "passphrase"
	TypeCertificate = "certificate"
	TypeOpaque      = "opaque"
)

// formats are the formats castellan gives each type's objects; cursive
// names them when it refuses a secret that is not a certificate.
var formats = map[string]string{
	TypeSymmetric:   "RAW",
	TypePublic:      "SubjectPublicKeyInfo",
	TypePrivate:     "PKCS8",
	TypePassphrase:  "RAW",
	TypeCertificate: "X.509",
	TypeOpaque:      "Opaque",
}

// Format is the castellan format of a secret type.
func Format(secretType string) string {
	if f, ok := formats[secretType]; ok {
		return f
	}
	return secretType
}

// Secret is one stored secret.
type Secret struct {
	ID        string
	ProjectID string
	// CreatorID is the user who stored it.
	CreatorID string
	Name      string
	Type      string
	Algorithm string
	BitLength int
	Mode      string
	// ContentType is the payload's media type (payload_content_type):
	// text/plain, application/octet-stream, application/pkcs8 or
	// application/pkix-cert.
	ContentType string
	// Payload is the secret itself, decoded. The store keeps it sealed
	// (see Service); Get leaves it empty.
	Payload    []byte
	Expiration *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Expired reports whether the secret's expiration has passed at now.
func (s *Secret) Expired(now time.Time) bool {
	return s.Expiration != nil && !s.Expiration.After(now)
}

// Store keeps secrets. internal/keymanager/keymanagertest is the
// conformance suite every implementation runs.
type Store interface {
	// CreateSecret inserts s (Payload sealed). An id already used is
	// ErrConflict.
	CreateSecret(ctx context.Context, s *Secret) error
	// GetSecret returns a secret with its sealed payload; ErrNotFound
	// when missing.
	GetSecret(ctx context.Context, id string) (*Secret, error)
	// ListSecrets returns one project's secrets matching q, oldest first
	// (created_at, then id), without payloads, and how many match in all.
	ListSecrets(ctx context.Context, q ListQuery) ([]*Secret, int, error)
	// DeleteSecret removes a secret; ErrNotFound when missing.
	DeleteSecret(ctx context.Context, id string) error
}

// ListQuery is one page of a project's secrets.
type ListQuery struct {
	ProjectID string
	// Name and Type filter when set; NotExpired leaves out secrets
	// whose expiration is not after it (nil: none left out).
	Name, Type string
	NotExpired *time.Time
	Offset     int
	Limit      int
}

// Kinds of error; the HTTP layer maps each to one status.
var (
	ErrNotFound  = errors.New("not found")  // 404
	ErrForbidden = errors.New("forbidden")  // 403
	ErrInvalid   = errors.New("invalid")    // 400
	ErrTooLarge  = errors.New("too large")  // 413
	ErrConflict  = errors.New("conflict")   // 409
	ErrQuota     = errors.New("over quota") // 403
	// ErrUnavailable: the secret could not be read now (the records store
	// failed, or an external Barbican did not answer or answered 5xx or
	// 429); asking again later may work. The signature verifier keeps a
	// partial upload on it instead of discarding it as for a bad
	// certificate.
	ErrUnavailable = errors.New("unavailable")
)

// Error is a domain error with a message for a person.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

func errorf(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}
