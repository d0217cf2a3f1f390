package metadef

import (
	"context"
	"errors"
	"slices"

	"github.com/glint-image/glint/internal/caller"
)

// Tags (glance/api/v2/metadef_tags.py). A namespace the caller may not
// see, or that does not exist, is "Namespace X not found".

func tagNotFound(name string) error {
	return newError(ErrNotFound, "Could not find metadata tag %s", name)
}

// TagRequest is a tag listing as a client asks for it.
type TagRequest struct {
	Limit  *int // nil: all
	Marker string
	Sort   string // "" for created_at
	Desc   bool
}

// ListTags lists a namespace's tags, newest first by default.
func (s *Service) ListTags(ctx context.Context, p caller.Principal, ns string, r TagRequest) ([]Tag, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_tags", n); err != nil {
		return nil, err
	}
	if r.Marker != "" {
		if _, err := s.store.GetTag(ctx, ns, r.Marker); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, tagNotFound(r.Marker)
			}
			return nil, err
		}
	}
	sort := r.Sort
	if sort == "" {
		sort = "created_at"
	}
	if !slices.Contains(TagSortKeys, sort) {
		return nil, newError(ErrInvalid, "Sort key supplied is invalid: %s", sort)
	}
	q := TagQuery{Sort: sort, Desc: r.Desc, Marker: r.Marker}
	if r.Limit != nil {
		if *r.Limit == 0 {
			return []Tag{}, nil // Glance pages with LIMIT 0
		}
		q.Limit = *r.Limit
	}
	tags, err := s.store.ListTags(ctx, ns, q)
	return tags, s.notFoundAsNamed(err, ns)
}

// GetTag returns one tag.
func (s *Service) GetTag(ctx context.Context, p caller.Principal, ns, name string) (*Tag, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_tag", n); err != nil {
		return nil, err
	}
	t, err := s.store.GetTag(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, tagNotFound(name)
	}
	return t, err
}

// CreateTag adds one tag named by the URL.
func (s *Service) CreateTag(ctx context.Context, p caller.Principal, ns, name string) (*Tag, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := CheckTagName(name); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_metadef_tag", n); err != nil {
		return nil, err
	}
	if err := checkTagName(name); err != nil {
		return nil, invalid("create metadata tag", err)
	}
	now := s.now()
	t := &Tag{Name: name, CreatedAt: now, UpdatedAt: &now}
	if err := s.store.CreateTag(ctx, ns, t); err != nil {
		return nil, s.notFoundAsNamed(duplicateErr(err, ns), ns)
	}
	return t, nil
}

// CreateTags adds tags in one transaction, replacing the namespace's
// tags unless add is set (X-Openstack-Append). An empty list changes
// nothing, as in Glance.
func (s *Service) CreateTags(ctx context.Context, p caller.Principal, ns string, tags []Tag, add bool) ([]Tag, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_metadef_tags", n); err != nil {
		return nil, err
	}
	if len(tags) == 0 {
		return tags, nil
	}
	now := s.now()
	for i := range tags {
		if err := checkTagName(tags[i].Name); err != nil {
			return nil, invalid("create metadata tag", err)
		}
		tags[i].CreatedAt, tags[i].UpdatedAt = now, &now
	}
	if err := s.store.CreateTags(ctx, ns, tags, add); err != nil {
		return nil, s.notFoundAsNamed(duplicateErr(err, ns), ns)
	}
	return tags, nil
}

// UpdateTag renames a tag.
func (s *Service) UpdateTag(ctx context.Context, p caller.Principal, ns, name string, in *Tag) (*Tag, error) {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "modify_metadef_tag", n); err != nil {
		return nil, err
	}
	old, err := s.store.GetTag(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, tagNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	if err := checkTagName(in.Name); err != nil {
		return nil, invalid("update metadata tag", err)
	}
	now := s.now()
	up := &Tag{Name: in.Name, CreatedAt: old.CreatedAt, UpdatedAt: &now}
	if err := s.store.UpdateTag(ctx, ns, name, up); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, tagNotFound(name)
		}
		return nil, duplicateErr(err, ns)
	}
	return up, nil
}

// DeleteTag removes a tag; not from a protected namespace.
func (s *Service) DeleteTag(ctx context.Context, p caller.Principal, ns, name string) error {
	n, err := s.namespace(ctx, p, ns, lookupNamed)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "delete_metadef_tag", n); err != nil {
		return err
	}
	if _, err := s.store.GetTag(ctx, ns, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return tagNotFound(name)
		}
		return err
	}
	if n.Protected {
		return protectedErr(ErrProtected, "tag", name)
	}
	err = s.store.DeleteTag(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return tagNotFound(name)
	}
	return protectedErr(err, "tag", name)
}
