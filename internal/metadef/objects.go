package metadef

import (
	"context"
	"errors"

	"github.com/glint-image/glint/internal/caller"
)

// Objects (glance/api/v2/metadef_objects.py). A namespace the caller may
// not see is "Namespace X not found"; one that does not exist gets the
// database's message, as in Glance's objects controller.

// ListObjects lists a namespace's objects in creation order.
func (s *Service) ListObjects(ctx context.Context, p caller.Principal, ns string) ([]Object, error) {
	n, err := s.namespace(ctx, p, ns, lookupObjects)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_objects", n); err != nil {
		return nil, err
	}
	objs, err := s.store.ListObjects(ctx, ns)
	if err != nil {
		return nil, s.objectsNotFound(err, ns)
	}
	// Glance checks get_metadef_object on each object, with the
	// namespace as target: the answer is the same for all of them.
	if s.authz.Allow(ctx, p, "get_metadef_object", target(p, n)) != nil {
		return []Object{}, nil
	}
	return objs, nil
}

func (s *Service) objectsNotFound(err error, ns string) error {
	if errors.Is(err, ErrNotFound) {
		return missingNamespace(ns)
	}
	return err
}

func objectNotFound(name string) error {
	return newError(ErrNotFound, "Could not find metadata object %s", name)
}

// GetObject returns one object.
func (s *Service) GetObject(ctx context.Context, p caller.Principal, ns, name string) (*Object, error) {
	n, err := s.namespace(ctx, p, ns, lookupObjects)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_metadef_object", n); err != nil {
		return nil, err
	}
	ob, err := s.store.GetObject(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, objectNotFound(name)
	}
	return ob, err
}

// CreateObject adds an object to a namespace and returns it as created.
func (s *Service) CreateObject(ctx context.Context, p caller.Principal, ns string, ob *Object) (*Object, error) {
	n, err := s.namespace(ctx, p, ns, lookupObjects)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_metadef_object", n); err != nil {
		return nil, err
	}
	if err := checkObject(ob); err != nil {
		return nil, invalid("create metadata object", err)
	}
	now := s.now()
	ob.CreatedAt, ob.UpdatedAt = now, &now
	for i := range ob.Properties {
		ob.Properties[i].CreatedAt, ob.Properties[i].UpdatedAt = now, &now
	}
	if err := s.store.CreateObject(ctx, ns, ob); err != nil {
		return nil, s.objectsNotFound(duplicateErr(err, ns), ns)
	}
	return ob, nil
}

// UpdateObject replaces an object's name, description, required list and
// properties; fields the body leaves out become empty. It returns the
// object as the body gave it.
func (s *Service) UpdateObject(ctx context.Context, p caller.Principal, ns, name string, in *Object) (*Object, error) {
	n, err := s.namespace(ctx, p, ns, lookupObjects)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "modify_metadef_object", n); err != nil {
		return nil, err
	}
	old, err := s.store.GetObject(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return nil, objectNotFound(name)
	}
	if err != nil {
		return nil, err
	}
	if err := checkObject(in); err != nil {
		return nil, invalid("update metadata object", err)
	}
	now := s.now()
	in.CreatedAt, in.UpdatedAt = old.CreatedAt, &now
	for i := range in.Properties {
		in.Properties[i].CreatedAt, in.Properties[i].UpdatedAt = now, &now
	}
	if err := s.store.UpdateObject(ctx, ns, name, in); err != nil {
		switch {
		case errors.Is(err, ErrDuplicate):
			return nil, newError(ErrDuplicate, "Invalid update. It would result in a duplicate metadata definition object with the same name=%s in namespace=%s.", name, ns)
		case errors.Is(err, ErrNotFound):
			return nil, objectNotFound(name)
		}
		return nil, err
	}
	return in, nil
}

// DeleteObject removes an object; not from a protected namespace.
func (s *Service) DeleteObject(ctx context.Context, p caller.Principal, ns, name string) error {
	n, err := s.namespace(ctx, p, ns, lookupObjects)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "delete_metadef_object", n); err != nil {
		return err
	}
	if _, err := s.store.GetObject(ctx, ns, name); err != nil {
		if errors.Is(err, ErrNotFound) {
			return objectNotFound(name)
		}
		return err
	}
	if n.Protected {
		return protectedErr(ErrProtected, "object", name)
	}
	err = s.store.DeleteObject(ctx, ns, name)
	if errors.Is(err, ErrNotFound) {
		return objectNotFound(name)
	}
	return protectedErr(err, "object", name)
}
