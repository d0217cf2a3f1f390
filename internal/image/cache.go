package image

import (
	"context"
	"io"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/imagecache"
	"github.com/glint-image/glint/internal/policy"
)

// The image cache (internal/imagecache) keeps this node's copies of the
// data of active images in remote stores. Downloads read through it; the
// cache API (/v2/cache) manages it under Glance's cache_* rules, and like
// Glance's answers for the node that serves the call.

// readData opens an image's data at offset: through the cache when the
// image's store is remote, else from the store.
func (s *Service) readData(ctx context.Context, img *Image, d blob.Driver, key string, offset int64) (body io.ReadCloser, cached bool, err error) {
	if s.opts.Cache == nil || !blob.IsRemote(d) || img.Status != StatusActive {
		body, err = d.Reader(ctx, key, offset)
		return body, false, err
	}
	return s.opts.Cache.Read(ctx, cacheSource(img, d, key), offset)
}

func cacheSource(img *Image, d blob.Driver, key string) imagecache.Source {
	return imagecache.Source{ImageID: img.ID, Size: *img.Size, MD5: img.Checksum, HashAlgo: img.HashAlgo, HashValue: img.HashValue,
		Open: func(ctx context.Context, offset int64) (io.ReadCloser, error) { return d.Reader(ctx, key, offset) }}
}

// uncache drops a deleted image's copy on this node.
func (s *Service) uncache(id string) {
	if s.opts.Cache != nil {
		s.opts.Cache.Delete(id)
	}
}

// CacheSource resolves a queued image for the prefetcher: an active image
// with data in a remote store.
func (s *Service) CacheSource(ctx context.Context, id string) (imagecache.Source, error) {
	img, err := s.store.GetImage(ctx, id)
	if err != nil {
		return imagecache.Source{}, err
	}
	if img.IsDeleted() || img.Status != StatusActive || img.Size == nil || img.Location == "" {
		return imagecache.Source{}, newError(ErrInvalid, "Image %s is not active", id)
	}
	loc := img.locationIn(s.stores.Default)
	if loc == "" {
		loc = img.Locations()[0]
	}
	d, key, err := s.driverFor(loc)
	if err != nil {
		return imagecache.Source{}, err
	}
	if !blob.IsRemote(d) {
		return imagecache.Source{}, newError(ErrInvalid, "Image %s is in a local store; it is not cached", id)
	}
	return cacheSource(img, d, key), nil
}

// CacheState is GET /v2/cache's answer.
type CacheState struct {
	Cached []imagecache.Entry
	Queued []string
}

// Cache clear targets (x-image-cache-clear-target).
const (
	ClearCache = "cache"
	ClearQueue = "queue"
	ClearBoth  = ""
)

// cacheAccess checks a cache_* rule and that this node has a cache.
func (s *Service) cacheAccess(ctx context.Context, p caller.Principal, rule string) error {
	if err := s.allow(ctx, p, rule, policy.Target{Owner: p.ProjectID}); err != nil {
		return err
	}
	if s.opts.Cache == nil {
		return newError(ErrNotFound, "Caching via API is not supported at this site.")
	}
	return nil
}

// CacheList lists this node's cached and queued images.
func (s *Service) CacheList(ctx context.Context, p caller.Principal) (*CacheState, error) {
	if err := s.cacheAccess(ctx, p, "cache_list"); err != nil {
		return nil, err
	}
	cached, queued := s.opts.Cache.State()
	return &CacheState{Cached: cached, Queued: queued}, nil
}

// CacheQueue queues an active image for this node's prefetcher. As in
// Glance, an unknown image is 404 before the policy check.
func (s *Service) CacheQueue(ctx context.Context, p caller.Principal, id string) error {
	img, err := s.store.GetImage(ctx, id)
	if err != nil || img.IsDeleted() {
		return cacheNotFound(id)
	}
	if err := s.cacheAccess(ctx, p, "cache_image"); err != nil {
		return err
	}
	if img.Status != StatusActive {
		return newError(ErrInvalid, "Only images with status active can be targeted for queueing")
	}
	return s.opts.Cache.Queue(id)
}

// CacheDelete drops an image from this node's cache and queue; 404 when
// the image is unknown and neither cached nor queued.
func (s *Service) CacheDelete(ctx context.Context, p caller.Principal, id string) error {
	if err := s.cacheAccess(ctx, p, "cache_delete"); err != nil {
		return err
	}
	had := s.opts.Cache.Delete(id)
	if !had {
		if img, err := s.store.GetImage(ctx, id); err != nil || img.IsDeleted() {
			return cacheNotFound(id)
		}
	}
	return nil
}

// CacheClear empties this node's cache, queue or both.
func (s *Service) CacheClear(ctx context.Context, p caller.Principal, target string) (cached, queued int, err error) {
	if err := s.cacheAccess(ctx, p, "cache_delete"); err != nil {
		return 0, 0, err
	}
	if target == ClearCache || target == ClearBoth {
		cached = s.opts.Cache.ClearCache()
	}
	if target == ClearQueue || target == ClearBoth {
		queued = s.opts.Cache.ClearQueue()
	}
	return cached, queued, nil
}

// CachePrune prunes this node's cache to its size (Glance 2026.1's POST
// /v2/cache/prune, rule cache_prune) and cleans stray incomplete files.
func (s *Service) CachePrune(ctx context.Context, p caller.Principal) (files int, bytes int64, err error) {
	if err := s.cacheAccess(ctx, p, "cache_prune"); err != nil {
		return 0, 0, err
	}
	s.opts.Cache.Clean()
	files, bytes = s.opts.Cache.Prune()
	return files, bytes, nil
}

// cacheNotFound is the cache API's 404, worded as Glance's.
func cacheNotFound(id string) error { return newError(ErrNotFound, "Image %s not found.", id) }
