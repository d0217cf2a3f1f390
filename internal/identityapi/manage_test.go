package identityapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDomains(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v3/domains?name=Default", e.admin, nil).want(t, http.StatusOK)
	if len(r.list("domains")) != 1 || r.str("domains", 0, "id") != "default" ||
		r.str("domains", 0, "description") != "The default domain" || r.get("domains", 0, "enabled") != true ||
		r.str("domains", 0, "links", "self") != e.srv.URL+"/identity/v3/domains/default" ||
		r.str("links", "self") != e.srv.URL+"/identity/v3/domains?name=Default" {
		t.Errorf("domains?name=Default: %s", r.raw)
	}
	if r := e.do("GET", "/v3/domains?name=Nope", e.admin, nil).want(t, http.StatusOK); len(r.list("domains")) != 0 {
		t.Errorf("domains?name=Nope: %s", r.raw)
	}
	e.do("GET", "/v3/domains/default", e.admin, nil).want(t, http.StatusOK)
	wantError(t, e.do("GET", "/v3/domains/nope", e.admin, nil), http.StatusNotFound, "Could not find domain: nope.")

	e.member("demo", "demo", "pw")
	demo := e.login("demo", "pw", projectScope("demo"))
	e.do("GET", "/v3/domains/default", demo, nil).want(t, http.StatusOK) // own project's domain
	wantError(t, e.do("GET", "/v3/domains", demo, nil), http.StatusForbidden,
		"You are not authorized to perform the requested action: identity:list_domains.")
}

func TestProjects(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{
		"name": "capture-p", "domain_id": "default", "description": "captured"}}).want(t, http.StatusCreated)
	id := r.str("project", "id")
	if len(id) != 32 || r.str("project", "name") != "capture-p" || r.str("project", "description") != "captured" ||
		r.get("project", "enabled") != true || r.str("project", "parent_id") != "default" ||
		r.get("project", "is_domain") != false || r.list("project", "tags") == nil ||
		r.str("project", "links", "self") != e.srv.URL+"/identity/v3/projects/"+id {
		t.Errorf("created project: %s", r.raw)
	}
	dup := e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{"name": "capture-p", "domain_id": "default"}})
	wantError(t, dup, http.StatusConflict, "")
	if msg := dup.str("error", "message"); len(msg) < 100 || msg[:95] != "Conflict occurred attempting to store project - it is not permitted to have two projects with e" {
		t.Errorf("conflict message %q", msg)
	}
	// Domain defaults to Default.
	e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{"name": "second", "enabled": false}}).
		want(t, http.StatusCreated)

	names := func(r *response) []string {
		var out []string
		for _, p := range r.list("projects") {
			out = append(out, p.(map[string]any)["name"].(string))
		}
		return out
	}
	for query, want := range map[string][]string{
		"":                   {"admin", "capture-p", "second"},
		"?name=capture-p":    {"capture-p"},
		"?domain_id=default": {"admin", "capture-p", "second"},
		"?domain_id=other":   nil,
		"?enabled=false":     {"second"},
		"?is_domain=true":    nil,
		"?parent_id=default": {"admin", "capture-p", "second"},
	} {
		r := e.do("GET", "/v3/projects"+query, e.admin, nil).want(t, http.StatusOK)
		if got := names(r); !slices.Equal(got, want) {
			t.Errorf("projects%s = %v, want %v", query, got, want)
		}
	}
	wantError(t, e.do("GET", "/v3/projects?enabled=maybe", e.admin, nil), http.StatusBadRequest, "")

	up := e.do("PATCH", "/v3/projects/"+id, e.admin, map[string]any{"project": map[string]any{
		"name": "renamed", "enabled": false, "description": ""}}).want(t, http.StatusOK)
	if up.str("project", "name") != "renamed" || up.get("project", "enabled") != false || up.str("project", "description") != "" {
		t.Errorf("updated: %s", up.raw)
	}
	wantError(t, e.do("PATCH", "/v3/projects/"+id, e.admin, map[string]any{"project": map[string]any{"domain_id": "x"}}),
		http.StatusBadRequest, "Update of `domain_id` is not allowed.")
	wantError(t, e.do("PATCH", "/v3/projects/"+id, e.admin, map[string]any{"project": map[string]any{"name": "second"}}),
		http.StatusConflict, "")
	wantError(t, e.do("PATCH", "/v3/projects/nope", e.admin, map[string]any{"project": map[string]any{"name": "x"}}),
		http.StatusNotFound, "Could not find project: nope.")
	e.do("GET", "/v3/projects/"+id, e.admin, nil).want(t, http.StatusOK)
	e.do("DELETE", "/v3/projects/"+id, e.admin, nil).want(t, http.StatusNoContent)
	wantError(t, e.do("DELETE", "/v3/projects/"+id, e.admin, nil), http.StatusNotFound, "Could not find project: "+id+".")
	wantError(t, e.do("GET", "/v3/projects/"+id, e.admin, nil), http.StatusNotFound, "")
}

