package image

import (
	"context"
	"errors"

	"github.com/glint-image/glint/internal/caller"
)

// AddTag adds one tag to an image (idempotent).
func (s *Service) AddTag(ctx context.Context, p caller.Principal, id, tag string) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "modify_image", img); err != nil {
		return err
	}
	if err := ValidTag(tag); err != nil {
		return err
	}
	if n := len(img.Tags) + 1; n > MaxTags && !containsString(img.Tags, tag) {
		return newError(ErrTooLarge, "The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", n, MaxTags)
	}
	if err := s.store.AddTag(ctx, id, tag, s.now()); err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFoundImage(id)
		}
		return err
	}
	return nil
}

// RemoveTag removes one tag; a tag the image lacks is 404.
func (s *Service) RemoveTag(ctx context.Context, p caller.Principal, id, tag string) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "modify_image", img); err != nil {
		return err
	}
	err = s.store.RemoveTag(ctx, id, tag, s.now())
	if errors.Is(err, ErrNotFound) {
		return newError(ErrNotFound, "Tag %s not found", tag)
	}
	return err
}

// Deactivate hides an active image's data from non-admins; deactivating a
// deactivated image does nothing.
func (s *Service) Deactivate(ctx context.Context, p caller.Principal, id string) error {
	return s.toggle(ctx, p, id, "deactivate", StatusActive, StatusDeactivated)
}

// Reactivate makes a deactivated image's data available again.
func (s *Service) Reactivate(ctx context.Context, p caller.Principal, id string) error {
	return s.toggle(ctx, p, id, "reactivate", StatusDeactivated, StatusActive)
}

func (s *Service) toggle(ctx context.Context, p caller.Principal, id, action string, from, to Status) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, action, img); err != nil {
		return err
	}
	switch img.Status {
	case to:
		return nil
	case from:
	default:
		return newError(ErrForbidden, "Not allowed to %s image in status '%s'", action, img.Status)
	}
	err = s.store.SetStatus(ctx, id, from, to, s.now())
	if errors.Is(err, ErrConflict) {
		return newError(ErrConflict, "Image %s changed status during the request; try again.", id)
	}
	return err
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
