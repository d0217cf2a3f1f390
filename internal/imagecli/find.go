package imagecli

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/imageclient"
)

// record is an image, member or store exactly as the server sent it, so
// that output shows every field with its JSON type.
type record = map[string]any

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// findImage resolves an image named by id or by name, as openstacksdk's
// find_image does: an id is fetched directly; a name must match exactly
// one image the caller can list.
func findImage(ctx context.Context, c *gophercloud.ServiceClient, nameOrID string) (record, error) {
	if uuidPattern.MatchString(nameOrID) {
		rec, err := getImage(ctx, c, nameOrID)
		if err == nil || !imageclient.IsStatus(err, http.StatusNotFound) {
			return rec, err
		}
	}
	matches, err := imagesNamed(ctx, c, nameOrID, images.ListOpts{})
	if err == nil && len(matches) == 0 {
		// Community images and shares not yet accepted are not in the
		// default list, but a caller may name them (to --accept a share).
		matches, err = imagesNamed(ctx, c, nameOrID, images.ListOpts{Visibility: "all", MemberStatus: "all"})
	}
	if err != nil {
		return nil, err
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("No Image found for %s", imageclient.EscapeText(nameOrID))
	case 1:
		return matches[0], nil
	}
	ids := make([]string, len(matches))
	for i, m := range matches {
		ids[i] = str(m["id"])
	}
	return nil, fmt.Errorf("More than one Image exists with the name '%s': %s; name one by its ID",
		imageclient.EscapeText(nameOrID), imageclient.EscapeText(strings.Join(ids, ", ")))
}

// imagesNamed lists the images whose name is exactly name.
func imagesNamed(ctx context.Context, c *gophercloud.ServiceClient, name string, opts images.ListOpts) ([]record, error) {
	opts.Name = name
	if strings.HasPrefix(name, "in:") && !strings.Contains(name, `"`) {
		// Glance reads "in:a,b" as a list of names; quoting keeps it one.
		opts.Name = `in:"` + name + `"`
	}
	all, err := listImages(ctx, c, opts, false)
	var out []record
	for _, rec := range all {
		if rec["name"] == name {
			out = append(out, rec)
		}
	}
	return out, err
}

func getImage(ctx context.Context, c *gophercloud.ServiceClient, id string) (record, error) {
	img, err := imageclient.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	return img.Raw, nil
}

// listImages fetches the images matching opts, following the "next"
// links unless onePage is set (--limit asks for one page).
func listImages(ctx context.Context, c *gophercloud.ServiceClient, opts images.ListOpts, onePage bool) ([]record, error) {
	query, err := opts.ToImageListQuery()
	if err != nil {
		return nil, err
	}
	var out []record
	err = imageclient.Each(ctx, c, query, func(p *imageclient.Page) (bool, error) {
		for _, img := range p.Images {
			out = append(out, img.Raw)
		}
		return !onePage, nil
	})
	return out, err
}

// findProject resolves a project name or id to an id, as openstackclient
// does. A caller who may not look projects up (most non-admins) can only
// name projects by id, and the value is passed on as given.
func (s *session) findProject(ctx context.Context, nameOrID, domain string) (string, error) {
	if s.identity == nil {
		return nameOrID, nil
	}
	if p, err := projects.Get(ctx, s.identity, nameOrID).Extract(); err == nil {
		return p.ID, nil
	}
	opts := projects.ListOpts{Name: nameOrID}
	if domain != "" {
		opts.DomainID = s.findDomain(ctx, domain)
	}
	pages, err := projects.List(s.identity, opts).AllPages(ctx)
	if err != nil {
		return nameOrID, nil
	}
	found, err := projects.ExtractProjects(pages)
	if err != nil {
		return nameOrID, nil
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("No project with a name or ID of '%s' exists.", imageclient.EscapeText(nameOrID))
	case 1:
		return found[0].ID, nil
	}
	return "", fmt.Errorf("More than one project exists with the name '%s'; give --project-domain or the project ID",
		imageclient.EscapeText(nameOrID))
}

func (s *session) findDomain(ctx context.Context, nameOrID string) string {
	if d, err := domains.Get(ctx, s.identity, nameOrID).Extract(); err == nil {
		return d.ID
	}
	pages, err := domains.List(s.identity, domains.ListOpts{Name: nameOrID}).AllPages(ctx)
	if err != nil {
		return nameOrID
	}
	if found, err := domains.ExtractDomains(pages); err == nil && len(found) == 1 {
		return found[0].ID
	}
	return nameOrID
}

// str is a record field as text; absent fields are "".
func str(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	if v == nil {
		return ""
	}
	return pyStr(v)
}
