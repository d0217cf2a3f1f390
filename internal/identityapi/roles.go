package identityapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/identity"
)

// Roles.

func (h *Handler) listRoles(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_roles"); err != nil {
		return err
	}
	rs, err := h.svc.ListRoles(c.Context(), identity.Filter{Name: c.URL.Query().Get("name")})
	if err != nil {
		return err
	}
	out := []roleJSON{}
	if c.URL.Query().Get("domain_id") == "" { // glint has no domain-specific roles
		for _, r := range rs {
			out = append(out, c.role(r))
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"roles": out, "links": c.listLinks()})
	return nil
}

func (h *Handler) showRole(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:get_role"); err != nil {
		return err
	}
	r, err := h.svc.GetRole(c.Context(), c.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"role": c.role(r)})
	return nil
}

func (h *Handler) createRole(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:create_role"); err != nil {
		return err
	}
	var b struct {
		Role *struct {
			Name        *string `json:"name"`
			Description *string `json:"description"`
			DomainID    *string `json:"domain_id"`
		} `json:"role"`
	}
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.Role == nil || b.Role.Name == nil {
		return badRequest("Invalid input for field 'name': 'name' is a required property.")
	}
	if str(b.Role.DomainID) != "" {
		return badRequest("Invalid input for field 'domain_id': glint does not support domain-specific roles.")
	}
	r, err := h.svc.CreateRole(c.Context(), identity.Role{Name: *b.Role.Name, Description: str(b.Role.Description)})
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusCreated, map[string]any{"role": c.role(r)})
	return nil
}

