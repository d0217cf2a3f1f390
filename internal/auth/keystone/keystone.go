// Package keystone authenticates Image API callers against an external
// Keystone, as keystonemiddleware does for Glance: it validates each
// X-Auth-Token with Keystone (GET /v3/auth/tokens) using a service token of
// its own, and remembers the answers for a short, bounded time.
package keystone

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/caller"
)

// Config says where Keystone is and how glint signs in as a service.
type Config struct {
	// URL is Keystone's v3 endpoint, e.g. http://keystone:5000/v3.
	URL               string
	Username          string
	Password          string
	UserDomainName    string
	ProjectName       string
	ProjectDomainName string
	// CacheTTL bounds how long a validated token is trusted without asking
	// Keystone again (a revocation takes at most this long to apply).
	CacheTTL time.Duration
	// CacheSize bounds the number of remembered tokens.
	CacheSize int
	// TokenCache, when set, is told whether each validation was answered
	// from the cache (metrics).
	TokenCache func(hit bool)
}

// Defaults for Config.
const (
	DefaultCacheTTL  = time.Minute
	DefaultCacheSize = 10000
	// negativeTTL is how long a refused token stays refused without asking.
	negativeTTL = 10 * time.Second
)

// Validate checks the configuration and names the bad key.
func (c Config) Validate() error {
	var errs []error
	if !strings.HasPrefix(c.URL, "http://") && !strings.HasPrefix(c.URL, "https://") {
		errs = append(errs, fmt.Errorf("keystone.url: %q is not an http(s) URL", c.URL))
	}
	if c.Username == "" || c.Password == "" || c.ProjectName == "" {
		errs = append(errs, errors.New("keystone: username, password and project_name of the service user are required"))
	}
	if c.CacheTTL < 0 || c.CacheSize < 0 {
		errs = append(errs, errors.New("keystone: cache_ttl and cache_size must not be negative"))
	}
	return errors.Join(errs...)
}

// Authenticator validates tokens with Keystone.
type Authenticator struct {
	cfg    Config
	client *http.Client
	now    func() time.Time

	flight singleflight.Group

	mu           sync.Mutex
	cache        map[[32]byte]entry
	serviceToken string
	serviceUntil time.Time
}

type entry struct {
	p     caller.Principal
	ok    bool
	until time.Time
}

var _ auth.Authenticator = (*Authenticator)(nil)

// New returns an Authenticator. client may be nil (a client with a 30 s
// timeout is used); now may be nil (time.Now).
func New(cfg Config, client *http.Client, now func() time.Time) (*Authenticator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.CacheTTL == 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	if cfg.CacheSize == 0 {
		cfg.CacheSize = DefaultCacheSize
	}
	if cfg.UserDomainName == "" {
		cfg.UserDomainName = "Default"
	}
	if cfg.ProjectDomainName == "" {
		cfg.ProjectDomainName = "Default"
	}
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	if now == nil {
		now = time.Now
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	return &Authenticator{cfg: cfg, client: client, now: now, cache: map[[32]byte]entry{}}, nil
}

// AuthURI is what a 401's WWW-Authenticate header points clients at.
func (a *Authenticator) AuthURI() string { return strings.TrimSuffix(a.cfg.URL, "/v3") }

// Authenticate implements auth.Authenticator.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (caller.Principal, error) {
	token := r.Header.Get("X-Auth-Token")
	if token == "" {
		return caller.Principal{}, auth.ErrUnauthenticated
	}
	key := sha256.Sum256([]byte(token))
	e, ok := a.cached(key)
	if a.cfg.TokenCache != nil {
		a.cfg.TokenCache(ok)
	}
	if ok {
		if !e.ok {
			return caller.Principal{}, auth.ErrUnauthenticated
		}
		return e.p, nil
	}
	// Concurrent requests with one token ask Keystone once.
	v, err, _ := a.flight.Do(string(key[:]), func() (any, error) { return a.validate(ctx, token) })
	if err != nil {
		return caller.Principal{}, err
	}
	e = v.(entry)
	a.remember(key, e)
	if !e.ok {
		return caller.Principal{}, auth.ErrUnauthenticated
	}
	return e.p, nil
}

func (a *Authenticator) cached(key [32]byte) (entry, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	e, ok := a.cache[key]
	if !ok || !a.now().Before(e.until) {
		return entry{}, false
	}
	return e, true
}

