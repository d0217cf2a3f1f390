package identity

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Token is a validated (or freshly issued) token with everything the
// identity API shows about it: who, on what scope, with which roles.
type Token struct {
	// ID is the signed string clients send as X-Auth-Token.
	ID string

	User       User
	UserDomain Domain
	// Project and ProjectDomain are set for a project-scoped token.
	Project       *Project
	ProjectDomain *Domain
	// System is set for a system-scoped token ({"system": {"all": true}}).
	System bool
	// Roles are the effective roles on the scope, implied ones included;
	// empty for an unscoped token.
	Roles []Role

	Methods   []string
	AuditIDs  []string // this token's own id first, then its chain's
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Scoped reports whether the token is scoped to a project or the system.
func (t *Token) Scoped() bool { return t.Project != nil || t.System }

// HasRole reports whether the token carries the named role.
func (t *Token) HasRole(name string) bool {
	for _, r := range t.Roles {
		if strings.EqualFold(r.Name, name) {
			return true
		}
	}
	return false
}

// RoleNames returns the token's role names in order.
func (t *Token) RoleNames() []string {
	names := make([]string, len(t.Roles))
	for i, r := range t.Roles {
		names[i] = r.Name
	}
	return names
}

// payload is what a token carries. Roles and names are not in it: they
// are looked up when the token is validated, so removing a role or
// disabling a user takes effect at once on every node, as with Keystone's
// fernet tokens. Field names are short because the token travels in a
// header on every request.
type payload struct {
	Version   int      `json:"v"`
	UserID    string   `json:"u"`
	ProjectID string   `json:"p,omitempty"`
	System    bool     `json:"s,omitempty"`
	Methods   []string `json:"m"`
	IssuedAt  int64    `json:"i"` // Unix milliseconds
	ExpiresAt int64    `json:"e"` // Unix milliseconds
	AuditIDs  []string `json:"a"`
}

const (
	tokenVersion = 1
	// tokenLabel separates our MACs from any other use of the same key.
	tokenLabel = "glint-token-v1."
	// maxTokenLen bounds what is parsed; real tokens are about 250 bytes.
	maxTokenLen = 2048
	// minKeyLen is the shortest signing key accepted (HMAC-SHA256 gains
	// nothing beyond its block size, and loses strength below 32 bytes).
	minKeyLen = 32
)

// b64 is strict: the unused low bits of the last character must be
// zero, so each token has one spelling (the cache, revocation lists and
// logs see one string per token).
var b64 = base64.RawURLEncoding.Strict()

// sign encodes p and appends its HMAC-SHA256 under key:
// base64url(json(p)) "." base64url(mac).
func sign(key []byte, p payload) (string, error) {
	p.Version = tokenVersion
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("identity: encode token: %w", err)
	}
	enc := b64.EncodeToString(body)
	return enc + "." + b64.EncodeToString(mac(key, enc)), nil
}

// verify checks a token's signature against every key (the first signs,
// the others are accepted during a key rotation) and decodes its payload.
// It says nothing about expiry or revocation.
func verify(keys [][]byte, token string) (payload, error) {
	var p payload
	if len(token) > maxTokenLen {
		return p, deny("token too long")
	}
	enc, sig, ok := strings.Cut(token, ".")
	if !ok || enc == "" || strings.Contains(sig, ".") {
		return p, deny("malformed token")
	}
	got, err := b64.DecodeString(sig)
	if err != nil {
		return p, deny("malformed token signature")
	}
	valid := false
	for _, k := range keys {
		if hmac.Equal(got, mac(k, enc)) {
			valid = true
			break
		}
	}
	if !valid {
		return p, deny("bad token signature")
	}
	body, err := b64.DecodeString(enc)
	if err != nil {
		return p, deny("malformed token payload")
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, deny("malformed token payload: %v", err)
	}
	if p.Version != tokenVersion || p.UserID == "" || len(p.AuditIDs) == 0 ||
		(p.System && p.ProjectID != "") {
		return p, deny("unusable token payload")
	}
	return p, nil
}

func mac(key []byte, enc string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tokenLabel))
	m.Write([]byte(enc))
	return m.Sum(nil)
}

// newAuditID returns a random id for one token, in Keystone's form (16
// random bytes, URL-safe base64 without padding: 22 characters).
func newAuditID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return b64.EncodeToString(b)
}

// newID returns a random 32-hex-digit id, the form of Keystone's ids.
func newID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
