package image

import (
	"context"
	"sync"

	"github.com/glint-image/glint/internal/caller"
)

// Per-project quota names, as Glance's unified limits call them.
const (
	QuotaImageCountTotal     = "image_count_total"     // images owned, not deleted or killed
	QuotaImageCountUploading = "image_count_uploading" // images receiving data
	QuotaImageSizeTotal      = "image_size_total"      // MiB of image data stored
	QuotaImageStageTotal     = "image_stage_total"     // MiB of data staged for import
)

// QuotaNames lists the quotas in a stable order.
var QuotaNames = []string{QuotaImageSizeTotal, QuotaImageStageTotal, QuotaImageCountTotal, QuotaImageCountUploading}

// Unlimited is the limit of a quota that is not enforced.
const Unlimited = -1

const mib = 1 << 20

// Usage is what a project consumes, as the store counts it.
type Usage struct {
	Images     int64 // not deleted, not killed
	Uploading  int64 // saving, uploading or importing
	SizeBytes  int64 // data of images that have it
	StageBytes int64 // data staged for import
}

func (u Usage) of(name string) int64 {
	switch name {
	case QuotaImageCountTotal:
		return u.Images
	case QuotaImageCountUploading:
		return u.Uploading
	case QuotaImageSizeTotal:
		return u.SizeBytes / mib
	case QuotaImageStageTotal:
		return u.StageBytes / mib
	}
	return 0
}

// QuotaUsage is one quota of a project with its current usage.
type QuotaUsage struct {
	Name         string
	Usage, Limit int64
}

// quotaLocks serialise a project's check-then-act quota steps within this
// process, so concurrent uploads of one project cannot all pass a check
// that only one of them fits; the store's project lock does the same
// across nodes.
type quotaLocks struct{ m sync.Map }

