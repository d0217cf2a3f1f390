package identityapi

import (
	"net/url"

	"github.com/glint-image/glint/internal/identity"
)

// Keystone's JSON shapes. Field order follows the captured answers, which
// keeps the bodies easy to compare by eye.

// timeLayout is how Keystone writes token times.
const timeLayout = "2006-01-02T15:04:05.000000Z"

type selfLink struct {
	Self string `json:"self"`
}

// listLinks is the "links" object of every list; glint does not paginate.
type listLinks struct {
	Next     *string `json:"next"`
	Self     string  `json:"self"`
	Previous *string `json:"previous"`
}

func (c *call) listLinks() listLinks {
	u := url.URL{Path: c.URL.Path, RawQuery: c.URL.RawQuery}
	// The path the handler sees is relative to the mount point.
	return listLinks{Self: c.base + identityPrefix + u.String()}
}

const identityPrefix = identity.PathPrefix

type domainJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	Tags        []string       `json:"tags"`
	Options     map[string]any `json:"options"`
	Links       selfLink       `json:"links"`
}

func (c *call) domain(d *identity.Domain) domainJSON {
	return domainJSON{ID: d.ID, Name: d.Name, Description: d.Description, Enabled: d.Enabled,
		Tags: []string{}, Options: map[string]any{}, Links: selfLink{c.url("/domains/" + d.ID)}}
}

type projectJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	DomainID    string         `json:"domain_id"`
	Description string         `json:"description"`
	Enabled     bool           `json:"enabled"`
	ParentID    string         `json:"parent_id"`
	IsDomain    bool           `json:"is_domain"`
	Tags        []string       `json:"tags"`
	Options     map[string]any `json:"options"`
	Links       selfLink       `json:"links"`
}

func (c *call) project(p *identity.Project) projectJSON {
	// Glint's projects are flat: each one's parent is its domain, as for
	// a top-level project in Keystone.
	return projectJSON{ID: p.ID, Name: p.Name, DomainID: p.DomainID, Description: p.Description,
		Enabled: p.Enabled, ParentID: p.DomainID, Tags: []string{}, Options: map[string]any{},
		Links: selfLink{c.url("/projects/" + p.ID)}}
}

func (c *call) projects(ps []*identity.Project) []projectJSON {
	out := make([]projectJSON, len(ps))
	for i, p := range ps {
		out[i] = c.project(p)
	}
	return out
}

type userJSON struct {
	ID                string         `json:"id"`
	Name              string         `json:"name"`
	DomainID          string         `json:"domain_id"`
	Enabled           bool           `json:"enabled"`
	DefaultProjectID  string         `json:"default_project_id,omitempty"`
	Description       string         `json:"description,omitempty"`
	Email             string         `json:"email,omitempty"`
	PasswordExpiresAt *string        `json:"password_expires_at"`
	Options           map[string]any `json:"options"`
	Links             selfLink       `json:"links"`
}

func (c *call) user(u *identity.User) userJSON {
	return userJSON{ID: u.ID, Name: u.Name, DomainID: u.DomainID, Enabled: u.Enabled,
		DefaultProjectID: u.DefaultProjectID, Description: u.Description, Email: u.Email,
		Options: map[string]any{}, Links: selfLink{c.url("/users/" + u.ID)}}
}

type roleJSON struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	DomainID    *string        `json:"domain_id"`
	Description *string        `json:"description"`
	Options     map[string]any `json:"options"`
	Links       selfLink       `json:"links"`
}

func (c *call) role(r *identity.Role) roleJSON {
	j := roleJSON{ID: r.ID, Name: r.Name, Options: map[string]any{}, Links: selfLink{c.url("/roles/" + r.ID)}}
	if r.Description != "" {
		j.Description = &r.Description
	}
	if r.Immutable() {
		j.Options["immutable"] = true
	}
	return j
}

// Tokens.

type idName struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type tokenUser struct {
	Domain            idName  `json:"domain"`
	ID                string  `json:"id"`
	Name              string  `json:"name"`
	PasswordExpiresAt *string `json:"password_expires_at"`
}

type tokenProject struct {
	Domain idName `json:"domain"`
	ID     string `json:"id"`
	Name   string `json:"name"`
}

type tokenJSON struct {
	Methods   []string         `json:"methods"`
	User      tokenUser        `json:"user"`
	AuditIDs  []string         `json:"audit_ids"`
	ExpiresAt string           `json:"expires_at"`
	IssuedAt  string           `json:"issued_at"`
	Project   *tokenProject    `json:"project,omitempty"`
	IsDomain  *bool            `json:"is_domain,omitempty"`
	Roles     []idName         `json:"roles,omitempty"`
	System    map[string]bool  `json:"system,omitempty"`
	Catalog   []catalogService `json:"catalog,omitempty"`
}

// renderToken renders a token as Keystone does: an unscoped one has neither
// roles nor catalog; withCatalog false (?nocatalog) leaves the catalog out.
func (c *call) renderToken(t *identity.Token, catalog []identity.CatalogService, withCatalog bool) tokenJSON {
	j := tokenJSON{
		Methods:   t.Methods,
		User:      tokenUser{Domain: idName{t.UserDomain.ID, t.UserDomain.Name}, ID: t.User.ID, Name: t.User.Name},
		AuditIDs:  t.AuditIDs,
		ExpiresAt: t.ExpiresAt.UTC().Format(timeLayout),
		IssuedAt:  t.IssuedAt.UTC().Format(timeLayout),
	}
	if t.Project != nil {
		isDomain := false
		j.Project = &tokenProject{Domain: idName{t.ProjectDomain.ID, t.ProjectDomain.Name},
			ID: t.Project.ID, Name: t.Project.Name}
		j.IsDomain = &isDomain
	}
	if t.System {
		j.System = map[string]bool{"all": true}
	}
	if !t.Scoped() {
		return j
	}
	for _, r := range t.Roles {
		j.Roles = append(j.Roles, idName{r.ID, r.Name})
	}
	if withCatalog {
		j.Catalog = catalogJSON(catalog)
	}
	return j
}

type catalogEndpoint struct {
	ID        string `json:"id"`
	Interface string `json:"interface"`
	RegionID  string `json:"region_id"`
	URL       string `json:"url"`
	Region    string `json:"region"`
}

type catalogService struct {
	Endpoints []catalogEndpoint `json:"endpoints"`
	ID        string            `json:"id"`
	Type      string            `json:"type"`
	Name      string            `json:"name"`
}

func catalogJSON(cat []identity.CatalogService) []catalogService {
	out := make([]catalogService, len(cat))
	for i, s := range cat {
		out[i] = catalogService{ID: s.ID, Type: s.Type, Name: s.Name, Endpoints: []catalogEndpoint{}}
		for _, e := range s.Endpoints {
			out[i].Endpoints = append(out[i].Endpoints, catalogEndpoint{ID: e.ID, Interface: e.Interface,
				RegionID: e.Region, URL: e.URL, Region: e.Region})
		}
	}
	return out
}