// remember stores an answer, making room first: expired entries go, and if
// none has expired an arbitrary one does, so the cache never grows past
// its bound.
func (a *Authenticator) remember(key [32]byte, e entry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.cache) >= a.cfg.CacheSize {
		now := a.now()
		for k, old := range a.cache {
			if !now.Before(old.until) {
				delete(a.cache, k)
			}
		}
		for k := range a.cache {
			if len(a.cache) < a.cfg.CacheSize {
				break
			}
			delete(a.cache, k)
		}
	}
	a.cache[key] = e
}

// validate asks Keystone about a user token. A refused token is a negative
// entry; a Keystone that cannot be reached is an error (the request fails
// with 503 rather than being let in or cached as refused).
func (a *Authenticator) validate(ctx context.Context, token string) (entry, error) {
	for attempt := 0; attempt < 2; attempt++ {
		svc, err := a.service(ctx, attempt > 0)
		if err != nil {
			return entry{}, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.cfg.URL+"/auth/tokens", nil)
		if err != nil {
			return entry{}, err
		}
		req.Header.Set("X-Auth-Token", svc)
		req.Header.Set("X-Subject-Token", token)
		resp, err := a.client.Do(req)
		if err != nil {
			return entry{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		switch {
		case err != nil:
			return entry{}, fmt.Errorf("%w: %v", ErrUnavailable, err)
		case resp.StatusCode == http.StatusOK:
			return a.principal(body)
		case resp.StatusCode == http.StatusUnauthorized && attempt == 0:
			continue // our service token expired early: sign in again
		case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusUnauthorized:
			return entry{until: a.now().Add(negativeTTL)}, nil
		default:
			return entry{}, fmt.Errorf("%w: token validation answered %d", ErrUnavailable, resp.StatusCode)
		}
	}
	return entry{until: a.now().Add(negativeTTL)}, nil
}

// ErrUnavailable means Keystone could not be asked.
var ErrUnavailable = auth.ErrUnavailable

// tokenBody is the part of Keystone's token answer glint reads.
type tokenBody struct {
	Token struct {
		ExpiresAt time.Time `json:"expires_at"`
		User      struct {
			ID, Name string
			Domain   struct{ ID string }
		} `json:"user"`
		Project *struct {
			ID, Name string
			Domain   struct{ ID string }
		} `json:"project"`
		System *map[string]any         `json:"system"`
		Roles  []struct{ Name string } `json:"roles"`
	} `json:"token"`
}

// principal turns a valid token's body into a caller. An unscoped token
// is refused, as keystonemiddleware-protected Glance refuses it.
func (a *Authenticator) principal(body []byte) (entry, error) {
	var tb tokenBody
	if err := json.Unmarshal(body, &tb); err != nil {
		return entry{}, fmt.Errorf("%w: unreadable token answer: %v", ErrUnavailable, err)
	}
	t := tb.Token
	until := a.now().Add(a.cfg.CacheTTL)
	if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(until) {
		until = t.ExpiresAt
	}
	if t.Project == nil && t.System == nil {
		return entry{until: until}, nil
	}
	p := caller.Principal{UserID: t.User.ID, UserName: t.User.Name, UserDomainID: t.User.Domain.ID}
	if t.Project != nil {
		p.ProjectID, p.ProjectName, p.ProjectDomainID = t.Project.ID, t.Project.Name, t.Project.Domain.ID
	} else {
		p.SystemScope = true
	}
	for _, r := range t.Roles {
		p.Roles = append(p.Roles, r.Name)
	}
	return entry{p: p, ok: true, until: until}, nil
}

// service returns glint's own token, signing in when it has none, it is
// about to expire, or refresh is set.
func (a *Authenticator) service(ctx context.Context, refresh bool) (string, error) {
	a.mu.Lock()
	if !refresh && a.serviceToken != "" && a.now().Add(time.Minute).Before(a.serviceUntil) {
		t := a.serviceToken
		a.mu.Unlock()
		return t, nil
	}
	a.mu.Unlock()
	body, _ := json.Marshal(map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"password"}, "password": map[string]any{"user": map[string]any{
			"name": a.cfg.Username, "password": a.cfg.Password, "domain": map[string]string{"name": a.cfg.UserDomainName}}}},
		"scope": map[string]any{"project": map[string]any{"name": a.cfg.ProjectName, "domain": map[string]string{"name": a.cfg.ProjectDomainName}}},
	}})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL+"/auth/tokens", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	var tb tokenBody
	if resp.StatusCode != http.StatusCreated || json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(&tb) != nil {
		return "", fmt.Errorf("%w: service user sign-in answered %d", ErrUnavailable, resp.StatusCode)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.serviceToken, a.serviceUntil = resp.Header.Get("X-Subject-Token"), tb.Token.ExpiresAt
	return a.serviceToken, nil
}
