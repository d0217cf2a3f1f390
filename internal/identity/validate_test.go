package identity_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/identity"
)

func TestExpiry(t *testing.T) {
	e := setup(t)
	tok := e.mustLogin(t, "admin", adminPassword, adminScope)
	e.clock.Advance(time.Hour - time.Millisecond)
	if _, err := e.svc.ValidateToken(t.Context(), tok.ID); err != nil {
		t.Fatalf("token 1ms before expiry: %v", err)
	}
	e.clock.Advance(time.Millisecond)
	_, err := e.svc.ValidateToken(t.Context(), tok.ID)
	wantUnauthorized(t, "token at expiry", err)
}

func TestTokenTTL(t *testing.T) {
	store := openStore(t, "")
	c := newClock()
	svc, err := identity.NewService(store, identity.Config{Key: testKey, Now: c.Now, PasswordCost: 4, TokenTTL: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.Bootstrap(t.Context(), svc, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	tok, err := svc.Authenticate(t.Context(), pw("admin", "Default", adminPassword, adminScope))
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.ExpiresAt.Sub(tok.IssuedAt); got != 5*time.Minute {
		t.Errorf("lifetime %s, want 5m", got)
	}
}

func TestRevoke(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	a := e.mustLogin(t, "admin", adminPassword, adminScope)
	b := e.mustLogin(t, "admin", adminPassword, adminScope)
	if err := e.svc.RevokeToken(ctx, a); err != nil {
		t.Fatal(err)
	}
	_, err := e.svc.ValidateToken(ctx, a.ID)
	wantUnauthorized(t, "revoked token", err)
	if _, err := e.svc.ValidateToken(ctx, b.ID); err != nil {
		t.Errorf("another token of the same user: %v", err)
	}
}

// TestStateChanges: a token follows the records it stands on, on every
// validation.
func TestStateChanges(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	off := false
	for _, tc := range []struct {
		name   string
		change func(p *identity.Project, u *identity.User, memberRole string) error
	}{
		{"role removed", func(p *identity.Project, u *identity.User, r string) error {
			return e.svc.RevokeGrant(ctx, identity.Assignment{UserID: u.ID, ProjectID: p.ID, RoleID: r})
		}},
		{"user disabled", func(p *identity.Project, u *identity.User, r string) error {
			_, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Enabled: &off})
			return err
		}},
		{"project disabled", func(p *identity.Project, u *identity.User, r string) error {
			_, err := e.svc.UpdateProject(ctx, p.ID, identity.ProjectUpdate{Enabled: &off})
			return err
		}},
		{"project deleted", func(p *identity.Project, u *identity.User, r string) error {
			return e.svc.DeleteProject(ctx, p.ID)
		}},
		{"user deleted", func(p *identity.Project, u *identity.User, r string) error {
			return e.svc.DeleteUser(ctx, u.ID)
		}},
		{"password changed", func(p *identity.Project, u *identity.User, r string) error {
			np := "changed"
			_, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Password: &np})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			p, u := e.member(t, name, name, "pw")
			tok := e.mustLogin(t, name, "pw", identity.Scope{ProjectID: p.ID})
			rs, _ := e.svc.ListRoles(ctx, identity.Filter{Name: "member"})
			e.clock.Advance(time.Millisecond) // the token's clock resolution
			if err := tc.change(p, u, rs[0].ID); err != nil {
				t.Fatal(err)
			}
			_, err := e.svc.ValidateToken(ctx, tok.ID)
			wantUnauthorized(t, tc.name, err)
		})
	}
	// After a password change the new password gives working tokens at
	// once (the cut-off is not rounded to seconds).
	_, u := e.member(t, "pwchange", "pwchange", "old")
	np := "new"
	if _, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Password: &np}); err != nil {
		t.Fatal(err)
	}
	tok := e.mustLogin(t, "pwchange", "new", identity.Scope{})
	if _, err := e.svc.ValidateToken(ctx, tok.ID); err != nil {
		t.Errorf("token issued right after a password change: %v", err)
	}
}

