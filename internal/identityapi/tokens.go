package identityapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/glint-image/glint/internal/identity"
)

// ref names a record by id or by name.
type ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// authBody is POST /v3/auth/tokens.
type authBody struct {
	Auth *struct {
		Identity *struct {
			Methods  []string `json:"methods"`
			Password *struct {
				User *struct {
					ID       string `json:"id"`
					Name     string `json:"name"`
					Domain   *ref   `json:"domain"`
					Password string `json:"password"`
				} `json:"user"`
			} `json:"password"`
			Token *struct {
				ID string `json:"id"`
			} `json:"token"`
		} `json:"identity"`
		// Scope is an object, or the string "unscoped".
		Scope json.RawMessage `json:"scope"`
	} `json:"auth"`
}

// issueToken is a login: POST /v3/auth/tokens.
func (h *Handler) issueToken(w http.ResponseWriter, c *call) error {
	var body authBody
	if err := h.decode(w, c, &body); err != nil {
		return err
	}
	req, err := parseAuth(&body)
	if err != nil {
		return err
	}
	if req.Source = identity.SourceFrom(c.Context()); req.Source == "" {
		req.Source = identity.SourceOf(c.RemoteAddr)
	}
	t, err := h.svc.Authenticate(c.Context(), req)
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, c, http.StatusCreated, map[string]any{"token": h.renderToken(c, t)})
	return nil
}

func (h *Handler) renderToken(c *call, t *identity.Token) tokenJSON {
	return c.renderToken(t, identity.Catalog(c.base, h.opts.Region, h.opts.KeyManagerPath), !c.URL.Query().Has("nocatalog"))
}

// parseAuth checks the shape of a login, as Keystone's schema does (400),
// and turns it into the service's request. Whether the credentials are
// right is the service's business (401).
func parseAuth(b *authBody) (identity.AuthRequest, error) {
	var req identity.AuthRequest
	if b.Auth == nil || b.Auth.Identity == nil {
		return req, badRequest("Invalid input for field 'identity': 'identity' is a required property.")
	}
	id := b.Auth.Identity
	if len(id.Methods) == 0 {
		return req, badRequest("Invalid input for field 'identity/methods': 'methods' is a required property.")
	}
	req.Methods = id.Methods
	for _, m := range id.Methods {
		switch m {
		case "password":
			if id.Password == nil || id.Password.User == nil {
				return req, badRequest("Expecting to find user in password.")
			}
			u := id.Password.User
			if u.ID == "" && u.Name == "" {
				return req, badRequest("Expecting to find id or name in user.")
			}
			creds := &identity.PasswordCredentials{UserID: u.ID, UserName: u.Name, Password: u.Password}
			if u.ID == "" {
				if u.Domain == nil || (u.Domain.ID == "" && u.Domain.Name == "") {
					return req, badRequest("Expecting to find domain in user.")
				}
				creds.DomainID, creds.DomainName = u.Domain.ID, u.Domain.Name
			}
			req.Password = creds
		case "token":
			if id.Token == nil || id.Token.ID == "" {
				return req, badRequest("Expecting to find id in token.")
			}
			req.Token = id.Token.ID
		}
	}
	var err error
	req.Scope, err = parseScope(b.Auth.Scope)
	return req, err
}

// parseScope reads "scope": {"project": ...} | {"system": {"all": true}} |
// {"domain": ...} | "unscoped".
func parseScope(raw json.RawMessage) (identity.Scope, error) {
	var sc identity.Scope
	if len(raw) == 0 || string(raw) == "null" {
		return sc, nil
	}
	var word string
	if json.Unmarshal(raw, &word) == nil {
		if word != "unscoped" {
			return sc, badRequest("Invalid input for field 'scope': the only string scope is 'unscoped'.")
		}
		sc.Unscoped = true
		return sc, nil
	}
	var obj struct {
		Project *struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Domain *ref   `json:"domain"`
		} `json:"project"`
		Domain *ref `json:"domain"`
		System *struct {
			All bool `json:"all"`
		} `json:"system"`
		Trust json.RawMessage `json:"OS-TRUST:trust"`
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return sc, badRequest("Invalid input for field 'scope': not a scope object.")
	}
	n := 0
	for _, set := range []bool{obj.Project != nil, obj.Domain != nil, obj.System != nil, obj.Trust != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return sc, badRequest("Specify a project, a domain, the system or a trust as scope, not several.")
	}
	switch {
	case obj.Project != nil:
		p := obj.Project
		sc.ProjectID, sc.ProjectName = p.ID, p.Name
		if p.ID == "" {
			if p.Name == "" {
				return sc, badRequest("Expecting to find id or name in project.")
			}
			if p.Domain == nil || (p.Domain.ID == "" && p.Domain.Name == "") {
				return sc, badRequest("Expecting to find domain in project.")
			}
			sc.ProjectDomainID, sc.ProjectDomainName = p.Domain.ID, p.Domain.Name
		}
	case obj.System != nil:
		if !obj.System.All {
			return sc, badRequest("Invalid input for field 'scope/system': only {\"all\": true} is a system scope.")
		}
		sc.System = true
	case obj.Domain != nil:
		sc.Domain = true
	case obj.Trust != nil:
		return sc, fmt.Errorf("%w: trusts are not supported", identity.ErrUnauthorized)
	}
	return sc, nil
}

