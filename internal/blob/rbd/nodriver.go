//go:build !ceph

package rbd

import (
	"context"
	"errors"
	"io"

	"github.com/glint-image/glint/internal/blob"
)

// Compiled reports whether this build can talk to Ceph.
const Compiled = false

// ErrNotCompiled is what New answers in a build without the "ceph" tag.
var ErrNotCompiled = errors.New("rbd: this glint was built without Ceph RBD support; " +
	"build it with `go build -tags ceph,pacific ./cmd/glint` (cgo, with librados-dev and librbd-dev installed; " +
	"pacific selects Ceph 16.2's API, Debian 12's, and is left out for Ceph 18 or later)")

// Driver is the RBD driver's place in a build without Ceph: New never
// returns one.
type Driver struct{}

// New reports that this build has no RBD support.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, ErrNotCompiled
}

func (*Driver) Writer(context.Context, string) (blob.Writer, error) { return nil, ErrNotCompiled }
func (*Driver) Reader(context.Context, string, int64) (io.ReadCloser, error) {
	return nil, ErrNotCompiled
}
func (*Driver) Stat(context.Context, string) (blob.Info, error) { return blob.Info{}, ErrNotCompiled }
func (*Driver) Delete(context.Context, string) error            { return ErrNotCompiled }
func (*Driver) InUse(context.Context, string) error             { return ErrNotCompiled }
func (*Driver) Close() error                                    { return nil }
func (*Driver) FSID() string                                    { return "" }
func (*Driver) Pool() string                                    { return "" }
func (*Driver) URL(string) string                               { return "" }
