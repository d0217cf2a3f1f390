package metadef

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/glint-image/glint/internal/caller"
)

// Namespace properties (glance/api/v2/metadef_properties.py). A namespace
// the caller may not see, or that does not exist, is "Namespace X not
// found".

func propertyNotFound(name string) error {
	return newError(ErrNotFound, "Could not find property %s", name)
}

// ListProperties lists a namespace's properties in creation order.
func (s *Service) ListProperties(ctx context.Context, p caller.Principal, ns string) ([]Property, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_properties", n); err != nil {
		return nil, err
	}
	props, err := s.store.ListProperties(ctx, ns)
	return props, s.notFoundAsNamed(err, ns)
}

// GetProperty returns one property. With resourceType set, name is the
// property's name as set on such a resource, prefix included, and must
// carry that association's prefix.
func (s *Service) GetProperty(ctx context.Context, p caller.Principal, ns, name, resourceType string) (*Property, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_property", n); err != nil {
		return nil, err
	}
	if resourceType != "" {
		if err := s.authorize(ctx, p, "get_metadef_resource_type", n); err != nil {
			return nil, err
		}
		if name, err = s.unprefixed(ctx, ns, name, resourceType); err != nil {
			return nil, err
		}
	}
	prop, err := s.store.GetProperty(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, propertyNotFound(name)
	}
	return prop, err
}

// unprefixed strips the prefix the association of ns with resourceType
// gives property names.
func (s *Service) unprefixed(ctx context.Context, ns, name, resourceType string) (string, error) {
	assocs, err := s.store.ListAssociations(ctx, ns)
	if err != nil {
		return "", s.notFoundAsNamed(err, ns)
	}
	i := slices.IndexFunc(assocs, func(a Association) bool { return a.Name == resourceType })
	if i < 0 {
		types, err := s.store.ListResourceTypes(ctx)
		if err != nil {
			return "", err
		}
		if !slices.ContainsFunc(types, func(t ResourceType) bool { return t.Name == resourceType }) {
			return "", newError(ErrNotFound, "The metadata definition resource-type with name=%s, was not found.", resourceType)
		}
		return "", newError(ErrNotFound, "The metadata definition resource-type association of resource-type=%s to namespace=%s, was not found.", resourceType, ns)
	}
	prefix := assocs[i].Prefix
	if prefix != nil && *prefix != "" && strings.HasPrefix(name, *prefix) {
		return name[len(*prefix):], nil
	}
	shown := "None"
	if prefix != nil {
		shown = *prefix
	}
	return "", newError(ErrNotFound, "Property %s does not start with the expected resource type association prefix of '%s'.", name, shown)
}

// CreateProperty adds a property to a namespace.
func (s *Service) CreateProperty(ctx context.Context, p caller.Principal, ns string, prop *Property) (*Property, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_metadef_property", n); err != nil {
		return nil, err
	}
	if err := checkProperty(prop); err != nil {
		return nil, invalid("create metadata property", err)
	}
	now := s.now()
	prop.CreatedAt, prop.UpdatedAt = now, &now
	if err := s.store.CreateProperty(ctx, ns, prop); err != nil {
		return nil, s.notFoundAsNamed(duplicateErr(err, ns), ns)
	}
	return prop, nil
}

// UpdateProperty replaces a property's name and definition.
func (s *Service) UpdateProperty(ctx context.Context, p caller.Principal, ns, name string, in *Property) (*Property, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "modify_metadef_property", n); err != nil {
		return nil, err
	}
	old, err := s.store.GetProperty(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, propertyNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	if err := checkProperty(in); err != nil {
		return nil, invalid("update metadata property", err)
	}
	now := s.now()
	in.CreatedAt, in.UpdatedAt = old.CreatedAt, &now
	if err := s.store.UpdateProperty(ctx, ns, name, in); err != nil {
		switch {
		case errors.Is(err, ErrDuplicate):
			return nil, newError(ErrDuplicate, "Invalid update. It would result in a duplicate metadata definition property with the same name=%s in namespace=%s.", name, ns)
		case errors.Is(err, ErrNotFound):
			return nil, propertyNotFound(name)
		}
		return nil, err
	}
	return in, nil
}

// DeleteProperty removes a property; not from a protected namespace.
func (s *Service) DeleteProperty(ctx context.Context, p caller.Principal, ns, name string) error {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "remove_metadef_property", n); err != nil {
		return err
	}
	if _, err := s.store.GetProperty(ctx, ns, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return propertyNotFound(name)
		}
		return err
	}
	if n.Protected {
		return protectedErr(ErrProtected, "property", name)
	}
	err = s.store.DeleteProperty(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return propertyNotFound(name)
	}
	return protectedErr(err, "property", name)
}
