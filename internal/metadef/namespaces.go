package metadef

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/glint-image/glint/internal/caller"
)

// ListRequest is a namespace listing as a client asks for it.
type ListRequest struct {
	// Limit is the page size; nil takes the default, larger values are cut
	// to the maximum (Glance's limit_param_default and api_limit_max).
	Limit  *int
	Marker string
	// Sort is a namespace column (NamespaceSortKeys), "" for created_at.
	Sort string
	Desc bool
	// Visibility filters on public or private when set.
	Visibility string
	// ResourceTypes, when not nil, keeps namespaces associated with any
	// of them.
	ResourceTypes []string
}

// Page is one page of namespaces, each with its associations. Next is
// the marker of the following page, "" on the last one.
type Page struct {
	Namespaces []*Definition
	Next       string
}

// ListNamespaces lists the namespaces the caller may see
// (glance/api/v2/metadef_namespaces.py index).
func (s *Service) ListNamespaces(ctx context.Context, p caller.Principal, r ListRequest) (*Page, error) {
	limit := s.opts.DefaultLimit
	if r.Limit != nil {
		limit = min(*r.Limit, s.opts.MaxLimit)
	}
	if limit < 0 {
		return nil, newError(ErrInvalid, "limit param must be positive")
	}
	if err := s.authorizeAll(ctx, p, nil, "get_metadef_namespaces", "list_metadef_resource_types"); err != nil {
		return nil, err
	}
	sort := r.Sort
	if sort == "" {
		sort = "created_at"
	}
	if !slices.Contains(NamespaceSortKeys, sort) {
		return nil, newError(ErrInvalid, "Sort key supplied is invalid: %s", sort)
	}
	if r.Marker != "" {
		marker, err := s.store.GetNamespace(ctx, r.Marker)
		if errors.Is(err, ErrNotFound) {
			return nil, missingNamespace(r.Marker)
		}
		if err != nil {
			return nil, err
		}
		if !canSee(p, marker) {
			return nil, newError(ErrForbidden, "Forbidding request, metadata definition namespace=%s is not visible.", r.Marker)
		}
	}
	if limit == 0 {
		return &Page{Namespaces: []*Definition{}}, nil
	}
	rows, err := s.store.ListNamespaces(ctx, NamespaceQuery{Caller: scopeOf(p), Visibility: r.Visibility,
		ResourceTypes: r.ResourceTypes, Sort: sort, Desc: r.Desc, Marker: r.Marker, Limit: limit})
	if err != nil {
		return nil, err
	}
	page := &Page{Namespaces: make([]*Definition, 0, len(rows))}
	for _, d := range rows {
		if s.authz.Allow(ctx, p, "get_metadef_namespace", target(p, &d.Namespace)) == nil {
			page.Namespaces = append(page.Namespaces, d)
		}
	}
	// Glance offers a next page whenever this one is full, counting after
	// the per-namespace policy check.
	if n := len(page.Namespaces); n > 0 && n == limit {
		page.Next = page.Namespaces[n-1].Name
	}
	return page, nil
}

// GetNamespace returns a namespace with its contents. With resourceType
// set, property names (of the namespace and its objects) carry that
// resource type's prefix, as they would be set on such a resource.
func (s *Service) GetNamespace(ctx context.Context, p caller.Principal, name, resourceType string) (*Definition, error) {
	ns, err := s.namespace(ctx, p, name, lookupShow)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeAll(ctx, p, ns, "get_metadef_namespace", "list_metadef_resource_types",
		"get_metadef_objects", "get_metadef_properties", "get_metadef_tags"); err != nil {
		return nil, err
	}
	d, err := s.store.GetDefinition(ctx, name)
	if errors.Is(err, ErrNotFound) {
		return nil, missingNamespace(name)
	}
	if err != nil {
		return nil, err
	}
	newestTagsFirst(d.Tags)
	if resourceType != "" {
		applyPrefix(d, resourceType)
	}
	return d, nil
}

// newestTagsFirst puts tags in Glance's default tag order (created_at
// desc, then the later row first) from the Store's insertion order.
func newestTagsFirst(tags []Tag) {
	slices.Reverse(tags)
	slices.SortStableFunc(tags, func(a, b Tag) int { return b.CreatedAt.Compare(a.CreatedAt) })
}

// applyPrefix renames properties as the association with resourceType
// says (metadef_namespaces.py _prefix_property_name).
func applyPrefix(d *Definition, resourceType string) {
	prefix := ""
	for _, a := range d.Associations {
		if a.Name == resourceType {
			prefix = str(a.Prefix)
			break
		}
	}
	if prefix == "" {
		return
	}
	for i := range d.Properties {
		d.Properties[i].Name = prefix + d.Properties[i].Name
	}
	for i := range d.Objects {
		ob := &d.Objects[i]
		for j := range ob.Properties {
			ob.Properties[j].Name = prefix + ob.Properties[j].Name
		}
		for j := range ob.Required {
			ob.Required[j] = prefix + ob.Required[j]
		}
	}
}