// subject returns the token named by X-Subject-Token. Keystone answers a
// subject that is not valid (expired, revoked, malformed, forged) with
// 404, keeping 401 for the caller's own X-Auth-Token.
func (h *Handler) subject(c *call, action string) (*identity.Token, error) {
	raw := c.Header.Get("X-Subject-Token")
	if raw == "" {
		return nil, badRequest("Expecting to find X-Subject-Token in header.")
	}
	t, err := h.svc.ValidateToken(c.Context(), raw)
	if errors.Is(err, identity.ErrUnauthorized) {
		return nil, httpErr(http.StatusNotFound, "Failed to validate token")
	}
	if err != nil {
		return nil, err
	}
	// An admin may inspect any token, anyone else only their own.
	if !isAdmin(c.token) && c.token.User.ID != t.User.ID {
		return nil, forbidden(action)
	}
	return t, nil
}

// validateToken is GET /v3/auth/tokens: what a service does to check a
// user's token.
func (h *Handler) validateToken(w http.ResponseWriter, c *call) error {
	t, err := h.subject(c, "identity:validate_token")
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, c, http.StatusOK, map[string]any{"token": h.renderToken(c, t)})
	return nil
}

// checkToken is HEAD /v3/auth/tokens.
func (h *Handler) checkToken(w http.ResponseWriter, c *call) error {
	t, err := h.subject(c, "identity:check_token")
	if err != nil {
		return err
	}
	w.Header().Set("X-Subject-Token", t.ID)
	writeJSON(w, c, http.StatusOK, nil)
	return nil
}

// revokeToken is DELETE /v3/auth/tokens (a logout).
func (h *Handler) revokeToken(w http.ResponseWriter, c *call) error {
	t, err := h.subject(c, "identity:revoke_token")
	if err != nil {
		return err
	}
	if err := h.svc.RevokeToken(c.Context(), t); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// authProjects is GET /v3/auth/projects: what the caller may scope to.
func (h *Handler) authProjects(w http.ResponseWriter, c *call) error {
	ps, err := h.svc.UserProjects(c.Context(), c.token.User.ID, true)
	if err != nil {
		return err
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"projects": c.projects(ps), "links": c.listLinks()})
	return nil
}

// authSystem is GET /v3/auth/system: whether the caller may scope to the
// system.
func (h *Handler) authSystem(w http.ResponseWriter, c *call) error {
	as, err := h.svc.ListAssignments(c.Context(), identity.AssignmentFilter{UserID: c.token.User.ID, SystemOnly: true}, false)
	if err != nil {
		return err
	}
	system := []map[string]bool{}
	if len(as) > 0 {
		system = append(system, map[string]bool{"all": true})
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"system": system, "links": c.listLinks()})
	return nil
}

// authCatalog is GET /v3/auth/catalog: the catalog of a scoped token.
func (h *Handler) authCatalog(w http.ResponseWriter, c *call) error {
	if !c.token.Scoped() {
		return httpErr(http.StatusForbidden, "A project-scoped token is required to produce a service catalog.")
	}
	writeJSON(w, c, http.StatusOK, map[string]any{
		"catalog": catalogJSON(identity.Catalog(c.base, h.opts.Region, h.opts.KeyManagerPath)),
		"links":   c.listLinks(),
	})
	return nil
}

// isAdmin is Keystone's legacy admin_required rule: a scoped token with
// the admin role (system or any project).
func isAdmin(t *identity.Token) bool {
	return t != nil && t.Scoped() && t.HasRole(identity.RoleAdmin)
}
