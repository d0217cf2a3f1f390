package identity_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

const adminPassword = "secret-admin"

// clock is an injectable clock tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 2, 1, 48, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

var testKey = bytes.Repeat([]byte("k"), 32)

// openStore opens a SQLite store at path (a new file when path is "").
func openStore(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "glint.db")
	}
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newService returns a service on store with a low bcrypt cost (tests
// only) and the given clock.
func newService(t testing.TB, store identity.Store, c *clock, key []byte) *identity.Service {
	t.Helper()
	svc, err := identity.NewService(store, identity.Config{Key: key, Now: c.Now, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// env is a bootstrapped service on a fresh store.
type env struct {
	store *sqlite.Store
	svc   *identity.Service
	clock *clock
}

func setup(t testing.TB) *env {
	t.Helper()
	e := &env{store: openStore(t, ""), clock: newClock()}
	e.svc = newService(t, e.store, e.clock, testKey)
	if _, err := identity.Bootstrap(t.Context(), e.svc, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	return e
}

// login authenticates by user name in Default with the given scope.
func (e *env) login(t testing.TB, user, password string, sc identity.Scope) (*identity.Token, error) {
	t.Helper()
	return e.svc.Authenticate(t.Context(), identity.AuthRequest{Methods: []string{"password"},
		Password: &identity.PasswordCredentials{UserName: user, DomainName: "Default", Password: password},
		Scope:    sc})
}

func (e *env) mustLogin(t testing.TB, user, password string, sc identity.Scope) *identity.Token {
	t.Helper()
	tok, err := e.login(t, user, password, sc)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return tok
}

var adminScope = identity.Scope{ProjectName: "admin", ProjectDomainName: "Default"}

// member creates project p and user u with role member on it.
func (e *env) member(t *testing.T, project, user, password string) (*identity.Project, *identity.User) {
	t.Helper()
	ctx := t.Context()
	p, err := e.svc.CreateProject(ctx, identity.Project{Name: project, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	u, err := e.svc.CreateUser(ctx, identity.NewUser{Name: user, Password: password})
	if err != nil {
		t.Fatal(err)
	}
	rs, err := e.svc.ListRoles(ctx, identity.Filter{Name: identity.RoleMember})
	if err != nil || len(rs) != 1 {
		t.Fatalf("member role: %v %v", rs, err)
	}
	if err := e.svc.Grant(ctx, identity.Assignment{UserID: u.ID, ProjectID: p.ID, RoleID: rs[0].ID}); err != nil {
		t.Fatal(err)
	}
	return p, u
}

func wantUnauthorized(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, identity.ErrUnauthorized) {
		t.Errorf("%s: error %v, want ErrUnauthorized", what, err)
	}
}
