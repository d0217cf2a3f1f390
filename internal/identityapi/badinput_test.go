package identityapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadLogins: requests of the wrong shape are 400 (as Keystone's schema
// answers them); well-formed requests that cannot be honoured are 401.
func TestBadLogins(t *testing.T) {
	e := newEnv(t)
	user := `"user":{"name":"admin","domain":{"name":"Default"},"password":"` + adminPassword + `"}`
	pw := `"identity":{"methods":["password"],"password":{` + user + `}}`
	for _, tc := range []struct {
		name   string
		body   string
		status int
	}{
		{"not JSON", `{"auth":`, 400},
		{"trailing data", `{"auth":{` + pw + `}} {}`, 400},
		{"empty body", ``, 400},
		{"array", `[]`, 400},
		{"no auth", `{}`, 400},
		{"no identity", `{"auth":{}}`, 400},
		{"no methods", `{"auth":{"identity":{"password":{` + user + `}}}}`, 400},
		{"methods not a list", `{"auth":{"identity":{"methods":"password"}}}`, 400},
		{"password without user", `{"auth":{"identity":{"methods":["password"],"password":{}}}}`, 400},
		{"user without id or name", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"password":"x"}}}}}`, 400},
		{"name without domain", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":"admin","password":"x"}}}}}`, 400},
		{"password not a string", `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"x","password":7}}}}}`, 400},
		{"token method without id", `{"auth":{"identity":{"methods":["token"],"token":{}}}}`, 400},
		{"bad scope string", `{"auth":{` + pw + `,"scope":"everything"}}`, 400},
		{"scope not an object", `{"auth":{` + pw + `,"scope":[1]}}`, 400},
		{"two scopes", `{"auth":{` + pw + `,"scope":{"system":{"all":true},"project":{"id":"x"}}}}`, 400},
		{"system not all", `{"auth":{` + pw + `,"scope":{"system":{"all":false}}}}`, 400},
		{"project name without domain", `{"auth":{` + pw + `,"scope":{"project":{"name":"admin"}}}}`, 400},
		{"project without id or name", `{"auth":{` + pw + `,"scope":{"project":{}}}}`, 400},
		{"unsupported method", `{"auth":{"identity":{"methods":["totp"],"totp":{}}}}`, 401},
		{"two methods", `{"auth":{"identity":{"methods":["password","token"],"password":{` + user + `},"token":{"id":"x"}}}}`, 401},
		{"domain scope", `{"auth":{` + pw + `,"scope":{"domain":{"id":"default"}}}}`, 401},
		{"trust scope", `{"auth":{` + pw + `,"scope":{"OS-TRUST:trust":{"id":"t"}}}}`, 401},
		{"forged token method", `{"auth":{"identity":{"methods":["token"],"token":{"id":"a.b"}}}}`, 401},
		{"explicitly unscoped", `{"auth":{` + pw + `,"scope":"unscoped"}}`, 201},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v3/auth/tokens", "", tc.body)
			if tc.status == 201 {
				r.want(t, 201)
				return
			}
			wantError(t, r, tc.status, "")
			if tc.status == 401 {
				wantUnauthorized(t, e, r)
			}
		})
	}
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	huge := `{"auth":{"identity":{"methods":["password"],"password":{"user":{"id":"` + strings.Repeat("x", 70<<10) + `"}}}}}`
	wantError(t, e.do("POST", "/v3/auth/tokens", "", huge), http.StatusRequestEntityTooLarge, "")
	r := e.do("POST", "/v3/projects", e.admin, `<project/>`, "Content-Type", "application/xml")
	wantError(t, r, http.StatusUnsupportedMediaType, "")
	for name, body := range map[string]string{
		"no project":       `{}`,
		"no name":          `{"project":{}}`,
		"empty name":       `{"project":{"name":"  "}}`,
		"long name":        `{"project":{"name":"` + strings.Repeat("n", 65) + `"}}`,
		"control chars":    `{"project":{"name":"a\u0000b"}}`,
		"name not string":  `{"project":{"name":1}}`,
		"is_domain":        `{"project":{"name":"d","is_domain":true}}`,
		"foreign parent":   `{"project":{"name":"d","parent_id":"p1","domain_id":"default"}}`,
		"enabled a string": `{"project":{"name":"d","enabled":"yes"}}`,
	} {
		t.Run("project "+name, func(t *testing.T) {
			wantError(t, e.do("POST", "/v3/projects", e.admin, body), http.StatusBadRequest, "")
		})
	}
	for name, body := range map[string]string{
		"no user":     `{}`,
		"no name":     `{"user":{}}`,
		"long pw":     `{"user":{"name":"u","password":"` + strings.Repeat("p", 73) + `"}}`,
		"long email":  `{"user":{"name":"u","email":"` + strings.Repeat("e", 300) + `"}}`,
		"bad enabled": `{"user":{"name":"u","enabled":1}}`,
	} {
		r := e.do("POST", "/v3/users", e.admin, body)
		if r.status != http.StatusBadRequest {
			t.Errorf("create user, %s: status %d, want 400", name, r.status)
		}
	}
	wantError(t, e.do("POST", "/v3/roles", e.admin, `{"role":{}}`), http.StatusBadRequest, "")
	wantError(t, e.do("POST", "/v3/roles", e.admin, `{"role":{"name":"x","domain_id":"default"}}`), http.StatusBadRequest, "")
}

func TestUnknownRoutes(t *testing.T) {
	e := newEnv(t)
	wantError(t, e.do("GET", "/v3/nothing", e.admin, nil), http.StatusNotFound, "The resource could not be found.")
	wantError(t, e.do("GET", "/v2.0/tokens", "", nil), http.StatusNotFound, "")
	r := e.do("PUT", "/v3/auth/tokens", "", nil)
	wantError(t, r, http.StatusMethodNotAllowed, "")
	if r.header.Get("Allow") != "DELETE, GET, HEAD, POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
	wantError(t, e.do("POST", "/v3/projects/x", e.admin, nil), http.StatusMethodNotAllowed, "")
}
