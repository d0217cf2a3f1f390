package dashboard

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// grant is a token the identity service issued, with what the dashboard
// needs to know about it.
type grant struct {
	Token       string
	Expires     time.Time
	UserID      string
	UserName    string
	Domain      string
	ProjectID   string
	ProjectName string
	Admin       bool
}

// errSignIn is every failed sign-in: the page does not say which part
// was wrong, as Keystone does not.
var errSignIn = errors.New("invalid user name or password")

// passwordGrant signs a user in by password (optionally scoped).
func (h *Handler) passwordGrant(ctx context.Context, user, password, domain string, scope *tokens.Scope) (*grant, error) {
	opts := &tokens.AuthOptions{Username: user, Password: password, DomainName: domain}
	if scope != nil {
		opts.Scope = *scope
	}
	return h.issue(ctx, opts)
}

// rescope trades a token for one scoped to project.
func (h *Handler) rescope(ctx context.Context, token, project string) (*grant, error) {
	return h.issue(ctx, &tokens.AuthOptions{TokenID: token, Scope: tokens.Scope{ProjectID: project}})
}

func (h *Handler) issue(ctx context.Context, opts *tokens.AuthOptions) (*grant, error) {
	res := tokens.Create(ctx, h.identityClient(""), opts)
	tok, err := res.ExtractToken()
	if err != nil {
		if s := statusOf(err); s == 401 || s == 403 || s == 404 || s == 400 {
			return nil, errSignIn
		}
		return nil, err
	}
	g := &grant{Token: tok.ID, Expires: tok.ExpiresAt}
	if u, err := res.ExtractUser(); err == nil && u != nil {
		g.UserID, g.UserName, g.Domain = u.ID, u.Name, u.Domain.Name
	}
	if p, err := res.ExtractProject(); err == nil && p != nil {
		g.ProjectID, g.ProjectName = p.ID, p.Name
	}
	if roles, err := res.ExtractRoles(); err == nil {
		g.Admin = slices.ContainsFunc(roles, func(r tokens.Role) bool { return strings.EqualFold(r.Name, "admin") })
	}
	if g.Token == "" {
		return nil, errors.New("identity service issued no token")
	}
	return g, nil
}

// revoke ends a token; failures are only logged (the cookie is gone).
func (h *Handler) revoke(ctx context.Context, token string) {
	if token == "" {
		return
	}
	if err := tokens.Revoke(ctx, h.identityClient(token), token).Err; err != nil {
		h.log.InfoContext(ctx, "dashboard: revoking a token at sign-out failed", "err", err)
	}
}

// projectRef names a project.
type projectRef struct {
	ID, Name string
}

// maxProjects bounds the projects one page lists.
const maxProjects = 1000

// userProjects are the projects the user may scope to (GET
// /v3/auth/projects), sorted by name.
func (h *Handler) userProjects(ctx context.Context, token string) ([]projectRef, error) {
	return collectProjects(ctx, projects.ListAvailable(h.identityClient(token)))
}

// allProjects lists every project (an admin's view, GET /v3/projects).
func (h *Handler) allProjects(ctx context.Context, token string) ([]projectRef, error) {
	return collectProjects(ctx, projects.List(h.identityClient(token), projects.ListOpts{}))
}

func collectProjects(ctx context.Context, pager pagination.Pager) ([]projectRef, error) {
	var out []projectRef
	err := pager.EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
		list, err := projects.ExtractProjects(p)
		if err != nil {
			return false, err
		}
		for _, pr := range list {
			if pr.IsDomain || !pr.Enabled {
				continue
			}
			out = append(out, projectRef{ID: pr.ID, Name: pr.Name})
		}
		return len(out) < maxProjects, nil
	})
	if len(out) > maxProjects {
		out = out[:maxProjects]
	}
	slices.SortFunc(out, func(a, b projectRef) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// projectNames maps project ids to names for the Owner column; an admin
// sees names, others (who may not list projects) see ids.
func (h *Handler) projectNames(ctx context.Context, s *session) map[string]string {
	names := map[string]string{}
	if s.ProjectID != "" {
		names[s.ProjectID] = s.ProjectName
	}
	if !s.Admin {
		return names
	}
	list, err := h.allProjects(ctx, s.Token)
	if err != nil {
		h.log.InfoContext(ctx, "dashboard: listing projects for owner names failed", "err", err)
		return names
	}
	for _, p := range list {
		names[p.ID] = p.Name
	}
	return names
}
