package image

import (
	"context"
	"errors"
	"maps"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/glint-image/glint/internal/caller"
)

// Change is one decoded JSON-patch operation on an image attribute. The API
// layer parses both patch dialects into Changes; the rules about what may
// change live here.
type Change struct {
	Op   string // "add", "replace" or "remove"
	Attr string // the decoded single-segment path, e.g. "name" or "os_distro"
	// Value is the decoded JSON value (nil for remove).
	Value any
	// Strict is set for the legacy v2.0 dialect, where add of an existing
	// attribute is a conflict instead of a replace.
	Strict bool
}

// CheckChange applies the checks that need no image: read-only and
// reserved names. The API calls it while parsing so a bad document is
// refused before anything is loaded.
func CheckChange(c Change) error {
	return checkWritable(c.Attr)
}

// maxSaveAttempts bounds the retries when another writer (a concurrent
// PATCH on any node, an upload finishing) changes the image between our
// read and our save. An update loses a round only to a writer that
// committed in it, so it gives up only under more than this many
// concurrent writers of the same image.
const maxSaveAttempts = 32

// Update applies changes to an image as one unit and returns the result.
// The patches of one image take turns on this node; a save that loses to
// another node's writer is re-read, re-applied and saved again.
func (s *Service) Update(ctx context.Context, p caller.Principal, id string, changes []Change) (*Image, error) {
	unlock := s.updates.lock(id)
	defer unlock()
	// Changes of /locations write data locations, not attributes: each
	// is applied on its own, in order, before the attribute changes.
	rest := changes[:0:0]
	for _, c := range changes {
		if !isLocationChange(c) {
			rest = append(rest, c)
			continue
		}
		if err := s.changeLocations(ctx, p, id, c); err != nil {
			return nil, err
		}
	}
	if len(rest) == 0 && len(changes) > 0 {
		return s.visible(ctx, p, id, false)
	}
	changes = rest
	for attempt := 1; ; attempt++ {
		img, err := s.visible(ctx, p, id, false)
		if err != nil {
			return nil, err
		}
		if err := s.authorize(ctx, p, "modify_image", img); err != nil {
			return nil, err
		}
		before := *img
		before.Properties = maps.Clone(img.Properties)
		if err := applyChanges(p, img, changes); err != nil {
			return nil, err
		}
		for _, c := range changes {
			if v, ok := c.Value.(string); ok && c.Attr == "visibility" {
				if err := s.authorizeVisibility(ctx, p, &before, Visibility(v)); err != nil {
					return nil, err
				}
			}
		}
		if err := checkQuotas(img); err != nil {
			return nil, err
		}
		// updated_at is the version the save is conditional on, so the new
		// one must differ from the old even within one clock tick.
		img.UpdatedAt = s.now().Truncate(time.Microsecond)
		if !img.UpdatedAt.After(before.UpdatedAt) {
			img.UpdatedAt = before.UpdatedAt.Add(time.Microsecond)
		}
		err = s.store.SaveImage(ctx, img, before.Status, before.UpdatedAt)
		if errors.Is(err, ErrConflict) && attempt < maxSaveAttempts {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		}
		if errors.Is(err, ErrNotFound) {
			return nil, notFoundImage(id)
		}
		if err != nil {
			return nil, err
		}
		return img, nil
	}
}

// updateLocks serialise the updates of one image within this process.
// Without them, many concurrent patches of one image lose their
// conditional saves to each other round after round, and some ran out of
// attempts (409) under sustained load. An entry lives while someone holds
// or waits for it.
type updateLocks struct {
	mu sync.Mutex
	m  map[string]*updateLock
}

type updateLock struct {
	sync.Mutex
	users int
}

func (l *updateLocks) lock(id string) (unlock func()) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*updateLock{}
	}
	e := l.m[id]
	if e == nil {
		e = &updateLock{}
		l.m[id] = e
	}
	e.users++
	l.mu.Unlock()
	e.Lock()
	return func() {
		e.Unlock()
		l.mu.Lock()
		if e.users--; e.users == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
}

// backoff waits a random time that grows with the attempt, so writers
// that collided spread out instead of colliding again.
func backoff(ctx context.Context, attempt int) error {
	t := time.NewTimer(rand.N(time.Duration(min(attempt, 8)) * time.Millisecond))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// applyChanges follows glance/api/v2/images.py _do_add/_do_replace/_do_remove.
func applyChanges(p caller.Principal, img *Image, changes []Change) error {
	for _, c := range changes {
		if err := checkWritable(c.Attr); err != nil {
			return err
		}
		if err := applyChange(p, img, c); err != nil {
			return err
		}
	}
	return nil
}

func applyChange(p caller.Principal, img *Image, c Change) error {
	name := c.Attr
	_, isProp := img.Properties[name]
	isCore := coreAttrs[name]
	switch {
	case name == "id":
		return newError(ErrForbidden, "Attribute 'id' is read-only.")
	case name == "locations":
		return newError(ErrForbidden, "It's not allowed to update locations if locations are invisible.")
	case signatureProps[name] && signatureLocked(img) && ((c.Op == "remove" && isProp) || (c.Op != "remove" && img.Properties[name] != c.Value)):
		return newError(ErrForbidden, "Property %s cannot be changed on an image in status %s: its data is verified against it.", name, img.Status)
	case c.Op == "remove" && isCore:
		return newDetail(ErrForbidden, "Property %s may not be removed.", name)
	case c.Op == "remove" && !isProp:
		return newDetail(ErrConflict, "Property %s does not exist.", name)
	case c.Op == "remove":
		delete(img.Properties, name)
		return nil
	case c.Op == "replace" && !isCore && !isProp:
		return newDetail(ErrConflict, "Property %s does not exist.", name)
	case c.Op == "add" && c.Strict && (isCore || isProp):
		return newDetail(ErrConflict, "Property %s already present.", name)
	case name == "owner" && !p.IsAdmin():
		return newDetail(ErrForbidden, "Owner can't be updated by non admin.")
	case (name == "disk_format" || name == "container_format") && img.Status != StatusQueued:
		if formatChanged(img, name, c.Value) {
			return newError(ErrForbidden, "Attribute %s can be only replaced for a queued image.", name)
		}
	}
	return setAttr(img, name, c.Value)
}

func formatChanged(img *Image, name string, value any) bool {
	cur := img.DiskFormat
	if name == "container_format" {
		cur = img.ContainerFormat
	}
	s, isString := value.(string)
	if cur == nil || !isString {
		return !(cur == nil && value == nil)
	}
	return *cur != s
}