// TestForgery: only tokens signed with the key, unaltered, are accepted.
func TestForgery(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	_, demo := e.member(t, "demo", "demo", "pw")
	tok := e.mustLogin(t, "demo", "pw", identity.Scope{})
	admins, _ := e.svc.ListUsers(ctx, identity.Filter{Name: "admin"})

	enc, sig, _ := strings.Cut(tok.ID, ".")
	body, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		t.Fatalf("token payload is not base64url: %v", err)
	}
	var p map[string]any
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("token payload is not JSON: %v", err)
	}
	// Swap in the admin's id and keep the signature.
	p["u"] = admins[0].ID
	forged, _ := json.Marshal(p)
	swapped := base64.RawURLEncoding.EncodeToString(forged) + "." + sig

	other := newService(t, e.store, e.clock, bytes.Repeat([]byte("x"), 32))
	otherTok, err := other.Authenticate(ctx, pw("demo", "Default", "pw", identity.Scope{}))
	if err != nil {
		t.Fatal(err)
	}
	// The same signature bytes written with other unused low bits in its
	// last character: non-canonical base64 names no second valid token.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, sig[len(sig)-1])
	nonCanonical := enc + "." + sig[:len(sig)-1] + string(alphabet[last^1])
	if got, err := base64.RawURLEncoding.DecodeString(nonCanonical[len(enc)+1:]); err != nil || !bytes.Equal(got, must64(t, sig)) {
		t.Fatalf("the test's non-canonical signature does not decode leniently to the same bytes: %v", err)
	}
	for name, raw := range map[string]string{
		"non-canonical base64": nonCanonical,
		"empty":                "",
		"garbage":              "not-a-token",
		"payload swapped":      swapped,
		"signature dropped":    enc,
		"signature truncated":  enc + "." + sig[:len(sig)-2],
		"extra part":           tok.ID + ".x",
		"bad base64":           "!!!." + sig,
		"other key":            otherTok.ID,
		"huge":                 strings.Repeat("a", 5000) + "." + sig,
	} {
		_, err := e.svc.ValidateToken(ctx, raw)
		wantUnauthorized(t, name, err)
	}
	if demo.ID == admins[0].ID {
		t.Fatal("ids collide")
	}
}

// TestTwoNodes: a token issued by one node is accepted by another that
// shares the database and the key, and a revocation on either holds on
// both.
func TestTwoNodes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glint.db")
	c := newClock()
	a := newService(t, openStore(t, path), c, testKey)
	b := newService(t, openStore(t, path), c, testKey)
	ctx := t.Context()
	if _, err := identity.Bootstrap(ctx, a, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	if created, err := identity.Bootstrap(ctx, b, identity.BootstrapOptions{Password: "ignored"}); err != nil || created {
		t.Fatalf("bootstrap on the second node = %v, %v", created, err)
	}
	tok, err := a.Authenticate(ctx, pw("admin", "Default", adminPassword, adminScope))
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.ValidateToken(ctx, tok.ID)
	if err != nil {
		t.Fatalf("second node: %v", err)
	}
	if got.User.Name != "admin" || got.Project.Name != "admin" || !got.HasRole("admin") {
		t.Errorf("second node sees %+v", got)
	}
	if err := b.RevokeToken(ctx, got); err != nil {
		t.Fatal(err)
	}
	_, err = a.ValidateToken(ctx, tok.ID)
	wantUnauthorized(t, "first node after revocation on the second", err)

	// A node with another key accepts none of these tokens.
	tok2, _ := a.Authenticate(ctx, pw("admin", "Default", adminPassword, adminScope))
	stranger := newService(t, openStore(t, path), c, bytes.Repeat([]byte("z"), 32))
	_, err = stranger.ValidateToken(ctx, tok2.ID)
	wantUnauthorized(t, "node with another key", err)
}

