package dashboard

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Sessions live entirely in a cookie sealed with AES-256-GCM, so any node
// that shares glint's token key can read them and none keeps state. The
// cookie carries the user's tokens: HttpOnly keeps them from scripts,
// SameSite=Strict keeps them off cross-site requests.
const (
	sessionCookie = "glint_dashboard"
	// preCookie holds only a CSRF secret for the sign-in form, so that a
	// login cannot be forged either.
	preCookie    = "glint_dashboard_pre"
	cookiePath   = "/dashboard/"
	sessionLabel = "glint dashboard session v1"
	// maxCookie bounds what is decrypted; a session is about 1.5 KiB.
	maxCookie = 3800
	preTTL    = time.Hour
)

// session is what the cookie holds: who is signed in and the tokens the
// dashboard acts with.
type session struct {
	Version int `json:"v"`
	// CSRF is the secret every form and htmx request must echo.
	CSRF string `json:"c"`
	// Expires is when the session ends (Unix seconds): when its tokens do.
	Expires int64 `json:"e"`

	UserID   string `json:"ui,omitempty"`
	UserName string `json:"un,omitempty"`
	Domain   string `json:"d,omitempty"`
	// BaseToken is the token from the password sign-in; it is rescoped to
	// switch projects and lists the user's projects.
	BaseToken string `json:"bt,omitempty"`
	// Token is scoped to ProjectID: every API call uses it. Empty when
	// the user has no project yet.
	Token       string `json:"t,omitempty"`
	ProjectID   string `json:"p,omitempty"`
	ProjectName string `json:"pn,omitempty"`
	// Admin is only for showing the admin panels; the API decides.
	Admin bool `json:"a,omitempty"`
}

const sessionVersion = 1

// sealer seals and opens cookies.
type sealer struct {
	aead cipher.AEAD
}

// newSealer derives the cookie key from glint's shared token key, so
// every node that accepts glint's tokens also reads its sessions, and the
// two uses never share a key.
func newSealer(secret []byte) (*sealer, error) {
	if len(secret) < 16 {
		return nil, errors.New("dashboard: session secret too short")
	}
	key, err := hkdf.Key(sha256.New, secret, nil, sessionLabel, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &sealer{aead: aead}, nil
}

// seal encrypts v for the cookie named name; the name is authenticated
// too, so one cookie cannot stand in for the other.
func (s *sealer) seal(name string, v any) (string, error) {
	plain, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(name))), nil
}

func (s *sealer) open(name, value string, v any) error {
	if len(value) > maxCookie {
		return errors.New("cookie too long")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(value)
	if err != nil || len(raw) < s.aead.NonceSize() {
		return errors.New("malformed cookie")
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return errors.New("cookie does not open")
	}
	return json.Unmarshal(plain, v)
}

func newCSRF() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sameSecret compares CSRF values in constant time.
func sameSecret(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// readSession returns the request's valid session, or nil.
func (h *Handler) readSession(r *http.Request) *session {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var s session
	if err := h.sealer.open(sessionCookie, c.Value, &s); err != nil {
		return nil
	}
	if s.Version != sessionVersion || s.CSRF == "" || s.BaseToken == "" || h.now().Unix() >= s.Expires {
		return nil
	}
	return &s
}

// writeSession sets the session cookie; it ends when the session does.
func (h *Handler) writeSession(w http.ResponseWriter, r *http.Request, s *session) error {
	s.Version = sessionVersion
	value, err := h.sealer.seal(sessionCookie, s)
	if err != nil {
		return err
	}
	if len(value) > maxCookie {
		return errors.New("dashboard: session too large for a cookie (tokens too long)")
	}
	http.SetCookie(w, h.cookie(r, sessionCookie, value, time.Unix(s.Expires, 0)))
	return nil
}

func (h *Handler) clearSession(w http.ResponseWriter, r *http.Request) {
	c := h.cookie(r, sessionCookie, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// preSession is the sign-in form's CSRF secret.
type preSession struct {
	CSRF    string `json:"c"`
	Expires int64  `json:"e"`
}

// preCSRF returns the sign-in CSRF secret of the request, setting a new
// one when there is none (or it expired).
func (h *Handler) preCSRF(w http.ResponseWriter, r *http.Request) (string, error) {
	if p := h.readPre(r); p != nil {
		return p.CSRF, nil
	}
	p := preSession{CSRF: newCSRF(), Expires: h.now().Add(preTTL).Unix()}
	value, err := h.sealer.seal(preCookie, p)
	if err != nil {
		return "", err
	}
	http.SetCookie(w, h.cookie(r, preCookie, value, time.Unix(p.Expires, 0)))
	return p.CSRF, nil
}

func (h *Handler) readPre(r *http.Request) *preSession {
	c, err := r.Cookie(preCookie)
	if err != nil {
		return nil
	}
	var p preSession
	if h.sealer.open(preCookie, c.Value, &p) != nil || p.CSRF == "" || h.now().Unix() >= p.Expires {
		return nil
	}
	return &p
}

func (h *Handler) clearPre(w http.ResponseWriter, r *http.Request) {
	c := h.cookie(r, preCookie, "", time.Unix(0, 0))
	c.MaxAge = -1
	http.SetCookie(w, c)
}

// cookie builds a dashboard cookie: HttpOnly, SameSite=Strict, limited to
// /dashboard/, and Secure whenever the browser reached glint over TLS.
func (h *Handler) cookie(r *http.Request, name, value string, expires time.Time) *http.Cookie {
	return &http.Cookie{
		Name:     name,
		Value:    value,
		Path:     cookiePath,
		Expires:  expires,
		HttpOnly: true,
		Secure:   h.secure(r),
		SameSite: http.SameSiteStrictMode,
	}
}

// secure reports whether the browser talks TLS to us: directly, or (when
// glint's public URL is https) through a TLS-terminating proxy.
func (h *Handler) secure(r *http.Request) bool {
	return r.TLS != nil || h.opts.HTTPS
}
