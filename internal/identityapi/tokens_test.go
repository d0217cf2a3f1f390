package identityapi_test

import (
	"bytes"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

func TestVersions(t *testing.T) {
	e := newEnv(t)
	self := e.srv.URL + "/identity/v3/"
	for _, path := range []string{"", "/"} {
		r := e.do("GET", path, "", nil).want(t, http.StatusMultipleChoices)
		if r.header.Get("Location") != self || r.str("versions", "values", 0, "links", 0, "href") != self ||
			r.str("versions", "values", 0, "id") != "v3.14" {
			t.Errorf("GET /identity%s: Location %q body %s", path, r.header.Get("Location"), r.raw)
		}
	}
	for _, path := range []string{"/v3", "/v3/"} {
		r := e.do("GET", path, "", nil).want(t, http.StatusOK)
		if r.str("version", "id") != "v3.14" || r.str("version", "status") != "stable" ||
			r.str("version", "links", 0, "href") != self ||
			r.str("version", "media-types", 0, "type") != "application/vnd.openstack.identity-v3+json" {
			t.Errorf("GET %s: %s", path, r.raw)
		}
		if r.header.Get("Content-Type") != "application/json" {
			t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
		}
	}
}

func keys(m any) []string {
	var out []string
	for k := range m.(map[string]any) {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestTokenShapes compares issued tokens with the captured Keystone ones.
func TestTokenShapes(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v3/auth/tokens", "", passwordAuth("admin", adminPassword, projectScope("admin"))).
		want(t, http.StatusCreated)
	if got := keys(r.get("token")); !slices.Equal(got, []string{"audit_ids", "catalog", "expires_at",
		"is_domain", "issued_at", "methods", "project", "roles", "user"}) {
		t.Errorf("project token keys %v", got)
	}
	if got := keys(r.get("token", "user")); !slices.Equal(got, []string{"domain", "id", "name", "password_expires_at"}) {
		t.Errorf("user keys %v", got)
	}
	if r.str("token", "user", "name") != "admin" || r.str("token", "user", "domain", "id") != "default" ||
		r.str("token", "user", "domain", "name") != "Default" || r.get("token", "user", "password_expires_at") != nil {
		t.Errorf("user %v", r.get("token", "user"))
	}
	if r.str("token", "project", "name") != "admin" || r.str("token", "project", "domain", "name") != "Default" ||
		r.get("token", "is_domain") != false {
		t.Errorf("project %v is_domain %v", r.get("token", "project"), r.get("token", "is_domain"))
	}
	var roles []string
	for _, role := range r.list("token", "roles") {
		roles = append(roles, role.(map[string]any)["name"].(string))
	}
	if !slices.Equal(roles, []string{"admin", "member", "reader"}) {
		t.Errorf("roles %v", roles)
	}
	if m := r.list("token", "methods"); len(m) != 1 || m[0] != "password" {
		t.Errorf("methods %v", m)
	}
	issued, err1 := time.Parse("2006-01-02T15:04:05.000000Z", r.str("token", "issued_at"))
	expires, err2 := time.Parse("2006-01-02T15:04:05.000000Z", r.str("token", "expires_at"))
	if err1 != nil || err2 != nil || expires.Sub(issued) != time.Hour || !issued.Equal(e.clock.Now()) {
		t.Errorf("issued_at %q expires_at %q", r.str("token", "issued_at"), r.str("token", "expires_at"))
	}
	if a := r.list("token", "audit_ids"); len(a) != 1 || len(a[0].(string)) != 22 {
		t.Errorf("audit_ids %v", a)
	}
	checkCatalog(t, e, r.list("token", "catalog"))

	sys := e.do("POST", "/v3/auth/tokens", "", passwordAuth("admin", adminPassword,
		map[string]any{"system": map[string]any{"all": true}})).want(t, http.StatusCreated)
	if got := keys(sys.get("token")); !slices.Equal(got, []string{"audit_ids", "catalog", "expires_at",
		"issued_at", "methods", "roles", "system", "user"}) {
		t.Errorf("system token keys %v", got)
	}
	if sys.get("token", "system", "all") != true {
		t.Errorf("system %v", sys.get("token", "system"))
	}

	e.member("demo", "demo", "secretdemo")
	un := e.do("POST", "/v3/auth/tokens", "", passwordAuth("demo", "secretdemo", nil)).want(t, http.StatusCreated)
	if got := keys(un.get("token")); !slices.Equal(got, []string{"audit_ids", "expires_at", "issued_at", "methods", "user"}) {
		t.Errorf("unscoped token keys %v", got)
	}
	nc := e.do("POST", "/v3/auth/tokens?nocatalog", "", passwordAuth("demo", "secretdemo", projectScope("demo"))).
		want(t, http.StatusCreated)
	if nc.get("token", "catalog") != nil || len(nc.list("token", "roles")) != 2 {
		t.Errorf("?nocatalog token: %s", nc.raw)
	}
}

// checkCatalog: image at the base URL without a version, identity at
// /identity/v3, each on three interfaces in RegionOne.
func checkCatalog(t *testing.T, e *env, catalog []any) {
	t.Helper()
	want := map[string]string{"image": e.srv.URL, "identity": e.srv.URL + "/identity/v3"}
	if len(catalog) != 2 {
		t.Fatalf("catalog has %d services", len(catalog))
	}
	for _, s := range catalog {
		svc := s.(map[string]any)
		typ := svc["type"].(string)
		var ifaces []string
		for _, ep := range svc["endpoints"].([]any) {
			m := ep.(map[string]any)
			if m["url"] != want[typ] || m["region"] != "RegionOne" || m["region_id"] != "RegionOne" || m["id"] == "" {
				t.Errorf("%s endpoint %v", typ, m)
			}
			ifaces = append(ifaces, m["interface"].(string))
		}
		if !slices.Equal(ifaces, []string{"public", "internal", "admin"}) {
			t.Errorf("%s interfaces %v", typ, ifaces)
		}
	}
}

// TestLoginRefusalsLookAlike: a wrong password, an unknown user or domain
// and a disabled user all get the same 401.
func TestLoginRefusalsLookAlike(t *testing.T) {
	e := newEnv(t)
	_, uid := e.member("demo", "demo", "secretdemo")
	e.do("PATCH", "/v3/users/"+uid, e.admin, map[string]any{"user": map[string]any{"enabled": false}}).want(t, http.StatusOK)
	wrongDomain := passwordAuth("admin", adminPassword, nil)
	wrongDomain["auth"].(map[string]any)["identity"].(map[string]any)["password"].(map[string]any)["user"].(map[string]any)["domain"] =
		map[string]any{"name": "Nope"}
	var bodies [][]byte
	for name, body := range map[string]any{
		"wrong password": passwordAuth("admin", "nope", nil),
		"unknown user":   passwordAuth("nobody", adminPassword, nil),
		"unknown domain": wrongDomain,
		"disabled user":  passwordAuth("demo", "secretdemo", projectScope("demo")),
		"no such scope":  passwordAuth("admin", adminPassword, projectScope("nope")),
	} {
		r := e.do("POST", "/v3/auth/tokens", "", body)
		wantUnauthorized(t, e, r)
		if r.header.Get("X-Subject-Token") != "" {
			t.Errorf("%s: a token came back", name)
		}
		bodies = append(bodies, r.raw)
	}
	for _, b := range bodies[1:] {
		if !bytes.Equal(b, bodies[0]) {
			t.Errorf("refusals differ: %s vs %s", b, bodies[0])
		}
	}
}

func TestValidateCheckRevoke(t *testing.T) {
	e := newEnv(t)
	e.member("demo", "demo", "secretdemo")
	demo := e.login("demo", "secretdemo", projectScope("demo"))
	other := e.login("demo", "secretdemo", projectScope("demo"))

	r := e.do("GET", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo).want(t, http.StatusOK)
	if r.header.Get("X-Subject-Token") != demo || r.str("token", "user", "name") != "demo" ||
		r.str("token", "project", "name") != "demo" || len(r.list("token", "catalog")) != 2 {
		t.Errorf("validate: %s", r.raw)
	}
	h := e.do("HEAD", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo).want(t, http.StatusOK)
	if len(h.raw) != 0 || h.header.Get("X-Subject-Token") != demo {
		t.Errorf("HEAD: body %q header %q", h.raw, h.header.Get("X-Subject-Token"))
	}
	// Users may check their own tokens, not other users'.
	e.do("GET", "/v3/auth/tokens", other, nil, "X-Subject-Token", demo).want(t, http.StatusOK)
	wantError(t, e.do("GET", "/v3/auth/tokens", demo, nil, "X-Subject-Token", e.admin), http.StatusForbidden,
		"You are not authorized to perform the requested action: identity:validate_token.")
	wantError(t, e.do("GET", "/v3/auth/tokens", e.admin, nil), http.StatusBadRequest, "")

	// Revoke (a logout with its own token works too).
	e.do("DELETE", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo).want(t, http.StatusNoContent)
	wantError(t, e.do("GET", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo), http.StatusNotFound,
		"Failed to validate token")
	e.do("HEAD", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo).want(t, http.StatusNotFound)
	wantError(t, e.do("DELETE", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", demo), http.StatusNotFound, "")
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", demo, nil))
	e.do("DELETE", "/v3/auth/tokens", other, nil, "X-Subject-Token", other).want(t, http.StatusNoContent)
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/tokens", other, nil, "X-Subject-Token", e.admin))
}

// TestBadTokens: a bad X-Auth-Token is 401; the same token as the subject
// of a validation is 404.
func TestBadTokens(t *testing.T) {
	e := newEnv(t)
	good := e.login("admin", adminPassword, projectScope("admin"))
	enc, sig, _ := strings.Cut(good, ".")
	flipped := []byte(sig)
	flipped[0] ^= 1
	for name, tok := range map[string]string{
		"malformed":        "nonsense",
		"forged signature": enc + "." + string(flipped),
		"no signature":     enc,
		"too long":         strings.Repeat("x", 10000),
	} {
		t.Run(name, func(t *testing.T) {
			wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", tok, nil))
			wantError(t, e.do("GET", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", tok), http.StatusNotFound, "Failed to validate token")
		})
	}
	wantUnauthorized(t, e, e.do("GET", "/v3/projects", "", nil))
}

// TestExpiredToken uses the injected clock.
func TestExpiredToken(t *testing.T) {
	e := newEnv(t)
	tok := e.login("admin", adminPassword, projectScope("admin"))
	e.clock.Advance(59 * time.Minute)
	e.do("GET", "/v3/auth/tokens", e.admin, nil, "X-Subject-Token", tok).want(t, http.StatusOK)
	e.clock.Advance(time.Minute)
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", tok, nil))
	fresh := e.login("admin", adminPassword, projectScope("admin"))
	wantError(t, e.do("GET", "/v3/auth/tokens", fresh, nil, "X-Subject-Token", tok), http.StatusNotFound, "Failed to validate token")
}

// TestWrongKey: a token signed with another key is refused, even for the
// same user on the same database.
func TestWrongKey(t *testing.T) {
	e := newEnv(t)
	store, err := sqlite.Open(t.Context(), e.path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	other, err := identity.NewService(store, identity.Config{Key: bytes.Repeat([]byte("o"), 32), Now: e.clock.Now, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := other.Authenticate(t.Context(), identity.AuthRequest{Methods: []string{"password"},
		Password: &identity.PasswordCredentials{UserName: "admin", DomainID: "default", Password: adminPassword},
		Scope:    identity.Scope{ProjectName: "admin", ProjectDomainID: "default"}})
	if err != nil {
		t.Fatal(err)
	}
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", tok.ID, nil))
}

// TestTwoNodes: a token issued by one node is accepted by a second one
// sharing the database and key; a revocation on the second holds on the
// first.
func TestTwoNodes(t *testing.T) {
	a := newEnv(t)
	b := newEnvOn(t, a.path, a.clock)
	a.member("demo", "demo", "secretdemo")
	tok := a.login("demo", "secretdemo", projectScope("demo"))
	r := b.do("GET", "/v3/auth/tokens", b.admin, nil, "X-Subject-Token", tok).want(t, http.StatusOK)
	if r.str("token", "project", "name") != "demo" {
		t.Errorf("second node sees %s", r.raw)
	}
	b.do("GET", "/v3/auth/projects", tok, nil).want(t, http.StatusOK)
	b.do("DELETE", "/v3/auth/tokens", tok, nil, "X-Subject-Token", tok).want(t, http.StatusNoContent)
	wantUnauthorized(t, a, a.do("GET", "/v3/auth/projects", tok, nil))
}

func TestThrottleHTTP(t *testing.T) {
	e := newEnv(t)
	for range identity.DefaultMaxLoginFailures {
		wantUnauthorized(t, e, e.do("POST", "/v3/auth/tokens", "", passwordAuth("admin", "wrong", nil)))
	}
	// Locked: even the right password is refused, with the same answer.
	wantUnauthorized(t, e, e.do("POST", "/v3/auth/tokens", "", passwordAuth("admin", adminPassword, nil)))
	e.clock.Advance(identity.DefaultLockoutBase)
	e.do("POST", "/v3/auth/tokens", "", passwordAuth("admin", adminPassword, nil)).want(t, http.StatusCreated)
}

func TestRescopeHTTP(t *testing.T) {
	e := newEnv(t)
	e.member("demo", "demo", "secretdemo")
	unscoped := e.login("demo", "secretdemo", nil)
	body := map[string]any{"auth": map[string]any{
		"identity": map[string]any{"methods": []string{"token"}, "token": map[string]any{"id": unscoped}},
		"scope":    projectScope("demo"),
	}}
	e.clock.Advance(time.Second)
	r := e.do("POST", "/v3/auth/tokens", "", body).want(t, http.StatusCreated)
	if m := r.list("token", "methods"); len(m) != 2 || m[0] != "password" || m[1] != "token" {
		t.Errorf("methods %v", m)
	}
	if len(r.list("token", "audit_ids")) != 2 || r.str("token", "project", "name") != "demo" {
		t.Errorf("rescoped token %s", r.raw)
	}
}

func TestAuthProjectsCatalogSystem(t *testing.T) {
	e := newEnv(t)
	pid, _ := e.member("demo", "demo", "secretdemo")
	demo := e.login("demo", "secretdemo", nil) // unscoped is enough to list projects
	r := e.do("GET", "/v3/auth/projects", demo, nil).want(t, http.StatusOK)
	if len(r.list("projects")) != 1 || r.str("projects", 0, "id") != pid || r.str("projects", 0, "parent_id") != "default" ||
		r.str("links", "self") != e.srv.URL+"/identity/v3/auth/projects" || r.get("links", "next") != nil {
		t.Errorf("auth/projects: %s", r.raw)
	}
	if keys(r.get("projects", 0)) == nil || !slices.Equal(keys(r.get("projects", 0)), []string{"description", "domain_id",
		"enabled", "id", "is_domain", "links", "name", "options", "parent_id", "tags"}) {
		t.Errorf("project keys %v", keys(r.get("projects", 0)))
	}
	wantError(t, e.do("GET", "/v3/auth/catalog", demo, nil), http.StatusForbidden, "")
	scoped := e.login("demo", "secretdemo", projectScope("demo"))
	c := e.do("GET", "/v3/auth/catalog", scoped, nil).want(t, http.StatusOK)
	checkCatalog(t, e, c.list("catalog"))

	if s := e.do("GET", "/v3/auth/system", scoped, nil).want(t, http.StatusOK); len(s.list("system")) != 0 {
		t.Errorf("member's auth/system: %s", s.raw)
	}
	if s := e.do("GET", "/v3/auth/system", e.admin, nil).want(t, http.StatusOK); s.get("system", 0, "all") != true {
		t.Errorf("admin's auth/system: %s", s.raw)
	}
}