// CreateNamespace creates a namespace with the contents d carries, in one
// transaction: nothing is left behind when any part fails. It returns d
// as created.
func (s *Service) CreateNamespace(ctx context.Context, p caller.Principal, d *Definition) (*Definition, error) {
	actions := []string{"add_metadef_namespace"}
	if len(d.Associations) > 0 {
		actions = append(actions, "add_metadef_resource_type_association")
	}
	if len(d.Objects) > 0 {
		actions = append(actions, "add_metadef_object")
	}
	if len(d.Properties) > 0 {
		actions = append(actions, "add_metadef_property")
	}
	if len(d.Tags) > 0 {
		actions = append(actions, "add_metadef_tag")
	}
	if err := s.authorizeAll(ctx, p, nil, actions...); err != nil {
		return nil, err
	}
	if d.Owner == "" {
		d.Owner = p.ProjectID
	}
	if d.Visibility == "" {
		d.Visibility = VisibilityPrivate
	}
	if err := checkDefinition(d); err != nil {
		return nil, invalid("create metadata namespace", err)
	}
	stamp(d, s.now())
	if err := s.store.CreateDefinition(ctx, d); err != nil {
		return nil, duplicateErr(err, d.Name)
	}
	return d, nil
}

// stamp sets every record's times to now.
func stamp(d *Definition, now time.Time) {
	d.CreatedAt, d.UpdatedAt = now, &now
	for i := range d.Associations {
		d.Associations[i].CreatedAt, d.Associations[i].UpdatedAt = now, &now
	}
	for i := range d.Properties {
		d.Properties[i].CreatedAt, d.Properties[i].UpdatedAt = now, &now
	}
	for i := range d.Objects {
		d.Objects[i].CreatedAt, d.Objects[i].UpdatedAt = now, &now
	}
	for i := range d.Tags {
		d.Tags[i].CreatedAt, d.Tags[i].UpdatedAt = now, &now
	}
}

// UpdateNamespace replaces a namespace's fields. As in Glance, fields the
// body leaves out are reset: display name and description to none,
// visibility to private, protected to false, owner to the caller's
// project.
func (s *Service) UpdateNamespace(ctx context.Context, p caller.Principal, name string, in *Namespace) (*Namespace, error) {
	ns, err := s.namespace(ctx, p, name, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "modify_metadef_namespace", ns); err != nil {
		return nil, err
	}
	up := *in
	if up.Visibility == "" {
		up.Visibility = VisibilityPrivate
	}
	if up.Owner == "" {
		up.Owner = p.ProjectID
	}
	if err := checkNamespace(&up); err != nil {
		return nil, invalid("update metadata namespace", err)
	}
	now := s.now()
	up.CreatedAt, up.UpdatedAt = ns.CreatedAt, &now
	if err := s.store.UpdateNamespace(ctx, name, &up); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return nil, newError(ErrDuplicate, "Invalid update. It would result in a duplicate metadata definition namespace with the same name of %s", up.Name)
		}
		if errors.Is(err, ErrNotFound) {
			return nil, namedNotFound(name)
		}
		return nil, err
	}
	return &up, nil
}

// DeleteNamespace deletes a namespace with everything in it, in one
// transaction. A protected namespace cannot be deleted.
func (s *Service) DeleteNamespace(ctx context.Context, p caller.Principal, name string) error {
	ns, err := s.namespace(ctx, p, name, lookupNamed)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "delete_metadef_namespace", ns); err != nil {
		return err
	}
	if ns.Protected {
		return protectedErr(ErrProtected, "namespace", name)
	}
	return s.notFoundAsNamed(protectedErr(s.store.DeleteNamespace(ctx, name), "namespace", name), name)
}

// DeleteContent deletes all objects, properties or tags of a namespace.
// Glance checks the namespace delete rule for all three (and the tags
// rule too for tags), and refuses on a protected namespace.
func (s *Service) DeleteContent(ctx context.Context, p caller.Principal, name string, part Part) error {
	ns, err := s.namespace(ctx, p, name, lookupNamed)
	if err != nil {
		return err
	}
	actions := []string{"delete_metadef_namespace"}
	if part == PartTags {
		actions = append(actions, "delete_metadef_tags")
	}
	if err := s.authorizeAll(ctx, p, ns, actions...); err != nil {
		return err
	}
	if ns.Protected {
		return protectedErr(ErrProtected, "namespace", name)
	}
	return s.notFoundAsNamed(protectedErr(s.store.DeleteContent(ctx, name, part), "namespace", name), name)
}

// notFoundAsNamed words a namespace that vanished meanwhile.
func (s *Service) notFoundAsNamed(err error, name string) error {
	var e *Error
	if errors.Is(err, ErrNotFound) && !errors.As(err, &e) {
		return namedNotFound(name)
	}
	return err
}
