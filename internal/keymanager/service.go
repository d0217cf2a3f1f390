package keymanager

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/caller"
)

// Bounds, Barbican's defaults where it has one.
const (
	// DefaultMaxPayload is the largest secret, decoded, in bytes
	// (Barbican's max_allowed_secret_in_bytes).
	DefaultMaxPayload = 20000
	// DefaultMaxSecrets is how many secrets one project may keep.
	DefaultMaxSecrets = 1000
	// MaxListLimit is the largest page of a listing (Barbican's
	// max_limit_paging); DefaultListLimit the page without ?limit.
	MaxListLimit     = 100
	DefaultListLimit = 10
	maxName          = 255
)

// Options tune the service.
type Options struct {
	// Key seals payloads at rest (AES-256-GCM): 32 bytes, shared by every
	// node of one database.
	Key        []byte
	MaxPayload int
	MaxSecrets int
	Now        func() time.Time
}

// Service applies Barbican's rules to secrets kept in a Store.
type Service struct {
	store Store
	aead  cipher.AEAD
	opts  Options
}

// NewService wires a Service.
func NewService(store Store, opts Options) (*Service, error) {
	if len(opts.Key) != 32 {
		return nil, errors.New("keymanager: the sealing key must be 32 bytes")
	}
	block, err := aes.NewCipher(opts.Key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if opts.MaxPayload <= 0 {
		opts.MaxPayload = DefaultMaxPayload
	}
	if opts.MaxSecrets <= 0 {
		opts.MaxSecrets = DefaultMaxSecrets
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, aead: aead, opts: opts}, nil
}

// MaxPayload is the largest payload accepted, decoded.
func (s *Service) MaxPayload() int { return s.opts.MaxPayload }

// NewSecret is a decoded POST /v1/secrets.
type NewSecret struct {
	Name, Type, Algorithm, Mode string
	BitLength                   int
	Payload                     string
	ContentType                 string
	ContentEncoding             string
	Expiration                  *time.Time
}

// contentTypes are the payload media types Barbican accepts; binary says
// the payload arrives base64-encoded.
var contentTypes = map[string]bool{
	"text/plain":               false,
	"application/octet-stream": true,
	"application/pkcs8":        true,
	"application/pkix-cert":    true,
}

// The roles of Barbican's default rules, with Keystone's implied roles
// (admin implies member).
func isMember(p caller.Principal) bool { return p.HasRole("member") || p.IsAdmin() }

func denied(what string) error {
	return errorf(ErrForbidden, "%s attempt not allowed - please review your user/project privileges", what)
}

var errNotFound = errorf(ErrNotFound, "Secret not found.")

// Create stores a secret for the caller's project (rule secrets:post:
// a member of a project).
func (s *Service) Create(ctx context.Context, p caller.Principal, in NewSecret) (*Secret, error) {
	if p.ProjectID == "" || !isMember(p) {
		return nil, denied("Secret creation")
	}
	now := s.opts.Now().UTC().Truncate(time.Microsecond)
	sec, err := s.validate(in, now)
	if err != nil {
		return nil, err
	}
	sec.ID, sec.ProjectID, sec.CreatorID = uuid.NewString(), p.ProjectID, p.UserID
	sec.CreatedAt, sec.UpdatedAt = now, now
	_, total, err := s.store.ListSecrets(ctx, ListQuery{ProjectID: p.ProjectID, Limit: 1})
	if err != nil {
		return nil, err
	}
	if total >= s.opts.MaxSecrets {
		return nil, errorf(ErrQuota, "Quota reached for project %s. Only %d secrets are allowed.", p.ProjectID, s.opts.MaxSecrets)
	}
	plain := sec.Payload
	sealed := *sec
	sealed.Payload = s.seal(sec.ID, plain)
	if err := s.store.CreateSecret(ctx, &sealed); err != nil {
		return nil, err
	}
	return sec, nil
}

// validate checks a new secret as Barbican's validators do and decodes
// its payload.
func (s *Service) validate(in NewSecret, now time.Time) (*Secret, error) {
	sec := &Secret{Name: in.Name, Type: in.Type, Algorithm: in.Algorithm, Mode: in.Mode, BitLength: in.BitLength, Expiration: in.Expiration}
	if sec.Type == "" {
		sec.Type = TypeOpaque
	}
	if _, ok := formats[sec.Type]; !ok {
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': '%s' is not one of ['symmetric', 'passphrase', 'private', 'public', 'certificate', 'opaque']", sec.Type)
	}
	for field, v := range map[string]string{"name": in.Name, "algorithm": in.Algorithm, "mode": in.Mode} {
		if utf8.RuneCountInString(v) > maxName {
			return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': '%s' is longer than %d characters", field, maxName)
		}
	}
	if in.BitLength < 0 {
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': bit_length must be greater than or equal to 0")
	}
	if in.Expiration != nil && !in.Expiration.After(now) {
		return nil, errorf(ErrInvalid, "Invalid date for 'expiration'. 'expiration' is before current time")
	}
	if in.Payload == "" {
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': a non-empty 'payload' is required (glint stores secrets in one step)")
	}
	if in.ContentType == "" {
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': If 'payload' is supplied, 'payload_content_type' must also be supplied.")
	}
	mt, params, err := mime.ParseMediaType(in.ContentType)
	binary, known := contentTypes[mt]
	if err != nil || !known || (mt == "text/plain" && params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': payload_content_type %s is not one of the supported types", in.ContentType)
	}
	sec.ContentType = mt
	enc := strings.ToLower(in.ContentEncoding)
	switch {
	case binary && enc != "base64":
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': payload_content_encoding must be 'base64' for payload_content_type %s", mt)
	case !binary && enc != "":
		return nil, errorf(ErrInvalid, "Provided object does not match schema 'Secret': payload_content_encoding is not allowed for payload_content_type text/plain")
	}
	if len(in.Payload) > 2*s.opts.MaxPayload {
		return nil, s.tooLarge()
	}
	payload := []byte(in.Payload)
	if binary {
		if payload, err = base64.StdEncoding.DecodeString(in.Payload); err != nil {
			return nil, errorf(ErrInvalid, "Problem decoding payload")
		}
	}
	if len(payload) > s.opts.MaxPayload {
		return nil, s.tooLarge()
	}
	sec.Payload = payload
	return sec, nil
}

func (s *Service) tooLarge() error {
	return errorf(ErrTooLarge, "Could not add secret data as it was too large: the limit is %d bytes", s.opts.MaxPayload)
}

// Get returns a secret's metadata (rule secret:get: an admin, or a member
// of its project).
func (s *Service) Get(ctx context.Context, p caller.Principal, id string) (*Secret, error) {
	sec, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.IsAdmin() && !(isMember(p) && p.ProjectID == sec.ProjectID) {
		return nil, denied("Secret retrieval")
	}
	sec.Payload = nil
	return sec, nil
}

// Fetch returns a secret with its payload (rule secret:decrypt: a member
// or admin of its project).
func (s *Service) Fetch(ctx context.Context, p caller.Principal, id string) (*Secret, error) {
	sec, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !isMember(p) || p.ProjectID != sec.ProjectID {
		return nil, denied("Secret decryption")
	}
	plain, err := s.open(sec.ID, sec.Payload)
	if err != nil {
		return nil, err
	}
	sec.Payload = plain
	return sec, nil
}

// List returns a page of the caller's project's secrets and how many
// match (rule secrets:get: a member).
func (s *Service) List(ctx context.Context, p caller.Principal, q ListQuery) ([]*Secret, int, error) {
	if p.ProjectID == "" || !isMember(p) {
		return nil, 0, denied("Secret(s) retrieval")
	}
	if q.Limit <= 0 {
		q.Limit = DefaultListLimit
	}
	q.Limit = min(q.Limit, MaxListLimit)
	q.Offset = max(q.Offset, 0)
	now := s.opts.Now().UTC()
	q.ProjectID, q.NotExpired = p.ProjectID, &now
	return s.store.ListSecrets(ctx, q)
}

// Delete removes a secret (rule secret:delete: an admin, or a member of
// its project).
func (s *Service) Delete(ctx context.Context, p caller.Principal, id string) error {
	sec, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if !p.IsAdmin() && !(isMember(p) && p.ProjectID == sec.ProjectID) {
		return denied("Secret deletion")
	}
	return s.store.DeleteSecret(ctx, id)
}

// load reads a live secret: an expired one is not found, as in Barbican.
func (s *Service) load(ctx context.Context, id string) (*Secret, error) {
	if uuid.Validate(id) != nil {
		return nil, errNotFound
	}
	sec, err := s.store.GetSecret(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && sec.Expired(s.opts.Now())) {
		return nil, errNotFound
	}
	if err != nil {
		// The records store failed: not an answer about the secret.
		return nil, fmt.Errorf("reading secret %s: %w: %w", id, ErrUnavailable, err)
	}
	return sec, nil
}

// seal encrypts a payload bound to its secret's id, so a sealed payload
// moved to another row does not open.
func (s *Service) seal(id string, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(id))
}

func (s *Service) open(id string, sealed []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("keymanager: stored payload is truncated")
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], []byte(id))
	if err != nil {
		return nil, errors.New("keymanager: stored payload does not open with this key (is key_manager.key_file the one every node shares?)")
	}
	return plain, nil
}
