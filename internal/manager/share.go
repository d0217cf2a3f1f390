package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/domains"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"

	"github.com/glint-image/glint/internal/imageclient"
)

// Share mode (--share-image): the tool's other job. Instead of
// reconciling, it adds an image's membership for a project, or for every
// project of a domain, and accepts it on the project's behalf (which
// needs an admin), or removes it.

// ShareOptions are the --share-* flags.
type ShareOptions struct {
	Image  string // name or id
	Action string // add or del
	Domain string // the project's domain (type project)
	Target string // project name (type project) or domain name (type domain)
	Type   string // project or domain
	DryRun bool
}

// ShareResult is what happened for one project.
type ShareResult struct {
	Image     string `json:"image"`
	ImageID   string `json:"image_id"`
	Project   string `json:"project"`
	ProjectID string `json:"project_id"`
	Action    string `json:"action"` // add, accept, del, none
	Outcome   string `json:"outcome"`
	Error     string `json:"error,omitempty"`
}

var shareUUID = lazy(`^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$`)

// Share runs share mode.
func Share(ctx context.Context, c *Client, identity *gophercloud.ServiceClient, o ShareOptions) ([]ShareResult, error) {
	if o.Action != "add" && o.Action != "del" {
		return nil, fmt.Errorf("--share-action must be add or del, not %q", o.Action)
	}
	if o.Type != "project" && o.Type != "domain" {
		return nil, fmt.Errorf("--share-type must be project or domain, not %q", o.Type)
	}
	if o.Target == "" {
		return nil, errors.New("--share-image needs --share-target")
	}
	if identity == nil {
		return nil, errors.New("share mode needs the identity service (these credentials have none)")
	}
	img, err := c.find(ctx, o.Image)
	if err != nil {
		return nil, err
	}
	var targets []projects.Project
	if o.Type == "project" {
		dom, err := findDomain(ctx, identity, o.Domain)
		if err != nil {
			return nil, err
		}
		p, err := listProjects(ctx, identity, projects.ListOpts{Name: o.Target, DomainID: dom.ID})
		if err != nil {
			return nil, err
		}
		if len(p) != 1 {
			return nil, fmt.Errorf("no project %q in domain %q", o.Target, o.Domain)
		}
		targets = p
	} else {
		dom, err := findDomain(ctx, identity, o.Target)
		if err != nil {
			return nil, err
		}
		if targets, err = listProjects(ctx, identity, projects.ListOpts{DomainID: dom.ID}); err != nil {
			return nil, err
		}
	}
	var out []ShareResult
	for _, p := range targets {
		out = append(out, c.shareOne(ctx, img, p, o)...)
	}
	return out, nil
}

func (c *Client) shareOne(ctx context.Context, img record, p projects.Project, o ShareOptions) []ShareResult {
	ctx, cancel := bounded(ctx)
	defer cancel()
	base := ShareResult{Image: img.Name, ImageID: img.ID, Project: p.Name, ProjectID: p.ID}
	res := func(action string, err error) ShareResult {
		r := base
		r.Action, r.Outcome = action, "done"
		switch {
		case err != nil:
			r.Outcome, r.Error = "failed", err.Error()
		case o.DryRun:
			r.Outcome = "planned"
		}
		return r
	}
	status, err := c.memberStatus(ctx, img.ID, p.ID)
	if err != nil {
		return []ShareResult{res("find", err)}
	}
	if o.Action == "del" {
		if status == "" {
			return []ShareResult{res("none", nil)}
		}
		if o.DryRun {
			return []ShareResult{res("del", nil)}
		}
		_, err := c.image.Delete(ctx, c.image.ServiceURL("images", img.ID, "members", p.ID), &gophercloud.RequestOpts{OkCodes: []int{204}})
		return []ShareResult{res("del", imageclient.Describe(err))}
	}
	var out []ShareResult
	if status == "" {
		var err error
		if !o.DryRun {
			_, err = c.image.Post(ctx, c.image.ServiceURL("images", img.ID, "members"), map[string]any{"member": p.ID}, nil,
				&gophercloud.RequestOpts{OkCodes: []int{200}})
			err = imageclient.Describe(err)
		}
		out = append(out, res("add", err))
		if err != nil {
			return out
		}
	}
	if status != "accepted" {
		var err error
		if !o.DryRun {
			_, err = c.image.Put(ctx, c.image.ServiceURL("images", img.ID, "members", p.ID), map[string]any{"status": "accepted"},
				nil, &gophercloud.RequestOpts{OkCodes: []int{200}})
			err = imageclient.Describe(err)
		}
		out = append(out, res("accept", err))
	}
	if len(out) == 0 {
		out = append(out, res("none", nil))
	}
	return out
}

// memberStatus is a project's membership status of an image, "" for none.
func (c *Client) memberStatus(ctx context.Context, imageID, projectID string) (string, error) {
	var m struct {
		Status string `json:"status"`
	}
	err := c.get(ctx, c.image.ServiceURL("images", imageID, "members", projectID), &m)
	if imageclient.StatusOf(err) == http.StatusNotFound {
		return "", nil
	}
	return m.Status, err
}

// find resolves an image by id or by exact name.
func (c *Client) find(ctx context.Context, nameOrID string) (record, error) {
	if shareUUID.MatchString(nameOrID) {
		rec, err := c.Get(ctx, nameOrID)
		if imageclient.StatusOf(err) != http.StatusNotFound {
			return rec, err
		}
	}
	body, err := imageclient.List(ctx, c.image, "?name="+url.QueryEscape(nameOrID))
	if err != nil {
		return record{}, err
	}
	switch len(body.Images) {
	case 0:
		return record{}, fmt.Errorf("no image %q", nameOrID)
	case 1:
		return decodeImage(body.Images[0]), nil
	}
	return record{}, fmt.Errorf("%d images are called %q: give its id", len(body.Images), nameOrID)
}

func findDomain(ctx context.Context, identity *gophercloud.ServiceClient, nameOrID string) (*domains.Domain, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	if d, err := domains.Get(ctx, identity, nameOrID).Extract(); err == nil {
		return d, nil
	}
	pages, err := domains.List(identity, domains.ListOpts{Name: nameOrID}).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("looking up domain %q: %w", nameOrID, imageclient.Describe(err))
	}
	found, err := domains.ExtractDomains(pages)
	if err != nil || len(found) != 1 {
		return nil, fmt.Errorf("no domain %q", nameOrID)
	}
	return &found[0], nil
}

func listProjects(ctx context.Context, identity *gophercloud.ServiceClient, opts projects.ListOpts) ([]projects.Project, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	pages, err := projects.List(identity, opts).AllPages(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing projects: %w", imageclient.Describe(err))
	}
	return projects.ExtractProjects(pages)
}