// TestMemberAccess: members get Keystone's 403 on management calls but
// may see themselves, their project and their project list.
func TestMemberAccess(t *testing.T) {
	e := newEnv(t)
	pid, uid := e.member("demo", "demo", "pw")
	demo := e.login("demo", "pw", projectScope("demo"))
	adminProject := e.do("GET", "/v3/projects?name=admin", e.admin, nil).str("projects", 0, "id")
	forbidden := map[string][2]string{
		"GET /v3/projects":                 {"", "identity:list_projects"},
		"POST /v3/projects":                {`{"project":{"name":"x"}}`, "identity:create_project"},
		"GET /v3/projects/" + adminProject: {"", "identity:get_project"},
		"PATCH /v3/projects/" + pid:        {`{"project":{"name":"x"}}`, "identity:update_project"},
		"DELETE /v3/projects/" + pid:       {"", "identity:delete_project"},
		"GET /v3/users":                    {"", "identity:list_users"},
		"POST /v3/users":                   {`{"user":{"name":"x"}}`, "identity:create_user"},
		"PATCH /v3/users/" + uid:           {`{"user":{"enabled":true}}`, "identity:update_user"},
		"DELETE /v3/users/" + uid:          {"", "identity:delete_user"},
		"GET /v3/roles":                    {"", "identity:list_roles"},
		"GET /v3/role_assignments":         {"", "identity:list_role_assignments"},
		"PUT /v3/projects/" + pid + "/users/" + uid + "/roles/x": {"", "identity:create_grant"},
		"GET /v3/services":  {"", "identity:list_services"},
		"GET /v3/endpoints": {"", "identity:list_endpoints"},
	}
	for route, c := range forbidden {
		method, path, _ := strings.Cut(route, " ")
		var body any
		if c[0] != "" {
			body = c[0]
		}
		wantError(t, e.do(method, path, demo, body), http.StatusForbidden,
			"You are not authorized to perform the requested action: "+c[1]+".")
	}
	e.do("GET", "/v3/projects/"+pid, demo, nil).want(t, http.StatusOK)
	e.do("GET", "/v3/users/"+uid, demo, nil).want(t, http.StatusOK)
	r := e.do("GET", "/v3/users/"+uid+"/projects", demo, nil).want(t, http.StatusOK)
	if len(r.list("projects")) != 1 || r.str("projects", 0, "id") != pid {
		t.Errorf("users/{self}/projects: %s", r.raw)
	}
	e.do("GET", "/v3/regions", demo, nil).want(t, http.StatusOK)
	// An unscoped token has no roles, so it is not an admin's either.
	unscoped := e.login("admin", adminPassword, "unscoped")
	wantError(t, e.do("GET", "/v3/users", unscoped, nil), http.StatusForbidden, "")
}