func (q *quotaLocks) lock(project string) func() {
	mu, _ := q.m.LoadOrStore(project, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	return mu.(*sync.Mutex).Unlock
}

// lockProject takes the process-wide and the store-wide lock of a project,
// around a quota check and the change it allows. A project none of whose
// quotas is limited (the default when no quotas are configured) has
// nothing to check, so its changes are not serialized at all: creating
// images of one project runs at the speed of the database, not of one
// lock round trip after another.
func (s *Service) lockProject(ctx context.Context, project string) (func(), error) {
	unlock, _, err := s.lockQuotas(ctx, project)
	return unlock, err
}

// lockQuotas is lockProject that also says whether any of the project's
// quotas is limited. When none is, there is nothing to check either, and
// a create need not read the project's limits a second time (enforce).
func (s *Service) lockQuotas(ctx context.Context, project string) (unlock func(), limited bool, err error) {
	limits, err := s.limits(ctx, project)
	if err != nil {
		return nil, false, err
	}
	for _, v := range limits {
		limited = limited || v != Unlimited
	}
	if !limited {
		return func() {}, false, nil
	}
	unlockLocal := s.quota.lock(project)
	unlockStore, err := s.store.LockProject(ctx, project)
	if err != nil {
		unlockLocal()
		return nil, false, err
	}
	return func() { unlockStore(); unlockLocal() }, true, nil
}

// limits merges the configured defaults with the project's overrides.
func (s *Service) limits(ctx context.Context, project string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, name := range QuotaNames {
		out[name] = Unlimited
		if v, ok := s.opts.DefaultLimits[name]; ok {
			out[name] = v
		}
	}
	if project == "" {
		return out, nil
	}
	overrides, err := s.store.ProjectLimits(ctx, project)
	if err != nil {
		return nil, err
	}
	for k, v := range overrides {
		out[k] = v
	}
	return out, nil
}

// enforce refuses an action that would take a project past one of its
// quotas: deltas are the increases the action brings (MiB for sizes).
func (s *Service) enforce(ctx context.Context, project string, deltas map[string]int64) error {
	if project == "" {
		return nil
	}
	limits, err := s.limits(ctx, project)
	if err != nil {
		return err
	}
	var usage *Usage
	for _, name := range QuotaNames {
		delta, ok := deltas[name]
		if !ok || limits[name] == Unlimited {
			continue
		}
		if usage == nil {
			u, err := s.store.ProjectUsage(ctx, project)
			if err != nil {
				return err
			}
			usage = &u
		}
		if cur := usage.of(name); cur+delta > limits[name] {
			return overQuota(project, name, limits[name], cur, delta)
		}
	}
	return nil
}

// overQuota words the refusal as Glance does (its LimitExceeded wrapping
// oslo.limit's ProjectOverLimit).
func overQuota(project, name string, limit, usage, delta int64) error {
	return &QuotaError{Quota: name, err: newError(ErrTooLarge, "The request returned a 413 Request Entity Too Large. This generally means that rate limiting or a quota threshold was breached.\n\nThe response body:\nProject %s is over a limit for [Resource %s is over limit of %d due to current usage %d and delta %d]",
		project, name, limit, usage, delta).(*Error)}
}

// QuotaError is a refusal by one quota: an ErrTooLarge *Error (errors.As
// finds either) that also names the quota, for counting refusals.
type QuotaError struct {
	Quota string
	err   *Error
}

func (e *QuotaError) Error() string { return e.err.Error() }
func (e *QuotaError) Unwrap() error { return e.err }

// remainingBytes is how many more bytes project may hold under a byte
// quota (image_size_total or image_stage_total), or -1 when unlimited,
// with the quota's limit in MiB for the refusal's words.
func (s *Service) remainingBytes(ctx context.Context, project, quota string) (remaining, limit int64, err error) {
	limits, err := s.limits(ctx, project)
	if err != nil || project == "" || limits[quota] == Unlimited {
		return -1, Unlimited, err
	}
	u, err := s.store.ProjectUsage(ctx, project)
	if err != nil {
		return 0, 0, err
	}
	used := u.SizeBytes
	if quota == QuotaImageStageTotal {
		used = u.StageBytes
	}
	return max(0, limits[quota]*mib-used), limits[quota], nil
}

// Usage reports the caller's project's quotas (GET /v2/info/usage).
func (s *Service) Usage(ctx context.Context, p caller.Principal) ([]QuotaUsage, error) {
	return s.quotaUsage(ctx, p.ProjectID)
}

// ProjectQuotas reports any project's quotas: admins only, or the
// project's own members.
func (s *Service) ProjectQuotas(ctx context.Context, p caller.Principal, project string) ([]QuotaUsage, error) {
	if !p.IsAdmin() && p.ProjectID != project {
		return nil, newError(ErrForbidden, "You are not authorized to see the quotas of project %s.", project)
	}
	return s.quotaUsage(ctx, project)
}

func (s *Service) quotaUsage(ctx context.Context, project string) ([]QuotaUsage, error) {
	limits, err := s.limits(ctx, project)
	if err != nil {
		return nil, err
	}
	var u Usage
	if project != "" {
		if u, err = s.store.ProjectUsage(ctx, project); err != nil {
			return nil, err
		}
	}
	out := make([]QuotaUsage, 0, len(QuotaNames))
	for _, name := range QuotaNames {
		out = append(out, QuotaUsage{Name: name, Usage: u.of(name), Limit: limits[name]})
	}
	return out, nil
}

// SetProjectQuotas overrides some of a project's limits (admins only);
// Unlimited lifts one.
func (s *Service) SetProjectQuotas(ctx context.Context, p caller.Principal, project string, limits map[string]int64) error {
	return NewQuotas(s.store).Set(ctx, p, project, limits)
}

// ResetProjectQuotas drops a project's overrides (admins only).
func (s *Service) ResetProjectQuotas(ctx context.Context, p caller.Principal, project string) error {
	return NewQuotas(s.store).Reset(ctx, p, project)
}

// Quotas manages the per-project quota overrides: the part of the image
// service that `glint admin quota` uses, which needs no image store.
type Quotas struct{ store Store }

// NewQuotas returns the overrides kept in store.
func NewQuotas(store Store) *Quotas { return &Quotas{store: store} }

// Overrides returns a project's overrides by quota name (admins only); a
// quota left out takes the default.
func (q *Quotas) Overrides(ctx context.Context, p caller.Principal, project string) (map[string]int64, error) {
	if !p.IsAdmin() {
		return nil, newError(ErrForbidden, "You are not authorized to see the quotas of project %s.", project)
	}
	return q.store.ProjectLimits(ctx, project)
}

// Set overrides some of a project's limits (admins only); Unlimited lifts
// one.
func (q *Quotas) Set(ctx context.Context, p caller.Principal, project string, limits map[string]int64) error {
	if !p.IsAdmin() {
		return newError(ErrForbidden, "Only admins may change quotas.")
	}
	if err := ValidateLimits(limits); err != nil {
		return err
	}
	for name, v := range limits {
		if err := q.store.SetProjectLimit(ctx, project, name, v); err != nil {
			return err
		}
	}
	return nil
}

// Reset drops a project's overrides (admins only).
func (q *Quotas) Reset(ctx context.Context, p caller.Principal, project string) error {
	if !p.IsAdmin() {
		return newError(ErrForbidden, "Only admins may change quotas.")
	}
	return q.store.DeleteProjectLimits(ctx, project)
}

// ValidateLimits checks quota names and values.
func ValidateLimits(limits map[string]int64) error {
	for name, v := range limits {
		known := false
		for _, n := range QuotaNames {
			known = known || n == name
		}
		if !known {
			return newError(ErrInvalid, "Unknown quota %q; known quotas: %s", name, joinComma(QuotaNames))
		}
		if v < Unlimited {
			return newError(ErrInvalid, "Quota %s must be -1 (unlimited) or at least 0, not %d", name, v)
		}
	}
	return nil
}
