package identity_test

import (
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

func TestBootstrap(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	created, err := identity.Bootstrap(ctx, e.svc, identity.BootstrapOptions{Password: "other"})
	if err != nil || created {
		t.Fatalf("second Bootstrap = %v, %v; want false, nil", created, err)
	}
	// The second run must not have changed the password.
	e.mustLogin(t, "admin", adminPassword, adminScope)
	if _, err := e.login(t, "admin", "other", adminScope); err == nil {
		t.Error("a second bootstrap changed the admin password")
	}
	for _, name := range []string{"admin", "member", "reader"} {
		rs, err := e.svc.ListRoles(ctx, identity.Filter{Name: name})
		if err != nil || len(rs) != 1 {
			t.Errorf("role %s: %v %v", name, rs, err)
		}
	}
	sys := e.mustLogin(t, "admin", adminPassword, identity.Scope{System: true})
	if !sys.System || !slices.Equal(sys.RoleNames(), []string{"admin", "member", "reader"}) {
		t.Errorf("system token: system %v roles %v", sys.System, sys.RoleNames())
	}

	// ResetPassword is the recovery path.
	if _, err := identity.Bootstrap(ctx, e.svc, identity.BootstrapOptions{Password: "new-one", ResetPassword: true}); err != nil {
		t.Fatal(err)
	}
	e.mustLogin(t, "admin", "new-one", adminScope)
	if _, err := identity.Bootstrap(ctx, e.svc, identity.BootstrapOptions{}); err == nil {
		t.Error("Bootstrap without a password succeeded")
	}
}

func TestBootstrapCreatesOnce(t *testing.T) {
	store := openStore(t, "")
	svc := newService(t, store, newClock(), testKey)
	created, err := identity.Bootstrap(t.Context(), svc, identity.BootstrapOptions{Password: adminPassword})
	if err != nil || !created {
		t.Fatalf("first Bootstrap = %v, %v; want true, nil", created, err)
	}
}

func TestPasswordLoginScopes(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	proj, demo := e.member(t, "demo", "demo", "secret-demo")
	admins, _ := e.svc.ListUsers(ctx, identity.Filter{Name: "admin"})
	adminID := admins[0].ID

	for _, tc := range []struct {
		name      string
		creds     identity.PasswordCredentials
		scope     identity.Scope
		project   string
		system    bool
		wantRoles []string
	}{
		{"name+domain name, project by name", identity.PasswordCredentials{UserName: "demo", DomainName: "Default", Password: "secret-demo"},
			identity.Scope{ProjectName: "demo", ProjectDomainName: "Default"}, proj.ID, false, []string{"member", "reader"}},
		{"name+domain id, project by id", identity.PasswordCredentials{UserName: "demo", DomainID: "default", Password: "secret-demo"},
			identity.Scope{ProjectID: proj.ID}, proj.ID, false, []string{"member", "reader"}},
		{"user id, project by name+domain id", identity.PasswordCredentials{UserID: demo.ID, Password: "secret-demo"},
			identity.Scope{ProjectName: "demo", ProjectDomainID: "default"}, proj.ID, false, []string{"member", "reader"}},
		{"unscoped", identity.PasswordCredentials{UserID: demo.ID, Password: "secret-demo"},
			identity.Scope{}, "", false, nil},
		{"admin system", identity.PasswordCredentials{UserID: adminID, Password: adminPassword},
			identity.Scope{System: true}, "", true, []string{"admin", "member", "reader"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := e.svc.Authenticate(ctx, identity.AuthRequest{Methods: []string{"password"},
				Password: &tc.creds, Scope: tc.scope})
			if err != nil {
				t.Fatal(err)
			}
			gotProject := ""
			if tok.Project != nil {
				gotProject = tok.Project.ID
			}
			if gotProject != tc.project || tok.System != tc.system || !slices.Equal(tok.RoleNames(), tc.wantRoles) {
				t.Errorf("token project %q system %v roles %v; want %q %v %v",
					gotProject, tok.System, tok.RoleNames(), tc.project, tc.system, tc.wantRoles)
			}
			if d := tok.ExpiresAt.Sub(tok.IssuedAt); d != time.Hour {
				t.Errorf("lifetime %s, want 1h", d)
			}
			if len(tok.AuditIDs) != 1 || len(tok.AuditIDs[0]) != 22 {
				t.Errorf("audit ids %q", tok.AuditIDs)
			}
			if tok.User.PasswordHash != "" {
				t.Error("token carries the password hash")
			}
			if _, err := e.svc.ValidateToken(ctx, tok.ID); err != nil {
				t.Errorf("ValidateToken(new token): %v", err)
			}
		})
	}
}

// TestDefaultProject: without a scope, Keystone scopes to the user's
// default project if the user has a role there, else gives an unscoped
// token; "unscoped" asks for one explicitly.
func TestDefaultProject(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	proj, demo := e.member(t, "demo", "demo", "pw")
	other, err := e.svc.CreateProject(ctx, identity.Project{Name: "other", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	set := func(id string) {
		if _, err := e.svc.UpdateUser(ctx, demo.ID, identity.UserUpdate{DefaultProjectID: &id}); err != nil {
			t.Fatal(err)
		}
	}
	set(proj.ID)
	if tok := e.mustLogin(t, "demo", "pw", identity.Scope{}); tok.Project == nil || tok.Project.ID != proj.ID {
		t.Errorf("no scope with a default project: project %v", tok.Project)
	}
	if tok := e.mustLogin(t, "demo", "pw", identity.Scope{Unscoped: true}); tok.Scoped() {
		t.Error("explicitly unscoped login gave a scoped token")
	}
	set(other.ID) // no role there
	if tok := e.mustLogin(t, "demo", "pw", identity.Scope{}); tok.Scoped() {
		t.Error("default project without a role gave a scoped token")
	}
}

// TestLoginFailures: every way a login can be wrong is the same
// ErrUnauthorized.
func TestLoginFailures(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	proj, demo := e.member(t, "demo", "demo", "pw")
	off := false
	if _, err := e.svc.CreateUser(ctx, identity.NewUser{Name: "nopass"}); err != nil {
		t.Fatal(err)
	}
	_, disabled := e.member(t, "p3", "disabled", "pw3")
	if _, err := e.svc.UpdateUser(ctx, disabled.ID, identity.UserUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	other, err := e.svc.CreateProject(ctx, identity.Project{Name: "other", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		req  identity.AuthRequest
	}{
		{"wrong password", pw("demo", "Default", "nope", identity.Scope{})},
		{"unknown user", pw("nobody", "Default", "pw", identity.Scope{})},
		{"unknown domain", pw("demo", "Elsewhere", "pw", identity.Scope{})},
		{"empty password", pw("demo", "Default", "", identity.Scope{})},
		{"user without password", pw("nopass", "Default", "", identity.Scope{})},
		{"disabled user, right password", pw("disabled", "Default", "pw3", identity.Scope{})},
		{"project without role", pw("demo", "Default", "pw", identity.Scope{ProjectID: other.ID})},
		{"unknown project", pw("demo", "Default", "pw", identity.Scope{ProjectID: "nope"})},
		{"project name in unknown domain", pw("demo", "Default", "pw", identity.Scope{ProjectName: proj.Name, ProjectDomainName: "x"})},
		{"system without role", pw("demo", "Default", "pw", identity.Scope{System: true})},
		{"domain scope", pw("demo", "Default", "pw", identity.Scope{Domain: true})},
		{"unknown user id", identity.AuthRequest{Methods: []string{"password"},
			Password: &identity.PasswordCredentials{UserID: "nope", Password: "pw"}}},
		{"no methods", identity.AuthRequest{Password: &identity.PasswordCredentials{UserID: demo.ID, Password: "pw"}}},
		{"unsupported method", identity.AuthRequest{Methods: []string{"totp"}}},
		{"password method without credentials", identity.AuthRequest{Methods: []string{"password"}}},
		{"token method with garbage", identity.AuthRequest{Methods: []string{"token"}, Token: "garbage"}},
	} {
		_, err := e.svc.Authenticate(ctx, tc.req)
		wantUnauthorized(t, tc.name, err)
	}
	// Disabling the project refuses scoping to it.
	if _, err := e.svc.UpdateProject(ctx, proj.ID, identity.ProjectUpdate{Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	_, err = e.login(t, "demo", "pw", identity.Scope{ProjectID: proj.ID})
	wantUnauthorized(t, "disabled project", err)
}

func pw(user, domain, password string, sc identity.Scope) identity.AuthRequest {
	return identity.AuthRequest{Methods: []string{"password"},
		Password: &identity.PasswordCredentials{UserName: user, DomainName: domain, Password: password}, Scope: sc}
}

// TestRescope: the token method keeps the original's expiry, adds "token"
// to the methods and chains the audit ids.
func TestRescope(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	proj, _ := e.member(t, "demo", "demo", "pw")
	unscoped := e.mustLogin(t, "demo", "pw", identity.Scope{Unscoped: true})
	e.clock.Advance(10 * time.Minute)
	tok, err := e.svc.Authenticate(ctx, identity.AuthRequest{Methods: []string{"token"}, Token: unscoped.ID,
		Scope: identity.Scope{ProjectName: "demo", ProjectDomainName: "Default"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.Project == nil || tok.Project.ID != proj.ID {
		t.Fatalf("rescoped project %v", tok.Project)
	}
	if !tok.ExpiresAt.Equal(unscoped.ExpiresAt) || !tok.IssuedAt.Equal(e.clock.Now()) {
		t.Errorf("rescoped issued %s expires %s; want %s and the original's %s",
			tok.IssuedAt, tok.ExpiresAt, e.clock.Now(), unscoped.ExpiresAt)
	}
	if !slices.Equal(tok.Methods, []string{"password", "token"}) {
		t.Errorf("methods %v", tok.Methods)
	}
	if len(tok.AuditIDs) != 2 || tok.AuditIDs[1] != unscoped.AuditIDs[0] || tok.AuditIDs[0] == unscoped.AuditIDs[0] {
		t.Errorf("audit ids %v, original %v", tok.AuditIDs, unscoped.AuditIDs)
	}
	// Rescoping a rescoped token keeps the chain's first id.
	again, err := e.svc.Authenticate(ctx, identity.AuthRequest{Methods: []string{"token"}, Token: tok.ID,
		Scope: identity.Scope{ProjectID: proj.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if again.AuditIDs[1] != unscoped.AuditIDs[0] || !slices.Equal(again.Methods, []string{"password", "token"}) {
		t.Errorf("second rescope: audit %v methods %v", again.AuditIDs, again.Methods)
	}
	// A revoked or expired token cannot be rescoped.
	if err := e.svc.RevokeToken(ctx, unscoped); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Authenticate(ctx, identity.AuthRequest{Methods: []string{"token"}, Token: unscoped.ID})
	wantUnauthorized(t, "rescope a revoked token", err)
	e.clock.Advance(time.Hour)
	_, err = e.svc.Authenticate(ctx, identity.AuthRequest{Methods: []string{"token"}, Token: tok.ID})
	wantUnauthorized(t, "rescope an expired token", err)
}

// TestThrottle: after five failures in the window a user is locked out,
// even with the right password, for a delay that grows with further
// failures; the lock ends by itself and success clears the count.
func TestThrottle(t *testing.T) {
	e := setup(t)
	e.member(t, "demo", "demo", "pw")
	fail := func(n int) {
		for range n {
			_, err := e.login(t, "demo", "wrong", identity.Scope{})
			wantUnauthorized(t, "wrong password", err)
			e.clock.Advance(time.Second)
		}
	}
	fail(4)
	e.mustLogin(t, "demo", "pw", identity.Scope{}) // four failures: still fine, and the count is cleared
	fail(5)
	_, err := e.login(t, "demo", "pw", identity.Scope{})
	wantUnauthorized(t, "right password while locked", err)

	e.clock.Advance(identity.DefaultLockoutBase) // 15 s after the fifth failure
	fail(1)                                      // sixth failure: 30 s lock
	e.clock.Advance(20 * time.Second)
	_, err = e.login(t, "demo", "pw", identity.Scope{})
	wantUnauthorized(t, "right password 20s into a 30s lock", err)
	e.clock.Advance(15 * time.Second)
	e.mustLogin(t, "demo", "pw", identity.Scope{})

	// Failures further apart than the window do not add up.
	for range 8 {
		_, err := e.login(t, "demo", "wrong", identity.Scope{})
		wantUnauthorized(t, "spaced failure", err)
		e.clock.Advance(identity.DefaultFailureWindow + time.Second)
	}
	e.mustLogin(t, "demo", "pw", identity.Scope{})
}

// TestConcurrentBootstrap: nodes starting together on one database all
// succeed, and exactly one of them creates the admin.
func TestConcurrentBootstrap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glint.db")
	c := newClock()
	const n = 4
	svcs := make([]*identity.Service, n)
	for i := range svcs {
		svcs[i] = newService(t, openStore(t, path), c, testKey)
	}
	created := make([]bool, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			created[i], errs[i] = identity.Bootstrap(t.Context(), svcs[i], identity.BootstrapOptions{Password: adminPassword})
		})
	}
	wg.Wait()
	count := 0
	for i := range n {
		if errs[i] != nil {
			t.Errorf("node %d: %v", i, errs[i])
		}
		if created[i] {
			count++
		}
	}
	if count != 1 {
		t.Errorf("%d nodes created the admin, want 1", count)
	}
}
