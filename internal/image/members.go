package image

import (
	"context"
	"errors"

	"github.com/glint-image/glint/internal/caller"
)

// Sharing follows glance/api/v2/image_members.py: only shared images have
// members; the owner adds and removes them; only the member project itself
// answers a share; a member sees only its own row.

func (s *Service) sharedImage(ctx context.Context, p caller.Principal, imageID string) (*Image, error) {
	img, err := s.visible(ctx, p, imageID, false)
	if err != nil {
		return nil, err
	}
	if img.Visibility != VisibilityShared {
		return nil, newError(ErrForbidden, "Only shared images have members.")
	}
	return img, nil
}

// ListMembers returns the members of a shared image the caller may see.
func (s *Service) ListMembers(ctx context.Context, p caller.Principal, imageID string) ([]*Member, error) {
	img, err := s.sharedImage(ctx, p, imageID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "get_members", img); err != nil {
		return nil, err
	}
	members, err := s.store.ListMembers(ctx, imageID)
	if err != nil {
		return nil, err
	}
	if p.IsAdmin() || img.OwnedBy(p.ProjectID) {
		return members, nil
	}
	own := []*Member{}
	for _, m := range members {
		if m.MemberID == p.ProjectID {
			own = append(own, m)
		}
	}
	return own, nil
}

// AddMember shares an image with a project; the member starts pending.
func (s *Service) AddMember(ctx context.Context, p caller.Principal, imageID, memberID string) (*Member, error) {
	img, err := s.sharedImage(ctx, p, imageID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_member", img); err != nil {
		return nil, err
	}
	if memberID == "" || len([]rune(memberID)) > MaxStringLength {
		return nil, newError(ErrInvalid, "Member ID must be between 1 and 255 characters.")
	}
	existing, err := s.store.ListMembers(ctx, imageID)
	if err != nil {
		return nil, err
	}
	if n := len(existing) + 1; n > MaxMembers {
		return nil, newError(ErrTooLarge, "The limit has been exceeded on the number of allowed image members for this image. Attempted: %d, Maximum: %d", n, MaxMembers)
	}
	now := s.now()
	m := &Member{ImageID: imageID, MemberID: memberID, Status: MemberPending, CreatedAt: now, UpdatedAt: now}
	if err := s.store.AddMember(ctx, m); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return nil, newError(ErrDuplicate, "Member %s is duplicated for image %s", memberID, imageID)
		}
		return nil, err
	}
	return m, nil
}

// GetMember shows one membership to the owner, an admin or the member.
func (s *Service) GetMember(ctx context.Context, p caller.Principal, imageID, memberID string) (*Member, error) {
	img, err := s.visible(ctx, p, imageID, false)
	if err != nil {
		return nil, err
	}
	notFound := newError(ErrNotFound, "Member %s not found for image %s", memberID, imageID)
	if img.Visibility != VisibilityShared {
		return nil, notFound
	}
	if !p.IsAdmin() && !img.OwnedBy(p.ProjectID) && p.ProjectID != memberID {
		return nil, notFound
	}
	// Glance's show turns every refusal into 404 so as not to reveal
	// memberships (image_members.py show).
	if err := s.authorize(ctx, p, "get_member", img); err != nil {
		if errors.Is(err, ErrForbidden) {
			return nil, notFound
		}
		return nil, err
	}
	m, err := s.store.GetMember(ctx, imageID, memberID)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound
	}
	return m, err
}

// UpdateMember records a member project's answer to a share.
func (s *Service) UpdateMember(ctx context.Context, p caller.Principal, imageID, memberID string, status MemberStatus) (*Member, error) {
	img, err := s.sharedImage(ctx, p, imageID)
	if err != nil {
		return nil, err
	}
	if !status.Valid() {
		return nil, newError(ErrInvalid, "Provided object does not match schema 'member': '%s' is not one of ['pending', 'accepted', 'rejected']", status)
	}
	// Under the legacy defaults the rule set also refuses the owner here,
	// before the member is looked up, as Glance's hard-coded check does.
	if err := s.authorize(ctx, p, "modify_member", img); err != nil {
		return nil, err
	}
	notFound := newError(ErrNotFound, "Member %s not found for image %s", memberID, imageID)
	// A member project finds only its own row (Glance's member repository
	// filters so), whatever the rules say about answering.
	if !p.IsAdmin() && !img.OwnedBy(p.ProjectID) && p.ProjectID != memberID {
		return nil, notFound
	}
	m, err := s.store.GetMember(ctx, imageID, memberID)
	if errors.Is(err, ErrNotFound) {
		return nil, notFound
	}
	if err != nil {
		return nil, err
	}
	m.Status = status
	m.UpdatedAt = s.now()
	if err := s.store.UpdateMember(ctx, m); err != nil {
		return nil, err
	}
	return m, nil
}

// DeleteMember stops sharing an image with a project.
func (s *Service) DeleteMember(ctx context.Context, p caller.Principal, imageID, memberID string) error {
	img, err := s.sharedImage(ctx, p, imageID)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "delete_member", img); err != nil {
		return err
	}
	err = s.store.DeleteMember(ctx, imageID, memberID)
	if errors.Is(err, ErrNotFound) {
		return newError(ErrNotFound, "Member %s not found for image %s", memberID, imageID)
	}
	return err
}
