package image

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/imagecache"
	"github.com/glint-image/glint/internal/policy"
)

// Authorizer is the policy check the service calls at the top of each
// operation (implemented by internal/policy).
type Authorizer interface {
	Allow(ctx context.Context, p caller.Principal, action string, t policy.Target) error
	// Settle tells whether the rule of action decides for p alone,
	// whatever the target, and how; listings use it to skip per-row
	// checks that cannot change the answer.
	Settle(p caller.Principal, action string) (allowed, settled bool)
}

// Options tune the service; zero values take Glance's defaults.
type Options struct {
	// SizeCap is the largest image accepted, in bytes (image_size_cap).
	SizeCap int64
	// Now is the clock; tests inject one.
	Now func() time.Time
	// StrandedAfter is how long an upload's heartbeat may be silent
	// before Recover takes it for dead. Zero means a single node: every
	// saving image found by Recover is stranded (see Recover).
	StrandedAfter time.Duration
	// DefaultLimits are the quotas of projects without overrides, by
	// quota name; a name left out is unlimited.
	DefaultLimits map[string]int64
	// Formats tunes which image data the format inspector lets through.
	Formats diskformat.Policy
	// Import configures the interoperable import API (off when unset).
	Import ImportOptions
	// ShowMultipleLocations allows changing locations by JSON-patch
	// (Glance's show_multiple_locations also gates that).
	ShowMultipleLocations bool
	// ResumeTTL is how long a partial upload is kept after its last
	// byte arrived (0: DefaultResumeTTL; at most MaxResumeTTL).
	ResumeTTL time.Duration
	// Cache keeps this node's copies of image data in remote stores (nil:
	// no cache); see cache.go.
	Cache *imagecache.Cache
	// Signatures verifies the data of signed images (nil: no
	// verification).
	Signatures Signatures
}

// DefaultSizeCap is Glance's image_size_cap: 1 TiB.
const DefaultSizeCap = 1 << 40

// Service implements every image operation. Each method reads top to
// bottom: find the image (hiding what the caller may not see), check the
// rule, apply the domain rules, write through the Store and the blob
// Driver.
type Service struct {
	store  Store
	stores Stores
	authz  Authorizer
	log    *slog.Logger
	opts   Options
	quota  quotaLocks
	// updates serialise the patches of one image on this node (patch.go).
	updates updateLocks
	// importer runs the import workflow (importer.go).
	importer importWorkflow
}

