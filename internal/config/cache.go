package config

import (
	"errors"
	"fmt"
	"time"
)

// Cache is the node-local image cache (Glance's image_cache_* options),
// which keeps copies of image data from remote stores on local disk.
type Cache struct {
	// Enabled turns the cache on or off; nil (the default) means on when
	// an image store is remote (S3), off when every store is local files.
	Enabled *bool
	// Dir holds the copies; default DataDir/image-cache.
	Dir string
	// MaxSize is the most the copies take, in bytes; 0 means 10 GiB.
	MaxSize int64
	// StallTime ends a copy whose store sends nothing for this long and
	// is the age at which stray incomplete files are removed; 0 means one
	// day.
	StallTime time.Duration
}

type fileCache struct {
	Enabled   *bool   `yaml:"enabled"`
	Dir       *string `yaml:"image_cache_dir"`
	MaxSize   *int64  `yaml:"image_cache_max_size"`
	StallTime *int64  `yaml:"image_cache_stall_time"` // seconds, as in Glance
}

func (c *Config) applyCache(f *fileCache) {
	if f == nil {
		return
	}
	if f.Enabled != nil {
		on := *f.Enabled
		c.Cache.Enabled = &on
	}
	setString(&c.Cache.Dir, f.Dir)
	if f.MaxSize != nil {
		c.Cache.MaxSize = *f.MaxSize
	}
	if f.StallTime != nil {
		c.Cache.StallTime = time.Duration(*f.StallTime) * time.Second
	}
}

func (c Config) validateCache() []error {
	var errs []error
	if c.Cache.MaxSize < 0 {
		errs = append(errs, fmt.Errorf("cache.image_cache_max_size: must not be negative, not %d", c.Cache.MaxSize))
	}
	if c.Cache.StallTime < 0 {
		errs = append(errs, errors.New("cache.image_cache_stall_time: must not be negative"))
	}
	return errs
}
