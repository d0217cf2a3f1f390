package identityapi

import (
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/identity"
)

// requireAdmin applies the admin-only policy of the management calls;
// Keystone names the rule in its 403.
func requireAdmin(c *call, action string) error {
	if !isAdmin(c.token) {
		return forbidden(action)
	}
	return nil
}

// enabledFilter reads ?enabled=true|false; ok is false when absent.
func enabledFilter(c *call) (want, ok bool, err error) {
	v := c.URL.Query().Get("enabled")
	if v == "" {
		return false, false, nil
	}
	switch strings.ToLower(v) {
	case "true", "1", "yes", "on":
		return true, true, nil
	case "false", "0", "no", "off":
		return false, true, nil
	}
	return false, false, badRequest("Invalid input for field 'enabled': expecting a boolean.")
}

// Domains.

func (h *Handler) listDomains(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_domains"); err != nil {
		return err
	}
	ds, err := h.svc.ListDomains(c.Context(), identity.Filter{Name: c.URL.Query().Get("name")})
	if err != nil {
		return err
	}
	want, filter, err := enabledFilter(c)
	if err != nil {
		return err
	}
	out := []domainJSON{}
	for _, d := range ds {
		if !filter || d.Enabled == want {
			out = append(out, c.domain(d))
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"domains": out, "links": c.listLinks()})
	return nil
}

// showDomain: admins, and anyone whose project is in the domain (Keystone's
// token.project.domain.id rule).
func (h *Handler) showDomain(w http.ResponseWriter, c *call) error {
	id := c.PathValue("id")
	inDomain := c.token.Project != nil && c.token.Project.DomainID == id
	if !inDomain {
		if err := requireAdmin(c, "identity:get_domain"); err != nil {
			return err
		}
	}
	d, err := h.svc.GetDomain(c.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"domain": c.domain(d)})
	return nil
}

// Projects.

type projectBody struct {
	Project *struct {
		Name        *string `json:"name"`
		DomainID    *string `json:"domain_id"`
		Description *string `json:"description"`
		Enabled     *bool   `json:"enabled"`
		ParentID    *string `json:"parent_id"`
		IsDomain    *bool   `json:"is_domain"`
	} `json:"project"`
}

func (h *Handler) listProjects(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_projects"); err != nil {
		return err
	}
	q := c.URL.Query()
	want, filter, err := enabledFilter(c)
	if err != nil {
		return err
	}
	ps, err := h.svc.ListProjects(c.Context(), identity.Filter{Name: q.Get("name"), DomainID: q.Get("domain_id")})
	if err != nil {
		return err
	}
	out := []projectJSON{}
	for _, p := range ps {
		// Glint has no projects acting as domains and no hierarchy below
		// the domain, so those filters select nothing or everything.
		if (filter && p.Enabled != want) || q.Get("is_domain") == "true" ||
			(q.Has("parent_id") && q.Get("parent_id") != p.DomainID) {
			continue
		}
		out = append(out, c.project(p))
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"projects": out, "links": c.listLinks()})
	return nil
}

func (h *Handler) createProject(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:create_project"); err != nil {
		return err
	}
	var b projectBody
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.Project == nil {
		return badRequest("Invalid input for field 'project': 'project' is a required property.")
	}
	in := b.Project
	if in.Name == nil {
		return badRequest("Invalid input for field 'name': 'name' is a required property.")
	}
	p := identity.Project{Name: *in.Name, Enabled: in.Enabled == nil || *in.Enabled}
	if in.DomainID != nil {
		p.DomainID = *in.DomainID
	}
	if in.Description != nil {
		p.Description = *in.Description
	}
	if in.IsDomain != nil && *in.IsDomain {
		return badRequest("Invalid input for field 'is_domain': glint does not support projects acting as domains.")
	}
	if in.ParentID != nil && *in.ParentID != "" && *in.ParentID != p.DomainID && p.DomainID != "" {
		return badRequest("Invalid input for field 'parent_id': glint does not support project hierarchies.")
	}
	created, err := h.svc.CreateProject(c.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusCreated, map[string]any{"project": c.project(created)})
	return nil
}

// showProject: admins, and members of the project itself.
func (h *Handler) showProject(w http.ResponseWriter, c *call) error {
	id := c.PathValue("id")
	if c.token.Project == nil || c.token.Project.ID != id {
		if err := requireAdmin(c, "identity:get_project"); err != nil {
			return err
		}
	}
	p, err := h.svc.GetProject(c.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"project": c.project(p)})
	return nil
}

func (h *Handler) updateProject(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:update_project"); err != nil {
		return err
	}
	var b projectBody
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.Project == nil {
		return badRequest("Invalid input for field 'project': 'project' is a required property.")
	}
	id := c.PathValue("id")
	cur, err := h.svc.GetProject(c.Context(), id)
	if err != nil {
		return err
	}
	in := b.Project
	if in.DomainID != nil && *in.DomainID != cur.DomainID {
		return badRequest("Update of `domain_id` is not allowed.")
	}
	if in.IsDomain != nil && *in.IsDomain {
		return badRequest("Update of `is_domain` is not allowed.")
	}
	p, err := h.svc.UpdateProject(c.Context(), id,
		identity.ProjectUpdate{Name: in.Name, Description: in.Description, Enabled: in.Enabled})
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"project": c.project(p)})
	return nil
}

func (h *Handler) deleteProject(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:delete_project"); err != nil {
		return err
	}
	if err := h.svc.DeleteProject(c.Context(), c.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
