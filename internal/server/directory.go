package server

import (
	"context"
	"errors"
	"strings"

	"github.com/glint-image/glint/internal/dashboard"
	"github.com/glint-image/glint/internal/identity"
)

// projectDirectory lets the dashboard resolve project ids and names
// against the built-in identity (dashboard.Directory).
type projectDirectory struct{ svc *identity.Service }

func (d projectDirectory) Project(ctx context.Context, idOrName, domain string) (dashboard.ProjectInfo, bool, error) {
	p, err := d.svc.GetProject(ctx, idOrName)
	switch {
	case err == nil:
		return dashboard.ProjectInfo{ID: p.ID, Name: p.Name}, p.Enabled, nil
	case !errors.Is(err, identity.ErrNotFound):
		return dashboard.ProjectInfo{}, false, err
	}
	list, err := d.svc.ListProjects(ctx, identity.Filter{Name: idOrName})
	if err != nil {
		return dashboard.ProjectInfo{}, false, err
	}
	// Names are unique within a domain: with several, the one in the
	// user's domain.
	var found []*identity.Project
	for _, p := range list {
		if p.Enabled {
			found = append(found, p)
		}
	}
	if len(found) > 1 && domain != "" {
		if ds, err := d.svc.ListDomains(ctx, identity.Filter{Name: domain}); err == nil && len(ds) == 1 {
			for _, p := range found {
				if p.DomainID == ds[0].ID {
					found = []*identity.Project{p}
					break
				}
			}
		}
	}
	if len(found) != 1 || !strings.EqualFold(found[0].Name, idOrName) {
		return dashboard.ProjectInfo{}, false, nil
	}
	return dashboard.ProjectInfo{ID: found[0].ID, Name: found[0].Name}, true, nil
}
