//go:build !ceph

package rbd_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/blob/rbd"
)

// Without the ceph tag New says which build has RBD, after checking the
// configuration as the ceph build does.
func TestNotCompiled(t *testing.T) {
	_, err := rbd.New(t.Context(), rbd.Config{Pool: "images"})
	if !errors.Is(err, rbd.ErrNotCompiled) || !strings.Contains(err.Error(), "-tags ceph") {
		t.Errorf("New = %v, want ErrNotCompiled naming the build tag", err)
	}
	if _, err := rbd.New(t.Context(), rbd.Config{ChunkSizeMiB: 3}); err == nil || !strings.Contains(err.Error(), "chunk_size") {
		t.Errorf("New with a bad chunk size = %v, want the configuration error", err)
	}
}
