package keystone_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/auth/keystone"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// The Keystone here is glint's own built-in identity, which speaks the same
// v3 API as Keystone (checked against captured Keystone answers in
// internal/identityapi).
func keystoneServer(t *testing.T) *httptest.Server {
	t.Helper()
	t.Setenv("GLINT_BOOTSTRAP_PASSWORD", "admin-pw")
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	ts := servertest.Start(t, cfg)
	return ts.Server
}

func login(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/identity/v3/auth/tokens", "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

const adminScoped = `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"admin-pw"}}},
	"scope":{"project":{"name":"admin","domain":{"name":"Default"}}}}}`

func request(token string) *http.Request {
	r := httptest.NewRequest("GET", "/v2/images", nil)
	if token != "" {
		r.Header.Set("X-Auth-Token", token)
	}
	return r
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestValidateAgainstKeystone(t *testing.T) {
	ts := keystoneServer(t)
	clk := &clock{t: time.Now()}
	a, err := keystone.New(keystone.Config{URL: ts.URL + "/identity/v3", Username: "admin", Password: "admin-pw",
		ProjectName: "admin", CacheTTL: 30 * time.Second}, nil, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	if a.AuthURI() != ts.URL+"/identity" {
		t.Fatalf("AuthURI %q", a.AuthURI())
	}
	ctx := context.Background()
	user := login(t, ts.URL, adminScoped)
	p, err := a.Authenticate(ctx, request(user))
	if err != nil || p.ProjectName != "admin" || p.UserName != "admin" || !p.IsAdmin() || p.ProjectID == "" {
		t.Fatalf("principal %+v, %v", p, err)
	}
	for _, bad := range []string{"", "garbage", user + "x"} {
		if _, err := a.Authenticate(ctx, request(bad)); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("token %q: %v", bad, err)
		}
	}
	unscoped := login(t, ts.URL, `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","domain":{"name":"Default"},"password":"admin-pw"}}},"scope":"unscoped"}}`)
	if _, err := a.Authenticate(ctx, request(unscoped)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("unscoped token: %v", err)
	}

	// A revocation applies once the cached answer is older than CacheTTL.
	req, _ := http.NewRequest("DELETE", ts.URL+"/identity/v3/auth/tokens", nil)
	req.Header.Set("X-Auth-Token", user)
	req.Header.Set("X-Subject-Token", user)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("revoke: %v %v", err, resp)
	}
	if _, err := a.Authenticate(ctx, request(user)); err != nil {
		t.Fatalf("cached answer within the TTL: %v", err)
	}
	clk.add(31 * time.Second)
	if _, err := a.Authenticate(ctx, request(user)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token after the TTL: %v", err)
	}

	// Keystone gone: the request fails as unavailable, never passes.
	other := login(t, ts.URL, adminScoped)
	ts.Close()
	if _, err := a.Authenticate(ctx, request(other)); !errors.Is(err, auth.ErrUnavailable) {
		t.Fatalf("keystone down: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []keystone.Config{
		{URL: "keystone:5000", Username: "u", Password: "p", ProjectName: "s"},
		{URL: "http://keystone:5000/v3", Username: "u", ProjectName: "s"},
		{URL: "http://keystone:5000/v3", Username: "u", Password: "p", ProjectName: "s", CacheTTL: -1},
	} {
		if _, err := keystone.New(c, nil, nil); err == nil {
			t.Errorf("accepted %+v", c)
		}
	}
}
