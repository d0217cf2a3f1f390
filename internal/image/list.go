package image

import (
	"context"
	"errors"
	"slices"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/policy"
)

// Listing limits (limit_param_default, api_limit_max).
const (
	DefaultLimit = 25
	MaxLimit     = 1000
)

// Page is one page of a listing. More is set when the page is full, so a
// client should ask for the next one (Glance's "next" link).
type Page struct {
	Images []*Image
	More   bool
}

// List returns one page of the images the caller may see. q.Caller is
// filled in here from p; the rest comes from the request, with q.Limit
// already defaulted (0 asks for an empty page).
func (s *Service) List(ctx context.Context, p caller.Principal, q ListQuery) (*Page, error) {
	// Glance's target for a list is the caller's own project
	// (ImageAPIPolicy with no image), so project_id checks compare the
	// caller with itself.
	if err := s.allow(ctx, p, "get_images", policy.Target{Owner: p.ProjectID, Visibility: string(VisibilityPrivate)}); err != nil {
		return nil, err
	}
	if err := normalizeList(&q); err != nil {
		return nil, err
	}
	q.Caller = Scope{Project: p.ProjectID, Admin: p.IsAdmin()}
	if q.Marker != "" {
		if _, err := s.visible(ctx, p, q.Marker, false); err != nil {
			return nil, newError(ErrInvalid, "No image found with ID %s", q.Marker)
		}
	}
	images, err := s.store.ListImages(ctx, q)
	if errors.Is(err, ErrNotFound) && q.Marker != "" {
		return nil, newError(ErrInvalid, "No image found with ID %s", q.Marker)
	}
	if err != nil {
		return nil, err
	}
	// More follows the rows the store returned, as Glance's next link
	// follows the database page, so a page short of rows the rule hid
	// still leads on.
	more := q.Limit > 0 && len(images) == q.Limit
	if images, err = s.gettable(ctx, p, images); err != nil {
		return nil, err
	}
	return &Page{Images: images, More: more}, nil
}

// gettable keeps the images the get_image rule lets p see, as Glance
// re-checks every listed row (glance/api/v2/images.py index).
func (s *Service) gettable(ctx context.Context, p caller.Principal, images []*Image) ([]*Image, error) {
	if allowed, settled := s.authz.Settle(p, "get_image"); settled {
		if allowed {
			return images, nil
		}
		return images[:0], nil
	}
	kept := images[:0]
	for _, img := range images {
		err := s.authorize(ctx, p, "get_image", img)
		switch {
		case err == nil:
			kept = append(kept, img)
		case !errors.Is(err, ErrForbidden):
			return nil, err
		}
	}
	return kept, nil
}

// normalizeList checks the query and applies Glance's defaults.
func normalizeList(q *ListQuery) error {
	switch {
	case q.Limit < 0:
		return newError(ErrInvalid, "limit param must be positive")
	case q.Limit > MaxLimit:
		q.Limit = MaxLimit
	}
	switch q.Visibility {
	case "", "all", string(VisibilityPublic), string(VisibilityPrivate), string(VisibilityShared), string(VisibilityCommunity):
	default:
		return newError(ErrInvalid, "Invalid visibility value: %s", q.Visibility)
	}
	switch q.MemberStatus {
	case "":
		q.MemberStatus = string(MemberAccepted)
	case "all", string(MemberAccepted), string(MemberPending), string(MemberRejected):
	default:
		return newError(ErrInvalid, "Invalid status value: %s", q.MemberStatus)
	}
	if q.Hidden == nil {
		hidden := false
		q.Hidden = &hidden
	}
	for _, k := range q.Sort {
		if !slices.Contains(SortKeys, k.Key) {
			return InvalidSortKey(k.Key)
		}
	}
	for _, f := range q.Filters {
		if !slices.Contains(FilterFields, f.Field) {
			return newError(ErrInvalid, "Invalid filter: %s", f.Field)
		}
		if (f.Op == "prefix" || f.Op == "contains") && f.Field != "name" {
			return newError(ErrInvalid, "Invalid filter: only names filter by %s, not %s", f.Op, f.Field)
		}
	}
	return nil
}

// MaxCount bounds Count: a listing's total is read up to this many images.
const MaxCount = 1000

// Count returns how many images List would show the caller for q over
// all its pages, reading at most MaxCount+1 of them; capped reports that
// there are more than MaxCount (n is then MaxCount). Under a get_image
// rule that hides some listed images, the count includes them.
func (s *Service) Count(ctx context.Context, p caller.Principal, q ListQuery) (n int, capped bool, err error) {
	if err := s.allow(ctx, p, "get_images", policy.Target{Owner: p.ProjectID, Visibility: string(VisibilityPrivate)}); err != nil {
		return 0, false, err
	}
	q.Limit = 0
	if err := normalizeList(&q); err != nil {
		return 0, false, err
	}
	q.Caller = Scope{Project: p.ProjectID, Admin: p.IsAdmin()}
	q.Marker, q.Limit = "", MaxCount+1
	n, err = s.store.CountImages(ctx, q, MaxCount)
	if err != nil {
		return 0, false, err
	}
	if n > MaxCount {
		return MaxCount, true, nil
	}
	return n, false, nil
}

// InvalidSortKey words the refusal of a sort key as Glance does.
func InvalidSortKey(key string) error {
	return newError(ErrInvalid, "Invalid sort key: %s. It must be one of the following: %s.", key, joinComma(SortKeys))
}

func joinComma(list []string) string {
	out := ""
	for i, s := range list {
		if i > 0 {
			out += ", "
		}
		out += s
	}
	return out
}
