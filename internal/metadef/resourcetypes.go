package metadef

import (
	"context"
	"errors"
	"slices"

	"github.com/glint-image/glint/internal/caller"
)

// Resource types and their associations with namespaces
// (glance/api/v2/metadef_resource_types.py).

// ListResourceTypes lists every resource type.
func (s *Service) ListResourceTypes(ctx context.Context, p caller.Principal) ([]ResourceType, error) {
	if err := s.authorize(ctx, p, "list_metadef_resource_types", nil); err != nil {
		return nil, err
	}
	return s.store.ListResourceTypes(ctx)
}

// ListAssociations lists the resource types a namespace is associated
// with.
func (s *Service) ListAssociations(ctx context.Context, p caller.Principal, ns string) ([]Association, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "list_metadef_resource_types", n); err != nil {
		return nil, err
	}
	assocs, err := s.store.ListAssociations(ctx, ns)
	if err != nil {
		return nil, s.notFoundAsNamed(err, ns)
	}
	// Each association is checked with get_metadef_resource_type on the
	// namespace: one answer for all.
	if s.authz.Allow(ctx, p, "get_metadef_resource_type", target(p, n)) != nil {
		return []Association{}, nil
	}
	return assocs, nil
}

// CreateAssociation associates a resource type with a namespace,
// creating the resource type when it is new.
func (s *Service) CreateAssociation(ctx context.Context, p caller.Principal, ns string, a *Association) (*Association, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_metadef_resource_type_association", n); err != nil {
		return nil, err
	}
	if err := checkAssociation(a); err != nil {
		return nil, invalid("create metadata resource type association", err)
	}
	now := s.now()
	a.CreatedAt, a.UpdatedAt = now, &now
	if err := s.store.CreateAssociation(ctx, ns, a); err != nil {
		return nil, s.notFoundAsNamed(duplicateErr(err, ns), ns)
	}
	return a, nil
}

// DeleteAssociation removes an association; not from a protected
// namespace. The resource type itself stays.
func (s *Service) DeleteAssociation(ctx context.Context, p caller.Principal, ns, resourceType string) error {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "remove_metadef_resource_type_association", n); err != nil {
		return err
	}
	missing := newError(ErrNotFound, "Failed to find resource type %s to delete", resourceType)
	assocs, err := s.store.ListAssociations(ctx, ns)
	if err != nil {
		return s.notFoundAsNamed(err, ns)
	}
	if !slices.ContainsFunc(assocs, func(a Association) bool { return a.Name == resourceType }) {
		return missing
	}
	if n.Protected {
		return protectedErr(ErrProtected, "resource-type-association", resourceType)
	}
	err = s.store.DeleteAssociation(ctx, ns, resourceType)
	if errors.Is(err, ErrNotFound) {
		return missing
	}
	return protectedErr(err, "resource-type-association", resourceType)
}
