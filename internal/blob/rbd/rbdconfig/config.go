// Package rbdconfig holds an rbd store's settings and their checks, in pure
// Go, so the configuration can validate them without importing the driver
// (which needs cgo and Ceph's libraries when built with the "ceph" tag).
package rbdconfig

import (
	"errors"
	"fmt"
	"math/bits"
	"strings"
)

// Defaults, as Glance's rbd_store_* options.
const (
	DefaultPool           = "images"
	DefaultChunkSizeMiB   = 8
	DefaultConnectTimeout = 30
)

// Config is an rbd store's settings, under the names Glance gives them
// without the rbd_store_ prefix.
type Config struct {
	// Pool holds the images (rbd_store_pool).
	Pool string `yaml:"pool"`
	// User is the Ceph client name without "client." (rbd_store_user);
	// empty lets librados choose (client.admin).
	User string `yaml:"user"`
	// ConfFile is the ceph.conf to read (rbd_store_ceph_conf); empty
	// reads librados' default places.
	ConfFile string `yaml:"ceph_conf"`
	// Keyring is the client's keyring file; empty takes the one ceph.conf
	// names.
	Keyring string `yaml:"keyring"`
	// ChunkSizeMiB is the size of writes and reads and the RBD object size
	// (rbd_store_chunk_size): a power of two from 1 to 32 MiB.
	ChunkSizeMiB int `yaml:"chunk_size"`
	// ThinProvisioning skips writing chunks of zeros (rbd_thin_provisioning).
	ThinProvisioning bool `yaml:"thin_provisioning"`
	// ConnectTimeout bounds connecting to the cluster, in seconds
	// (rados_connect_timeout; 0 takes 30, where Glance waits forever).
	ConnectTimeout int `yaml:"connect_timeout"`
}

// Validate checks every field and reports all problems, each naming its
// key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("rbd.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if p := c.Pool; p != "" && !validName(p) {
		bad("pool", "%q is not a pool name", p)
	}
	if u := c.User; u != "" && (!validName(u) || strings.HasPrefix(u, "client.")) {
		bad("user", "%q must be the client's name without \"client.\" (\"glance\" for client.glance)", u)
	}
	if n := c.ChunkSizeMiB; n != 0 && (n < 1 || n > 32 || bits.OnesCount(uint(n)) != 1) {
		bad("chunk_size", "%d must be a power of two from 1 to 32 (MiB), or 0 for %d", n, DefaultChunkSizeMiB)
	}
	if t := c.ConnectTimeout; t < 0 || t > 600 {
		bad("connect_timeout", "%d must be between 0 (for %d) and 600 seconds", t, DefaultConnectTimeout)
	}
	return errors.Join(errs...)
}

// WithDefaults fills in the zero values Validate allows.
func (c Config) WithDefaults() Config {
	if c.Pool == "" {
		c.Pool = DefaultPool
	}
	if c.ChunkSizeMiB == 0 {
		c.ChunkSizeMiB = DefaultChunkSizeMiB
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

// validName: the characters Ceph pool and client names use in practice,
// none that would need quoting in a URL or a command line.
func validName(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
		default:
			return false
		}
	}
	return true
}