// TestKeyRotation: tokens signed with an old key stay valid while it is
// listed in OldKeys.
func TestKeyRotation(t *testing.T) {
	e := setup(t)
	tok := e.mustLogin(t, "admin", adminPassword, adminScope)
	newKey := bytes.Repeat([]byte("n"), 32)
	rotated, err := identity.NewService(e.store, identity.Config{Key: newKey, OldKeys: [][]byte{testKey}, Now: e.clock.Now, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rotated.ValidateToken(t.Context(), tok.ID); err != nil {
		t.Errorf("token under an old key: %v", err)
	}
	dropped := newService(t, e.store, e.clock, newKey)
	_, err = dropped.ValidateToken(t.Context(), tok.ID)
	wantUnauthorized(t, "token under a dropped key", err)
}

func TestNewServiceConfig(t *testing.T) {
	store := openStore(t, "")
	for name, cfg := range map[string]identity.Config{
		"no key":        {},
		"short key":     {Key: []byte("short")},
		"short old key": {Key: testKey, OldKeys: [][]byte{[]byte("x")}},
		"negative ttl":  {Key: testKey, TokenTTL: -time.Second},
		"cost too high": {Key: testKey, PasswordCost: 40},
	} {
		if _, err := identity.NewService(store, cfg); err == nil {
			t.Errorf("%s: NewService succeeded", name)
		}
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, identity.KeyFileName)
	k1, err := identity.LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != 32 {
		t.Errorf("key length %d", len(k1))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", st.Mode().Perm())
	}
	k2, err := identity.LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Errorf("second load = %x, %v; want the same key", k2, err)
	}
	text, _ := os.ReadFile(path)
	if len(text) != 65 {
		t.Errorf("key file holds %q, want 64 hex digits and a newline", text)
	}
	for name, content := range map[string]string{
		"short":   "abcd\n",
		"not hex": strings.Repeat("zz", 32),
		"empty":   "",
	} {
		p := filepath.Join(dir, name+".key")
		os.WriteFile(p, []byte(content), 0o600)
		if _, err := identity.LoadOrCreateKey(p); err == nil {
			t.Errorf("%s key file accepted", name)
		}
	}
	// An operator's key, made with `openssl rand -hex 32`.
	op := filepath.Join(dir, "op.key")
	os.WriteFile(op, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	if k, err := identity.LoadOrCreateKey(op); err != nil || !bytes.Equal(k, bytes.Repeat([]byte{0xab}, 32)) {
		t.Errorf("operator key = %x, %v", k, err)
	}
	if _, err := identity.LoadOrCreateKey(filepath.Join(dir, "missing-dir", "k")); err == nil {
		t.Error("key file in a missing directory")
	}
}

func TestWriteCloudsYAML(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clouds.yaml")
	os.WriteFile(path, []byte("old"), 0o644)
	err := identity.WriteCloudsYAML(path, identity.CloudsOptions{AuthURL: "http://127.0.0.1:9292/identity/v3",
		Username: "admin", Password: `p"w\x`, ProjectName: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := `# Written by glint: credentials of the bootstrap admin. Keep private.
clouds:
  glint:
    auth:
      auth_url: "http://127.0.0.1:9292/identity/v3"
      username: "admin"
      password: "p\"w\\x"
      project_name: "admin"
      user_domain_name: "Default"
      project_domain_name: "Default"
    region_name: "RegionOne"
    interface: public
    identity_api_version: 3
`
	if string(got) != want {
		t.Errorf("clouds.yaml =\n%s\nwant\n%s", got, want)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
	if err := identity.WriteCloudsYAML(path, identity.CloudsOptions{AuthURL: "x"}); err == nil {
		t.Error("clouds.yaml without credentials was written")
	}
}

func TestRandomPassword(t *testing.T) {
	a, b := identity.RandomPassword(), identity.RandomPassword()
	if len(a) < 20 || a == b {
		t.Errorf("RandomPassword() = %q, %q", a, b)
	}
}

func TestCatalog(t *testing.T) {
	cat := identity.Catalog("http://127.0.0.1:9292/", "", "")
	urls := map[string]string{}
	for _, s := range cat {
		if len(s.Endpoints) != 3 {
			t.Errorf("%s has %d endpoints", s.Type, len(s.Endpoints))
		}
		for _, ep := range s.Endpoints {
			if ep.Region != "RegionOne" || ep.ServiceID != s.ID {
				t.Errorf("endpoint %+v", ep)
			}
			urls[s.Type] = ep.URL
		}
	}
	if urls["image"] != "http://127.0.0.1:9292" || urls["identity"] != "http://127.0.0.1:9292/identity/v3" {
		t.Errorf("catalog urls %v", urls)
	}
	if again := identity.Catalog("http://other:1", "R2", ""); again[0].ID != cat[0].ID || again[0].Endpoints[0].Region != "R2" {
		t.Error("catalog ids are not stable or region ignored")
	}
	if len(cat) != 2 {
		t.Errorf("without a key manager the catalog has %d services", len(cat))
	}
	withKM := identity.Catalog("http://127.0.0.1:9292", "", "/key-manager")
	last := withKM[len(withKM)-1]
	if len(withKM) != 3 || last.Type != "key-manager" || last.Name != "barbican" || last.Endpoints[0].URL != "http://127.0.0.1:9292/key-manager" {
		t.Errorf("the key manager in the catalog: %+v", last)
	}
}

func TestTokenAuthenticator(t *testing.T) {
	e := setup(t)
	proj, demo := e.member(t, "demo", "demo", "pw")
	authn := identity.NewTokenAuthenticator(e.svc)
	scoped := e.mustLogin(t, "demo", "pw", identity.Scope{ProjectID: proj.ID})
	unscoped := e.mustLogin(t, "demo", "pw", identity.Scope{})
	system := e.mustLogin(t, "admin", adminPassword, identity.Scope{System: true})

	check := func(tok string) (caller.Principal, error) {
		r := httptest.NewRequest("GET", "/v2/images", nil)
		if tok != "" {
			r.Header.Set("X-Auth-Token", tok)
		}
		return authn.Authenticate(t.Context(), r)
	}
	p, err := check(scoped.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := caller.Principal{UserID: demo.ID, ProjectID: proj.ID, Roles: []string{"member", "reader"},
		UserName: "demo", UserDomainID: "default", ProjectName: "demo", ProjectDomainID: "default"}
	if p.UserID != want.UserID || p.ProjectID != want.ProjectID || strings.Join(p.Roles, ",") != "member,reader" ||
		p.UserName != want.UserName || p.ProjectName != want.ProjectName || p.ProjectDomainID != "default" ||
		p.UserDomainID != "default" || p.SystemScope || p.IsAdmin() {
		t.Errorf("principal %+v, want %+v", p, want)
	}
	ps, err := check(system.ID)
	if err != nil || !ps.SystemScope || ps.ProjectID != "" || !ps.IsAdmin() {
		t.Errorf("system principal %+v, %v", ps, err)
	}
	for name, tok := range map[string]string{"none": "", "unscoped": unscoped.ID, "garbage": "x.y"} {
		if _, err := check(tok); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%s: %v, want ErrUnauthenticated", name, err)
		}
	}
	if c := identity.Challenge(identity.AuthURL("http://h:1")); c != `Keystone uri="http://h:1/identity/v3"` {
		t.Errorf("Challenge = %s", c)
	}
}

// TestValidationCache: a validation is reused for TokenCacheTTL, so a
// revocation recorded by another node (straight in the shared store here)
// shows after at most that long, while this node's own changes and the
// token's expiry apply at once.
func TestValidationCache(t *testing.T) {
	e := setup(t)
	ctx := t.Context()
	tok := e.mustLogin(t, "admin", adminPassword, adminScope)
	if _, err := e.svc.ValidateToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	// Another node revokes it: this node does not look for DefaultTokenCacheTTL.
	if err := e.store.RevokeToken(ctx, tok.AuditIDs[0], tok.ExpiresAt); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ValidateToken(ctx, tok.ID); err != nil {
		t.Fatalf("within the cache TTL: %v", err)
	}
	e.clock.Advance(identity.DefaultTokenCacheTTL)
	_, err := e.svc.ValidateToken(ctx, tok.ID)
	wantUnauthorized(t, "revoked elsewhere, after the cache TTL", err)

	// A change made on this node applies at once.
	p, u := e.member(t, "cached", "cached-user", "pw-cached")
	mtok := e.mustLogin(t, "cached-user", "pw-cached", identity.Scope{ProjectID: p.ID})
	if _, err := e.svc.ValidateToken(ctx, mtok.ID); err != nil {
		t.Fatal(err)
	}
	disabled := false
	if _, err := e.svc.UpdateUser(ctx, u.ID, identity.UserUpdate{Enabled: &disabled}); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.ValidateToken(ctx, mtok.ID)
	wantUnauthorized(t, "user disabled on this node", err)

	// Expiry is never postponed by the cache.
	tok3 := e.mustLogin(t, "admin", adminPassword, adminScope)
	e.clock.Advance(time.Hour - time.Second)
	if _, err := e.svc.ValidateToken(ctx, tok3.ID); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Second)
	_, err = e.svc.ValidateToken(ctx, tok3.ID)
	wantUnauthorized(t, "expired while cached", err)
}

func must64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
