package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
)

// Directory finds projects for the sharing dialog and the Owner column.
// With built-in identity, glint passes its identity service: any signed-in
// user may then resolve a project id or name (as Horizon resolves them
// with its own service credentials), so that sharing with a mistyped
// project is refused instead of leaving a member that can never accept.
// With Keystone it is nil, and lookups use the user's token: they work
// for admins, and a member whose lookups Keystone forbids is told the id
// was not checked.
type Directory interface {
	// Project returns the enabled project with this id, or with this
	// name in the domain; found is false when there is none.
	Project(ctx context.Context, idOrName, domain string) (p ProjectInfo, found bool, err error)
}

// ProjectInfo names a project.
type ProjectInfo struct{ ID, Name string }

// lookup is the result of resolving what the user typed.
type lookup struct {
	Project projectRef
	// Found: identity knows the project. Checked: identity was asked
	// and answered (so !Found && Checked means there is no such project).
	Found, Checked bool
}

// findProject resolves a project id or name: through the Directory when
// glint has one, else through the identity API with the user's token.
func (h *Handler) findProject(ctx context.Context, s *session, typed string) (lookup, error) {
	if h.opts.Directory != nil {
		p, found, err := h.opts.Directory.Project(ctx, typed, s.Domain)
		if err != nil {
			return lookup{}, err
		}
		return lookup{Project: projectRef(p), Found: found, Checked: true}, nil
	}
	c := h.identityClient(s.Token)
	var byID struct {
		Project struct {
			ID, Name string
			Enabled  bool
		} `json:"project"`
	}
	_, err := c.Get(ctx, c.ServiceURL("projects", url.PathEscape(typed)), &byID, &gophercloud.RequestOpts{OkCodes: []int{200}})
	switch {
	case err == nil:
		return lookup{Project: projectRef{ID: byID.Project.ID, Name: byID.Project.Name}, Found: byID.Project.Enabled, Checked: true}, nil
	case statusOf(err) == http.StatusForbidden:
		return lookup{Project: projectRef{ID: typed}}, nil
	case statusOf(err) != http.StatusNotFound:
		return lookup{}, err
	}
	// Not an id: a name, if the user may list projects.
	list, err := collectProjects(ctx, projects.List(c, projects.ListOpts{Name: typed}))
	switch {
	case statusOf(err) == http.StatusForbidden:
		return lookup{Project: projectRef{ID: typed}}, nil
	case err != nil:
		return lookup{}, err
	}
	for _, p := range list {
		if strings.EqualFold(p.Name, typed) {
			return lookup{Project: p, Found: true, Checked: true}, nil
		}
	}
	return lookup{Project: projectRef{ID: typed}, Checked: true}, nil
}

// maxOwnerLookups bounds the projects one page looks up one by one.
const maxOwnerLookups = 200

// ownerNames maps project ids to names where identity allows: an admin
// lists every project; with a Directory anyone sees the names of the
// projects on the page; otherwise only the current project has a name.
func (h *Handler) ownerNames(ctx context.Context, s *session, ids []string) map[string]string {
	if h.opts.Directory == nil || s.Admin {
		return h.projectNames(ctx, s)
	}
	names := map[string]string{}
	if s.ProjectID != "" {
		names[s.ProjectID] = s.ProjectName
	}
	for _, id := range ids {
		if _, ok := names[id]; ok || id == "" || len(names) >= maxOwnerLookups {
			continue
		}
		p, found, err := h.opts.Directory.Project(ctx, id, "")
		if err != nil {
			h.log.InfoContext(ctx, "dashboard: looking up a project name failed", "err", err)
			break
		}
		if found && p.ID == id {
			names[id] = p.Name
		} else {
			names[id] = ""
		}
	}
	return names
}
