package server

import (
	"fmt"
	"path/filepath"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/imagecache"
)

// openCache opens this node's image cache when it is on: by default when
// a store is remote (its data is off this machine), or as configured. It
// returns nil when the cache is off.
func (s *Server) openCache(stores image.Stores) (*imagecache.Cache, error) {
	cfg := s.cfg.Cache
	on := false
	for _, d := range stores.Drivers {
		on = on || blob.IsRemote(d)
	}
	if cfg.Enabled != nil {
		on = *cfg.Enabled
	}
	if !on {
		return nil, nil
	}
	dir := cfg.Dir
	if dir == "" {
		dir = filepath.Join(s.cfg.DataDir, "image-cache")
	}
	c, err := imagecache.Open(imagecache.Options{Dir: dir, MaxSize: cfg.MaxSize, StallTime: cfg.StallTime, Log: s.log})
	if err != nil {
		return nil, fmt.Errorf("cache: %w", err)
	}
	s.closers = append(s.closers, c.Close)
	return c, nil
}

// CacheStats returns this node's image cache counters (hits, misses,
// bytes), for a metrics exporter; ok is false when there is no cache.
func (s *Server) CacheStats() (st imagecache.Stats, ok bool) {
	if s.cache == nil {
		return imagecache.Stats{}, false
	}
	return s.cache.Stats(), true
}