func TestUsers(t *testing.T) {
	e := newEnv(t)
	pid := e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{"name": "capture-p"}}).
		want(t, http.StatusCreated).str("project", "id")
	r := e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{
		"name": "capture-u", "domain_id": "default", "password": "capture-pw", "default_project_id": pid,
		"email": "u@example.com"}}).want(t, http.StatusCreated)
	uid := r.str("user", "id")
	if got := keys(r.get("user")); !slices.Equal(got, []string{"default_project_id", "domain_id", "email", "enabled",
		"id", "links", "name", "options", "password_expires_at"}) {
		t.Errorf("user keys %v", got)
	}
	if r.str("user", "default_project_id") != pid || r.get("user", "enabled") != true || r.get("user", "password_expires_at") != nil {
		t.Errorf("created user: %s", r.raw)
	}
	wantError(t, e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{"name": "capture-u"}}),
		http.StatusConflict, "Conflict occurred attempting to store user - Duplicate entry found with name capture-u at domain ID default.")
	wantError(t, e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{"name": "x", "default_project_id": "nope"}}),
		http.StatusNotFound, "Could not find project: nope.")
	wantError(t, e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{"name": "x", "domain_id": "nope"}}),
		http.StatusNotFound, "Could not find domain: nope.")

	if l := e.do("GET", "/v3/users?name=capture-u", e.admin, nil).want(t, http.StatusOK); len(l.list("users")) != 1 {
		t.Errorf("users?name: %s", l.raw)
	}
	if l := e.do("GET", "/v3/users?domain_id=default", e.admin, nil).want(t, http.StatusOK); len(l.list("users")) != 2 {
		t.Errorf("users?domain_id: %s", l.raw)
	}
	e.do("GET", "/v3/users/"+uid, e.admin, nil).want(t, http.StatusOK)
	wantError(t, e.do("GET", "/v3/users/nope", e.admin, nil), http.StatusNotFound, "Could not find user: nope.")

	// The user has no role yet: the default project does not apply, the
	// token is unscoped.
	tok := e.login("capture-u", "capture-pw", nil)
	e.do("PUT", "/v3/projects/"+pid+"/users/"+uid+"/roles/"+e.roleID("member"), e.admin, nil).want(t, http.StatusNoContent)
	scoped := e.do("POST", "/v3/auth/tokens", "", passwordAuth("capture-u", "capture-pw", nil)).want(t, http.StatusCreated)
	if scoped.str("token", "project", "id") != pid {
		t.Errorf("default project scoping: %s", scoped.raw)
	}

	// An admin password reset ends the user's tokens.
	e.clock.Advance(time.Millisecond)
	e.do("PATCH", "/v3/users/"+uid, e.admin, map[string]any{"user": map[string]any{"password": "reset-pw"}}).want(t, http.StatusOK)
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", tok, nil))
	tok = e.login("capture-u", "reset-pw", nil)

	// Users change their own password with the old one.
	wantUnauthorized(t, e, e.do("POST", "/v3/users/"+uid+"/password", tok, map[string]any{"user": map[string]any{
		"password": "own-pw", "original_password": "wrong"}}))
	e.do("POST", "/v3/users/"+uid+"/password", tok, map[string]any{"user": map[string]any{
		"password": "own-pw", "original_password": "reset-pw"}}).want(t, http.StatusNoContent)
	e.login("capture-u", "own-pw", nil)
	wantError(t, e.do("POST", "/v3/users/"+uid+"/password", e.admin, map[string]any{"user": map[string]any{
		"password": "x", "original_password": "y"}}), http.StatusForbidden, "")

	// Disabling refuses logins with the right password.
	e.do("PATCH", "/v3/users/"+uid, e.admin, map[string]any{"user": map[string]any{"enabled": false}}).want(t, http.StatusOK)
	wantUnauthorized(t, e, e.do("POST", "/v3/auth/tokens", "", passwordAuth("capture-u", "own-pw", nil)))
	wantError(t, e.do("PATCH", "/v3/users/"+uid, e.admin, map[string]any{"user": map[string]any{"domain_id": "x"}}),
		http.StatusBadRequest, "Update of `domain_id` is not allowed.")

	e.do("DELETE", "/v3/users/"+uid, e.admin, nil).want(t, http.StatusNoContent)
	wantError(t, e.do("DELETE", "/v3/users/"+uid, e.admin, nil), http.StatusNotFound, "")
}
