package identityapi

import (
	"net/http"

	"github.com/glint-image/glint/internal/identity"
)

type userBody struct {
	User *struct {
		Name             *string `json:"name"`
		DomainID         *string `json:"domain_id"`
		Password         *string `json:"password"`
		Enabled          *bool   `json:"enabled"`
		DefaultProjectID *string `json:"default_project_id"`
		Description      *string `json:"description"`
		Email            *string `json:"email"`
	} `json:"user"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (h *Handler) listUsers(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_users"); err != nil {
		return err
	}
	q := c.URL.Query()
	want, filter, err := enabledFilter(c)
	if err != nil {
		return err
	}
	us, err := h.svc.ListUsers(c.Context(), identity.Filter{Name: q.Get("name"), DomainID: q.Get("domain_id")})
	if err != nil {
		return err
	}
	out := []userJSON{}
	for _, u := range us {
		if !filter || u.Enabled == want {
			out = append(out, c.user(u))
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"users": out, "links": c.listLinks()})
	return nil
}

func (h *Handler) createUser(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:create_user"); err != nil {
		return err
	}
	var b userBody
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.User == nil {
		return badRequest("Invalid input for field 'user': 'user' is a required property.")
	}
	in := b.User
	if in.Name == nil {
		return badRequest("Invalid input for field 'name': 'name' is a required property.")
	}
	u, err := h.svc.CreateUser(c.Context(), identity.NewUser{
		Name: *in.Name, DomainID: str(in.DomainID), Password: str(in.Password), Enabled: in.Enabled,
		DefaultProjectID: str(in.DefaultProjectID), Description: str(in.Description), Email: str(in.Email),
	})
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusCreated, map[string]any{"user": c.user(u)})
	return nil
}

// self reports whether the caller is the user the path names.
func self(c *call) bool { return c.token.User.ID == c.PathValue("id") }

// showUser: admins, and users themselves.
func (h *Handler) showUser(w http.ResponseWriter, c *call) error {
	if !self(c) {
		if err := requireAdmin(c, "identity:get_user"); err != nil {
			return err
		}
	}
	u, err := h.svc.GetUser(c.Context(), c.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"user": c.user(u)})
	return nil
}

func (h *Handler) updateUser(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:update_user"); err != nil {
		return err
	}
	var b userBody
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.User == nil {
		return badRequest("Invalid input for field 'user': 'user' is a required property.")
	}
	id := c.PathValue("id")
	cur, err := h.svc.GetUser(c.Context(), id)
	if err != nil {
		return err
	}
	in := b.User
	if in.DomainID != nil && *in.DomainID != cur.DomainID {
		return badRequest("Update of `domain_id` is not allowed.")
	}
	u, err := h.svc.UpdateUser(c.Context(), id, identity.UserUpdate{
		Name: in.Name, Password: in.Password, Enabled: in.Enabled, DefaultProjectID: in.DefaultProjectID,
		Description: in.Description, Email: in.Email,
	})
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"user": c.user(u)})
	return nil
}

func (h *Handler) deleteUser(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:delete_user"); err != nil {
		return err
	}
	if err := h.svc.DeleteUser(c.Context(), c.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userProjects is GET /v3/users/{id}/projects, which openstackclient falls
// back to when a member may not list all projects.
func (h *Handler) userProjects(w http.ResponseWriter, c *call) error {
	if !self(c) {
		if err := requireAdmin(c, "identity:list_user_projects"); err != nil {
			return err
		}
	}
	id := c.PathValue("id")
	if _, err := h.svc.GetUser(c.Context(), id); err != nil {
		return err
	}
	ps, err := h.svc.UserProjects(c.Context(), id, false)
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"projects": c.projects(ps), "links": c.listLinks()})
	return nil
}

// changePassword is POST /v3/users/{id}/password: users changing their own
// password (`openstack user password set`), proving the old one.
func (h *Handler) changePassword(w http.ResponseWriter, c *call) error {
	if !self(c) {
		return forbidden("identity:change_password")
	}
	var b struct {
		User *struct {
			Password         *string `json:"password"`
			OriginalPassword *string `json:"original_password"`
		} `json:"user"`
	}
	if err := h.decode(w, c, &b); err != nil {
		return err
	}
	if b.User == nil || b.User.Password == nil || b.User.OriginalPassword == nil {
		return badRequest("Invalid input for field 'user': 'password' and 'original_password' are required properties.")
	}
	ctx := c.Context()
	if identity.SourceFrom(ctx) == "" {
		ctx = identity.WithSource(ctx, c.RemoteAddr)
	}
	err := h.svc.ChangePassword(ctx, c.PathValue("id"), *b.User.OriginalPassword, *b.User.Password)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
