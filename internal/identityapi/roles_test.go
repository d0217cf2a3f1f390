package identityapi_test

import (
	"net/http"
	"slices"
	"testing"
)

func TestRoles(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "/v3/roles?name=member", e.admin, nil).want(t, http.StatusOK)
	if len(r.list("roles")) != 1 || r.get("roles", 0, "domain_id") != nil || r.get("roles", 0, "description") != nil ||
		r.get("roles", 0, "options", "immutable") != true ||
		r.str("links", "self") != e.srv.URL+"/identity/v3/roles?name=member" {
		t.Errorf("roles?name=member: %s", r.raw)
	}
	all := e.do("GET", "/v3/roles", e.admin, nil).want(t, http.StatusOK)
	var names []string
	for _, x := range all.list("roles") {
		names = append(names, x.(map[string]any)["name"].(string))
	}
	if !slices.Equal(names, []string{"admin", "member", "reader"}) {
		t.Errorf("roles %v", names)
	}
	c := e.do("POST", "/v3/roles", e.admin, map[string]any{"role": map[string]any{"name": "uploader", "description": "d"}}).
		want(t, http.StatusCreated)
	id := c.str("role", "id")
	if c.str("role", "description") != "d" || len(c.get("role", "options").(map[string]any)) != 0 {
		t.Errorf("created role: %s", c.raw)
	}
	wantError(t, e.do("POST", "/v3/roles", e.admin, map[string]any{"role": map[string]any{"name": "uploader"}}),
		http.StatusConflict, "Conflict occurred attempting to store role - Duplicate entry found with name uploader.")
	e.do("GET", "/v3/roles/"+id, e.admin, nil).want(t, http.StatusOK)
	e.do("DELETE", "/v3/roles/"+id, e.admin, nil).want(t, http.StatusNoContent)
	wantError(t, e.do("GET", "/v3/roles/"+id, e.admin, nil), http.StatusNotFound, "Could not find role: "+id+".")
	wantError(t, e.do("DELETE", "/v3/roles/"+e.roleID("member"), e.admin, nil), http.StatusForbidden,
		"Unable to delete immutable role member.")
}

func TestGrants(t *testing.T) {
	e := newEnv(t)
	pid := e.do("POST", "/v3/projects", e.admin, map[string]any{"project": map[string]any{"name": "capture-p"}}).str("project", "id")
	uid := e.do("POST", "/v3/users", e.admin, map[string]any{"user": map[string]any{"name": "capture-u", "password": "pw"}}).str("user", "id")
	member := e.roleID("member")
	grant := "/v3/projects/" + pid + "/users/" + uid + "/roles/" + member

	e.do("HEAD", grant, e.admin, nil).want(t, http.StatusNotFound)
	e.do("PUT", grant, e.admin, nil).want(t, http.StatusNoContent)
	e.do("PUT", grant, e.admin, nil).want(t, http.StatusNoContent) // again: no error
	e.do("HEAD", grant, e.admin, nil).want(t, http.StatusNoContent)
	e.do("GET", grant, e.admin, nil).want(t, http.StatusNoContent)

	for path, msg := range map[string]string{
		"/v3/projects/nope/users/" + uid + "/roles/" + member:   "Could not find project: nope.",
		"/v3/projects/" + pid + "/users/nope/roles/" + member:   "Could not find user: nope.",
		"/v3/projects/" + pid + "/users/" + uid + "/roles/nope": "Could not find role: nope.",
	} {
		wantError(t, e.do("PUT", path, e.admin, nil), http.StatusNotFound, msg)
	}

	l := e.do("GET", "/v3/projects/"+pid+"/users/"+uid+"/roles", e.admin, nil).want(t, http.StatusOK)
	if len(l.list("roles")) != 1 || l.str("roles", 0, "name") != "member" {
		t.Errorf("grants on project: %s", l.raw)
	}

	// The captured openstackclient call.
	r := e.do("GET", "/v3/role_assignments?user.id="+uid+"&include_names=true", e.admin, nil).want(t, http.StatusOK)
	if len(r.list("role_assignments")) != 1 ||
		r.str("role_assignments", 0, "links", "assignment") != e.srv.URL+"/identity"+grant ||
		r.str("role_assignments", 0, "scope", "project", "id") != pid ||
		r.str("role_assignments", 0, "scope", "project", "name") != "capture-p" ||
		r.str("role_assignments", 0, "scope", "project", "domain", "name") != "Default" ||
		r.str("role_assignments", 0, "user", "name") != "capture-u" ||
		r.str("role_assignments", 0, "user", "domain", "id") != "default" ||
		r.str("role_assignments", 0, "role", "name") != "member" {
		t.Errorf("role_assignments: %s", r.raw)
	}
	plain := e.do("GET", "/v3/role_assignments?user.id="+uid, e.admin, nil).want(t, http.StatusOK)
	if plain.get("role_assignments", 0, "user", "name") != nil || plain.get("role_assignments", 0, "role", "name") != nil {
		t.Errorf("names without include_names: %s", plain.raw)
	}
	eff := e.do("GET", "/v3/role_assignments?user.id="+uid+"&effective&include_names", e.admin, nil).want(t, http.StatusOK)
	var roles []string
	for _, a := range eff.list("role_assignments") {
		roles = append(roles, a.(map[string]any)["role"].(map[string]any)["name"].(string))
	}
	if !slices.Equal(roles, []string{"member", "reader"}) {
		t.Errorf("effective roles %v", roles)
	}

	count := func(query string) int {
		t.Helper()
		return len(e.do("GET", "/v3/role_assignments"+query, e.admin, nil).want(t, http.StatusOK).list("role_assignments"))
	}
	for query, want := range map[string]int{
		"":                                  3, // admin on project admin and system, capture-u member
		"?scope.project.id=" + pid:          1,
		"?role.id=" + member:                1,
		"?role.id=" + member + "&effective": 3, // implied by both admin assignments, plus capture-u's
		"?scope.system=all":                 1,
		"?group.id=g":                       0,
		"?scope.domain.id=default":          0,
	} {
		if got := count(query); got != want {
			t.Errorf("role_assignments%s: %d, want %d", query, got, want)
		}
	}
	wantError(t, e.do("GET", "/v3/role_assignments?scope.system=all&scope.project.id="+pid, e.admin, nil), http.StatusBadRequest, "")

	// The user can now scope to the project and sees it in auth/projects.
	tok := e.login("capture-u", "pw", projectScope("capture-p"))
	e.do("DELETE", grant, e.admin, nil).want(t, http.StatusNoContent)
	wantError(t, e.do("DELETE", grant, e.admin, nil), http.StatusNotFound, "")
	wantUnauthorized(t, e, e.do("GET", "/v3/auth/projects", tok, nil))

	// System grants.
	sys := "/v3/system/users/" + uid + "/roles/" + e.roleID("reader")
	e.do("PUT", sys, e.admin, nil).want(t, http.StatusNoContent)
	e.do("HEAD", sys, e.admin, nil).want(t, http.StatusNoContent)
	s := e.do("POST", "/v3/auth/tokens", "", passwordAuth("capture-u", "pw", map[string]any{"system": map[string]any{"all": true}})).
		want(t, http.StatusCreated)
	if s.str("token", "roles", 0, "name") != "reader" || len(s.list("token", "roles")) != 1 {
		t.Errorf("system reader token: %s", s.raw)
	}
	sl := e.do("GET", "/v3/system/users/"+uid+"/roles", e.admin, nil).want(t, http.StatusOK)
	if len(sl.list("roles")) != 1 {
		t.Errorf("system grants: %s", sl.raw)
	}
	ra := e.do("GET", "/v3/role_assignments?user.id="+uid+"&scope.system=all", e.admin, nil).want(t, http.StatusOK)
	if ra.get("role_assignments", 0, "scope", "system", "all") != true {
		t.Errorf("system assignment: %s", ra.raw)
	}
	e.do("DELETE", sys, e.admin, nil).want(t, http.StatusNoContent)
	e.do("HEAD", sys, e.admin, nil).want(t, http.StatusNotFound)
}

