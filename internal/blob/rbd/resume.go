//go:build ceph

package rbd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	cephrbd "github.com/ceph/go-ceph/rbd"

	"github.com/glint-image/glint/internal/blob"
)

// A resumable writer fills a temporary image like any writer; its first
// checkpoint renames it with partialMark, so that Sweep keeps it (closed,
// it has no watcher) for blob.KeepPartials. Its checkpoint writes out the buffered chunk and
// closes the image; Resume reopens it and writes on at the offset the
// checkpoint recorded, which is all RBD needs: writes go at an offset.

var _ blob.Resumer = (*Driver)(nil)

// partialMark follows tempMark in the name of a resumable writer's image.
const partialMark = "partial"

type resumeState struct {
	Image string `json:"image"`
	Size  int64  `json:"size"`
}

// ResumableWriter creates a temporary image for key.
func (d *Driver) ResumableWriter(ctx context.Context, key string) (blob.ResumableWriter, error) {
	if !blob.ValidKey(key) {
		return nil, blob.ErrInvalidKey
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	// A temporary image like any writer's until its first checkpoint
	// renames it, so one a crash leaves before that is swept as usual.
	w, err := d.writer(ctx, key, imageName(key)+tempMark+hex.EncodeToString(suffix[:]))
	if err != nil {
		return nil, err
	}
	return &resumable{writer: w}, nil
}

// Resume reopens a checkpointed writer's image.
func (d *Driver) Resume(ctx context.Context, key string, state []byte) (blob.ResumableWriter, error) {
	if !blob.ValidKey(key) {
		return nil, blob.ErrInvalidKey
	}
	st, err := parseState(state)
	if err != nil || !strings.HasPrefix(st.Image, imageName(key)+tempMark+partialMark) {
		return nil, fmt.Errorf("rbd: resume %q: %w", key, blob.ErrResumeState)
	}
	img, err := cephrbd.OpenImage(d.ioctx, st.Image, cephrbd.NoSnapshot)
	if err != nil {
		if errors.Is(notFound(err), blob.ErrNotFound) {
			err = blob.ErrResumeState
		}
		return nil, fmt.Errorf("rbd: resume %q: %w", key, err)
	}
	size, err := img.GetSize()
	if err == nil && size < uint64(st.Size) {
		err = fmt.Errorf("%s holds %d bytes, the checkpoint %d: %w", st.Image, size, st.Size, blob.ErrResumeState)
	}
	if err != nil {
		img.Close()
		return nil, fmt.Errorf("rbd: resume %q: %w", key, err)
	}
	w := newWriter(ctx, d, img, st.Image, imageName(key))
	w.off, w.capacity = st.Size, size
	return &resumable{writer: w}, nil
}

// Discard removes a checkpointed writer's image.
func (d *Driver) Discard(ctx context.Context, state []byte) error {
	st, err := parseState(state)
	if err != nil || !strings.Contains(st.Image, tempMark+partialMark) {
		return fmt.Errorf("rbd: discard: %w", blob.ErrResumeState)
	}
	if err := d.remove(st.Image); err != nil && !errors.Is(err, blob.ErrNotFound) {
		return err
	}
	return nil
}

func parseState(state []byte) (resumeState, error) {
	var st resumeState
	if err := json.Unmarshal(state, &st); err != nil || st.Size < 0 || st.Image == "" {
		return st, errors.New("bad state")
	}
	return st, nil
}

type resumable struct {
	*writer
	checkpointed bool
}

// Commit makes the blob visible, unless the writer was checkpointed.
func (r *resumable) Commit(ctx context.Context) error {
	if r.checkpointed {
		return errors.New("rbd: Commit after Checkpoint")
	}
	return r.writer.Commit(ctx)
}

// Checkpoint writes the buffered chunk, flushes the image and closes it.
func (r *resumable) Checkpoint(ctx context.Context) ([]byte, error) {
	w := r.writer
	if w.img == nil || w.committed {
		return nil, errors.New("rbd: Checkpoint after Commit or Cancel")
	}
	err := w.err
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = w.flush()
	}
	if err == nil {
		err = w.img.Flush()
	}
	img := w.img
	w.img = nil
	if cerr := img.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.err = err
		if rerr := w.d.remove(w.tmp); rerr != nil && !errors.Is(rerr, blob.ErrNotFound) {
			err = errors.Join(err, rerr)
		}
		return nil, fmt.Errorf("rbd: checkpoint %s: %w", w.tmp, err)
	}
	if !strings.Contains(w.tmp, tempMark+partialMark) {
		partial := strings.Replace(w.tmp, tempMark, tempMark+partialMark, 1)
		if err := cephrbd.GetImage(w.d.ioctx, w.tmp).Rename(partial); err != nil {
			w.err = err
			if rerr := w.d.remove(w.tmp); rerr != nil && !errors.Is(rerr, blob.ErrNotFound) {
				err = errors.Join(err, rerr)
			}
			return nil, fmt.Errorf("rbd: checkpoint %s: %w", w.tmp, err)
		}
		w.tmp = partial
	}
	w.err = errors.New("rbd: write after Checkpoint")
	w.committed = true // Cancel must leave the image alone now
	r.checkpointed = true
	return json.Marshal(resumeState{Image: w.tmp, Size: w.off})
}