// NewService wires a Service.
func NewService(store Store, stores Stores, authz Authorizer, log *slog.Logger, opts Options) (*Service, error) {
	if err := stores.validate(); err != nil {
		return nil, err
	}
	if opts.SizeCap <= 0 {
		opts.SizeCap = DefaultSizeCap
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Service{store: store, stores: stores, authz: authz, log: log, opts: opts}
	s.importer = newImporter(s, store, stores, log, opts)
	return s, nil
}

func (s *Service) now() time.Time { return s.opts.Now().UTC() }

// Create makes a new queued image from the attributes a client sent.
func (s *Service) Create(ctx context.Context, p caller.Principal, attrs map[string]any) (*Image, error) {
	for name := range attrs {
		if err := checkWritable(name); err != nil {
			return nil, err
		}
	}
	now := s.now()
	img := &Image{
		Status:     StatusQueued,
		Visibility: VisibilityShared,
		Tags:       []string{},
		Properties: map[string]string{},
		CreatedAt:  now,
		UpdatedAt:  now,
	}
	if project := p.ProjectID; project != "" {
		img.Owner = &project
	}
	if err := s.applyCreateAttrs(img, attrs); err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "add_image", img); err != nil {
		return nil, err
	}
	if err := s.authorizeVisibility(ctx, p, img, img.Visibility); err != nil {
		return nil, err
	}
	if err := checkQuotas(img); err != nil {
		return nil, err
	}
	owner := ""
	if img.Owner != nil {
		owner = *img.Owner
	}
	unlock, limited, err := s.lockQuotas(ctx, owner)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if limited {
		if err := s.enforce(ctx, owner, map[string]int64{QuotaImageCountTotal: 1}); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateImage(ctx, img); err != nil {
		if errors.Is(err, ErrDuplicate) {
			return nil, newError(ErrDuplicate, "An image with identifier %s already exists", img.ID)
		}
		return nil, err
	}
	return img, nil
}

func (s *Service) applyCreateAttrs(img *Image, attrs map[string]any) error {
	for name, value := range attrs {
		switch name {
		case "id":
			id, ok := value.(string)
			if !ok || !ValidUUID(id) {
				return schemaError("id", value, "does not match '"+uuidPattern.String()+"'", "pattern")
			}
			img.ID = CanonicalID(id)
		case "locations":
			return newError(ErrForbidden, "Attribute 'locations' is read-only.")
		default:
			if err := setAttr(img, name, value); err != nil {
				return err
			}
		}
	}
	if img.ID == "" {
		img.ID = uuid.NewString()
	}
	return nil
}

// Get returns one image the caller may see.
func (s *Service) Get(ctx context.Context, p caller.Principal, id string) (*Image, error) {
	return s.visible(ctx, p, id, p.IsAdmin())
}

// Delete soft-deletes an image and then removes its data. The record goes
// first: a crash in between leaves data without a record, which the start
// up recovery removes, and never a record without its data.
func (s *Service) Delete(ctx context.Context, p caller.Principal, id string) error {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "delete_image", img); err != nil {
		return err
	}
	if img.Protected {
		return newError(ErrForbidden, "Image %s is protected and cannot be deleted.", id)
	}
	if err := s.checkNotInUse(ctx, img); err != nil {
		return err
	}
	prior, err := s.store.DeleteImage(ctx, id, s.now())
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFoundImage(id)
		}
		return err
	}
	s.removeData(context.WithoutCancel(ctx), prior)
	s.dropPartialOf(ctx, id)
	s.uncache(id)
	if prior.Status == StatusUploading || prior.Status == StatusImporting {
		// A running import notices the deletion at its next step and
		// stops; the staged data goes now.
		s.importer.removeStaged(context.WithoutCancel(ctx), id)
	}
	return nil
}

// removeData deletes a deleted image's blobs (those no other image shares)
// and forgets its location. A failure is logged and left for the next
// start's recovery.
func (s *Service) removeData(ctx context.Context, img *Image) {
	if img.Location == "" {
		return
	}
	for _, loc := range img.Locations() {
		if err := s.releaseBlob(ctx, img.ID, loc); err != nil {
			s.log.ErrorContext(ctx, "removing image data", "image_id", img.ID, "location", loc, "err", err)
			return
		}
	}
	if err := s.store.ClearLocation(ctx, img.ID); err != nil {
		s.log.ErrorContext(ctx, "clearing image location", "image_id", img.ID, "err", err)
	}
}

// visible loads an image and hides it (ErrNotFound) from a caller who may
// not see it, following glance/db/utils.py is_image_visible. Deleted
// images are visible only when withDeleted is set (admins' show).
func (s *Service) visible(ctx context.Context, p caller.Principal, id string, withDeleted bool) (*Image, error) {
	img, err := s.store.GetImage(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, notFoundImage(id)
	}
	if err != nil {
		return nil, err
	}
	if img.IsDeleted() && !withDeleted {
		return nil, notFoundImage(id)
	}
	ok, err := s.canSee(ctx, p, img)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, notFoundImage(id)
	}
	// An image the get_image rule refuses is one the caller cannot see:
	// Glance turns any refusal on such an image into 404
	// (glance/api/v2/policy.py ImageAPIPolicy._enforce). Most rule sets
	// decide get_image from the caller alone (gettable, list.go): then
	// no target is built, which for a shared image is a second read of
	// the caller's membership.
	if allowed, settled := s.authz.Settle(p, "get_image"); settled {
		if !allowed {
			return nil, notFoundImage(id)
		}
		return img, nil
	}
	if err := s.authorize(ctx, p, "get_image", img); err != nil {
		if errors.Is(err, ErrForbidden) {
			return nil, notFoundImage(id)
		}
		return nil, err
	}
	return img, nil
}

