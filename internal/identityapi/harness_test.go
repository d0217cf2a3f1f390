package identityapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/identityapi"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

const adminPassword = "secretadmin"

var testKey = bytes.Repeat([]byte("k"), 32)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

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

// env is an identity API served the way glint mounts it, on a fresh
// bootstrapped SQLite store.
type env struct {
	t     *testing.T
	path  string // the SQLite file
	srv   *httptest.Server
	svc   *identity.Service
	clock *clock
	admin string // an admin token scoped to project admin
}

func newEnv(t *testing.T) *env {
	return newEnvOn(t, filepath.Join(t.TempDir(), "glint.db"), &clock{t: time.Date(2026, 11, 24, 2, 1, 48, 0, time.UTC)})
}

// newEnvOn serves a second node when given the same path and clock.
func newEnvOn(t *testing.T, path string, c *clock) *env {
	t.Helper()
	store, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := identity.NewService(store, identity.Config{Key: testKey, Now: c.Now, PasswordCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := identity.Bootstrap(t.Context(), svc, identity.BootstrapOptions{Password: adminPassword}); err != nil {
		t.Fatal(err)
	}
	h := identityapi.New(svc, slog.New(slog.DiscardHandler), identityapi.Options{})
	mux := http.NewServeMux()
	mux.Handle(identity.PathPrefix+"/", http.StripPrefix(identity.PathPrefix, h))
	mux.Handle(identity.PathPrefix, http.StripPrefix(identity.PathPrefix, h))
	// The image API's version list, which clients read at the catalog's
	// image URL (glint's image handler serves the real one).
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusMultipleChoices)
		fmt.Fprintf(w, `{"versions":[{"id":"v2.16","status":"CURRENT","links":[{"rel":"self","href":"http://%s/v2/"}]}]}`, r.Host)
	})
	e := &env{t: t, path: path, srv: httptest.NewServer(mux), svc: svc, clock: c}
	t.Cleanup(e.srv.Close)
	e.admin = e.login("admin", adminPassword, projectScope("admin"))
	return e
}

// response is a decoded answer.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request to path (under /identity) with an optional token and
// JSON body (a string is sent as is).
func (e *env) do(method, path, token string, body any, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+"/identity"+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	r := &response{status: res.StatusCode, header: res.Header}
	r.raw, _ = io.ReadAll(res.Body)
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, path, err, r.raw)
		}
	}
	if res.Header.Get("X-Openstack-Request-Id") == "" {
		e.t.Errorf("%s %s: no x-openstack-request-id", method, path)
	}
	return r
}

// want fails the test unless the status is as expected.
func (r *response) want(t *testing.T, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// get walks a path of object keys and array indexes in the body.
func (r *response) get(path ...any) any {
	var v any = r.body
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func (r *response) str(path ...any) string {
	s, _ := r.get(path...).(string)
	return s
}

func (r *response) list(path ...any) []any {
	a, _ := r.get(path...).([]any)
	return a
}

func projectScope(name string) map[string]any {
	return map[string]any{"project": map[string]any{"name": name, "domain": map[string]any{"name": "Default"}}}
}

func passwordAuth(user, password string, scope any) map[string]any {
	auth := map[string]any{"identity": map[string]any{
		"methods": []string{"password"},
		"password": map[string]any{"user": map[string]any{
			"name": user, "domain": map[string]any{"name": "Default"}, "password": password,
		}},
	}}
	if scope != nil {
		auth["scope"] = scope
	}
	return map[string]any{"auth": auth}
}

// login returns a token for user or fails the test.
func (e *env) login(user, password string, scope any) string {
	e.t.Helper()
	r := e.do("POST", "/v3/auth/tokens", "", passwordAuth(user, password, scope)).want(e.t, http.StatusCreated)
	tok := r.header.Get("X-Subject-Token")
	if tok == "" {
		e.t.Fatal("no X-Subject-Token")
	}
	return tok
}

// member creates a project and a user with role member on it, through the
// API, and returns their ids.
func (e *env) member(project, user, password string) (projectID, userID string) {
	e.t.Helper()
	p := e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{
		"name": project, "domain_id": "default"}}).want(e.t, http.StatusCreated)
	u := e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{
		"name": user, "domain_id": "default", "password": password}}).want(e.t, http.StatusCreated)
	projectID, userID = p.str("project", "id"), u.str("user", "id")
	e.do("PUT", "/v3/projects/"+projectID+"/users/"+userID+"/roles/"+e.roleID("member"), e.admin, nil).
		want(e.t, http.StatusNoContent)
	return projectID, userID
}

func (e *env) roleID(name string) string {
	e.t.Helper()
	r := e.do("GET", "/v3/roles?name="+name, e.admin, nil).want(e.t, http.StatusOK)
	id := r.str("roles", 0, "id")
	if id == "" {
		e.t.Fatalf("no role %s", name)
	}
	return id
}

// wantError checks Keystone's error body.
func wantError(t *testing.T, r *response, status int, message string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	if code, _ := r.get("error", "code").(float64); int(code) != status {
		t.Errorf("error.code %v, want %d", r.get("error", "code"), status)
	}
	if r.str("error", "title") == "" {
		t.Errorf("error without title: %s", r.raw)
	}
	if message != "" && r.str("error", "message") != message {
		t.Errorf("error.message %q, want %q", r.str("error", "message"), message)
	}
}

func wantUnauthorized(t *testing.T, e *env, r *response) {
	t.Helper()
	wantError(t, r, http.StatusUnauthorized, "The request you have made requires authentication.")
	if got, want := r.header.Get("WWW-Authenticate"), `Keystone uri="`+e.srv.URL+`/identity/v3"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
}