func TestServicesEndpoints(t *testing.T) {
	e := newEnv(t)
	s := e.do("GET", "/v3/services", e.admin, nil).want(t, http.StatusOK)
	if len(s.list("services")) != 2 || s.str("services", 0, "type") != "identity" || s.str("services", 1, "type") != "image" ||
		s.get("services", 1, "enabled") != true {
		t.Errorf("services: %s", s.raw)
	}
	imageID := s.str("services", 1, "id")
	e.do("GET", "/v3/services/"+imageID, e.admin, nil).want(t, http.StatusOK)
	wantError(t, e.do("GET", "/v3/services/nope", e.admin, nil), http.StatusNotFound, "")
	if f := e.do("GET", "/v3/services?type=image", e.admin, nil); len(f.list("services")) != 1 {
		t.Errorf("services?type=image: %s", f.raw)
	}

	ep := e.do("GET", "/v3/endpoints", e.admin, nil).want(t, http.StatusOK)
	if len(ep.list("endpoints")) != 6 {
		t.Errorf("endpoints: %s", ep.raw)
	}
	f := e.do("GET", "/v3/endpoints?service_id="+imageID+"&interface=public", e.admin, nil).want(t, http.StatusOK)
	if len(f.list("endpoints")) != 1 || f.str("endpoints", 0, "url") != e.srv.URL || f.str("endpoints", 0, "service_id") != imageID {
		t.Errorf("filtered endpoints: %s", f.raw)
	}
	e.do("GET", "/v3/endpoints/"+f.str("endpoints", 0, "id"), e.admin, nil).want(t, http.StatusOK)
	wantError(t, e.do("GET", "/v3/endpoints/nope", e.admin, nil), http.StatusNotFound, "")

	rg := e.do("GET", "/v3/regions", e.admin, nil).want(t, http.StatusOK)
	if rg.str("regions", 0, "id") != "RegionOne" {
		t.Errorf("regions: %s", rg.raw)
	}
	e.do("GET", "/v3/regions/RegionOne", e.admin, nil).want(t, http.StatusOK)
	e.do("GET", "/v3/regions/Other", e.admin, nil).want(t, http.StatusNotFound)
}