func (h *Handler) deleteRole(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:delete_role"); err != nil {
		return err
	}
	if err := h.svc.DeleteRole(c.Context(), c.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Grants: /v3/projects/{project}/users/{user}/roles/{role} and
// /v3/system/users/{user}/roles/{role}.

// grantOf reads the assignment a grant path names; the system routes have
// no {project}.
func grantOf(c *call) identity.Assignment {
	a := identity.Assignment{UserID: c.PathValue("user"), RoleID: c.PathValue("role"), ProjectID: c.PathValue("project")}
	a.System = a.ProjectID == ""
	return a
}

func (h *Handler) grant(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:create_grant"); err != nil {
		return err
	}
	if err := h.svc.Grant(c.Context(), grantOf(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) checkGrant(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:check_grant"); err != nil {
		return err
	}
	if err := h.svc.CheckGrant(c.Context(), grantOf(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) revokeGrant(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:revoke_grant"); err != nil {
		return err
	}
	if err := h.svc.RevokeGrant(c.Context(), grantOf(c)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listGrants lists the roles a user has on a project or on the system.
func (h *Handler) listGrants(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_grants"); err != nil {
		return err
	}
	a := grantOf(c)
	if _, err := h.svc.GetUser(c.Context(), a.UserID); err != nil {
		return err
	}
	if !a.System {
		if _, err := h.svc.GetProject(c.Context(), a.ProjectID); err != nil {
			return err
		}
	}
	as, err := h.svc.ListAssignments(c.Context(), identity.AssignmentFilter{UserID: a.UserID,
		ProjectID: a.ProjectID, SystemOnly: a.System}, false)
	if err != nil {
		return err
	}
	out := []roleJSON{}
	for _, a := range as {
		r, err := h.svc.GetRole(c.Context(), a.RoleID)
		if err != nil {
			return err
		}
		out = append(out, c.role(r))
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"roles": out, "links": c.listLinks()})
	return nil
}

// Role assignments: GET /v3/role_assignments with openstackclient's
// filters (user.id, role.id, scope.project.id, scope.system, effective,
// include_names). Groups, domains and inheritance do not exist in glint,
// so filtering on them finds nothing.

type assignmentJSON struct {
	Links map[string]string `json:"links"`
	Scope map[string]any    `json:"scope"`
	User  map[string]any    `json:"user"`
	Role  map[string]any    `json:"role"`
}

func (h *Handler) listAssignments(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_role_assignments"); err != nil {
		return err
	}
	q := c.URL.Query()
	f := identity.AssignmentFilter{UserID: q.Get("user.id"), RoleID: q.Get("role.id"), ProjectID: q.Get("scope.project.id")}
	switch sys := q.Get("scope.system"); {
	case sys != "" && f.ProjectID != "":
		return badRequest("Specify either a project or the system as scope, not both.")
	case sys != "":
		f.SystemOnly = true
	}
	out := []assignmentJSON{}
	none := q.Get("group.id") != "" || q.Get("scope.domain.id") != "" || q.Has("scope.OS-INHERIT:inherited_to")
	if !none {
		as, err := h.svc.ListAssignments(c.Context(), f, flag(q.Get("effective"), q.Has("effective")))
		if err != nil {
			return err
		}
		names := &nameCache{svc: h.svc}
		withNames := flag(q.Get("include_names"), q.Has("include_names"))
		for _, a := range as {
			j, err := c.assignment(a, names, withNames)
			if err != nil {
				return err
			}
			out = append(out, j)
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"role_assignments": out, "links": c.listLinks()})
	return nil
}

// flag reads a query flag the way Keystone does: present without a value,
// or with any value but a false one, means true.
func flag(v string, present bool) bool {
	if !present {
		return false
	}
	switch strings.ToLower(v) {
	case "false", "0", "no", "off":
		return false
	}
	return true
}

func (c *call) assignment(a identity.Assignment, names *nameCache, withNames bool) (assignmentJSON, error) {
	user := map[string]any{"id": a.UserID}
	role := map[string]any{"id": a.RoleID}
	j := assignmentJSON{User: user, Role: role}
	if a.System {
		j.Scope = map[string]any{"system": map[string]bool{"all": true}}
		j.Links = map[string]string{"assignment": c.url("/system/users/" + a.UserID + "/roles/" + a.RoleID)}
	} else {
		project := map[string]any{"id": a.ProjectID}
		j.Scope = map[string]any{"project": project}
		j.Links = map[string]string{"assignment": c.url("/projects/" + a.ProjectID + "/users/" + a.UserID + "/roles/" + a.RoleID)}
		if withNames {
			p, d, err := names.project(c.Context(), a.ProjectID)
			if err != nil {
				return j, err
			}
			project["name"], project["domain"] = p.Name, idName{d.ID, d.Name}
		}
	}
	if withNames {
		u, d, err := names.user(c.Context(), a.UserID)
		if err != nil {
			return j, err
		}
		user["name"], user["domain"] = u.Name, idName{d.ID, d.Name}
		r, err := names.role(c.Context(), a.RoleID)
		if err != nil {
			return j, err
		}
		role["name"] = r.Name
	}
	return j, nil
}

// nameCache looks each record up once per listing.
type nameCache struct {
	svc      *identity.Service
	domains  map[string]*identity.Domain
	projects map[string]*identity.Project
	users    map[string]*identity.User
	roles    map[string]*identity.Role
}

func cached[T any](m *map[string]*T, id string, load func() (*T, error)) (*T, error) {
	if *m == nil {
		*m = map[string]*T{}
	}
	if v, ok := (*m)[id]; ok {
		return v, nil
	}
	v, err := load()
	if err != nil {
		return nil, err
	}
	(*m)[id] = v
	return v, nil
}

func (n *nameCache) domain(ctx context.Context, id string) (*identity.Domain, error) {
	return cached(&n.domains, id, func() (*identity.Domain, error) { return n.svc.GetDomain(ctx, id) })
}

func (n *nameCache) project(ctx context.Context, id string) (*identity.Project, *identity.Domain, error) {
	p, err := cached(&n.projects, id, func() (*identity.Project, error) { return n.svc.GetProject(ctx, id) })
	if err != nil {
		return nil, nil, err
	}
	d, err := n.domain(ctx, p.DomainID)
	return p, d, err
}

func (n *nameCache) user(ctx context.Context, id string) (*identity.User, *identity.Domain, error) {
	u, err := cached(&n.users, id, func() (*identity.User, error) { return n.svc.GetUser(ctx, id) })
	if err != nil {
		return nil, nil, err
	}
	d, err := n.domain(ctx, u.DomainID)
	return u, d, err
}

func (n *nameCache) role(ctx context.Context, id string) (*identity.Role, error) {
	return cached(&n.roles, id, func() (*identity.Role, error) { return n.svc.GetRole(ctx, id) })
}