func (s *Service) canSee(ctx context.Context, p caller.Principal, img *Image) (bool, error) {
	switch {
	case p.IsAdmin(), img.Owner == nil, img.OwnedBy(p.ProjectID):
		return true, nil
	case img.Visibility == VisibilityPublic, img.Visibility == VisibilityCommunity:
		return true, nil
	case img.Visibility != VisibilityShared || p.ProjectID == "":
		return false, nil
	}
	_, err := s.store.GetMember(ctx, img.ID, p.ProjectID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// authorize runs a policy rule against an image and words a refusal as a
// domain error.
func (s *Service) authorize(ctx context.Context, p caller.Principal, action string, img *Image) error {
	t, err := s.target(ctx, p, img)
	if err != nil {
		return err
	}
	return s.allow(ctx, p, action, t)
}

// target describes an image to the rules as Glance's ImageTarget does:
// project_id is the owner, every field and extra property is readable, and
// member_id is the caller's project when it reaches a shared image it does
// not own (glance/db ImageRepo._format_image_from_db sets image.member so).
func (s *Service) target(ctx context.Context, p caller.Principal, img *Image) (policy.Target, error) {
	t := policy.Target{
		ImageID:    img.ID,
		Visibility: string(img.Visibility),
		Status:     string(img.Status),
		Extra:      policyAttrs(img),
	}
	if img.Owner != nil {
		t.Owner = *img.Owner
	}
	if img.Visibility != VisibilityShared || p.ProjectID == "" || img.OwnedBy(p.ProjectID) {
		return t, nil
	}
	t.Member = p.ProjectID
	m, err := s.store.GetMember(ctx, img.ID, p.ProjectID)
	switch {
	case err == nil:
		t.MemberStatus = string(m.Status)
	case !errors.Is(err, ErrNotFound):
		return t, err
	}
	return t, nil
}

// policyAttrs renders an image's other fields and extra properties as
// Python prints them, for rules like "'raw':%(disk_format)s".
func policyAttrs(img *Image) map[string]string {
	m := make(map[string]string, len(img.Properties)+10)
	for k, v := range img.Properties {
		m[k] = v
	}
	pyBool := func(b bool) string {
		if b {
			return "True"
		}
		return "False"
	}
	m["protected"] = pyBool(img.Protected)
	m["os_hidden"] = pyBool(img.Hidden)
	m["min_disk"] = strconv.FormatInt(img.MinDisk, 10)
	m["min_ram"] = strconv.FormatInt(img.MinRAM, 10)
	// One field at a time, not a loop over a map literal: that map was
	// made anew on every rule check.
	if img.Name != nil {
		m["name"] = *img.Name
	}
	if img.DiskFormat != nil {
		m["disk_format"] = *img.DiskFormat
	}
	if img.ContainerFormat != nil {
		m["container_format"] = *img.ContainerFormat
	}
	if img.Size != nil {
		m["size"] = strconv.FormatInt(*img.Size, 10)
	}
	return m
}

func (s *Service) allow(ctx context.Context, p caller.Principal, action string, t policy.Target) error {
	err := s.authz.Allow(ctx, p, action, t)
	if err == nil {
		return nil
	}
	var d *policy.Denied
	if errors.As(err, &d) {
		return newError(ErrForbidden, "%s", d.Msg)
	}
	return err
}

// authorizeVisibility checks the extra rule for asking that img be public
// or community. Glance checks it whenever a request sets one of those,
// even to the value the image already has
// (glance/api/policy.py _enforce_image_visibility).
func (s *Service) authorizeVisibility(ctx context.Context, p caller.Principal, img *Image, v Visibility) error {
	switch v {
	case VisibilityPublic:
		return s.authorize(ctx, p, "publicize_image", img)
	case VisibilityCommunity:
		return s.authorize(ctx, p, "communitize_image", img)
	}
	return nil
}

// checkQuotas applies the per-record limits (413 as Glance). Glance's own
// os_glance_* properties (the import's) do not count.
func checkQuotas(img *Image) error {
	n := 0
	for k := range img.Properties {
		if !strings.HasPrefix(k, reservedPrefix) {
			n++
		}
	}
	if n > MaxProperties {
		return newError(ErrTooLarge, "The limit has been exceeded on the number of allowed image properties. Attempted: %d, Maximum: %d", n, MaxProperties)
	}
	if n := len(img.Tags); n > MaxTags {
		return newError(ErrTooLarge, "The limit has been exceeded on the number of allowed image tags. Attempted: %d, Maximum: %d", n, MaxTags)
	}
	return nil
}
