package image

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// heartbeatInterval is how often a running upload refreshes its image's
// updated_at, so that another node can tell a live upload from one whose
// node died.
const heartbeatInterval = time.Minute

// heartbeat calls beat at most once per heartbeatInterval while the upload
// body is being read.
type heartbeat struct {
	r    io.Reader
	beat func()
	last time.Time
}

func (h *heartbeat) Read(p []byte) (int, error) {
	if now := time.Now(); h.last.IsZero() {
		h.last = now
	} else if now.Sub(h.last) >= heartbeatInterval {
		h.beat()
		h.last = now
	}
	return h.r.Read(p)
}

// touch refreshes updated_at of an image that is still saving.
func (s *Service) touch(ctx context.Context, id string) {
	if err := s.store.SetStatus(ctx, id, StatusSaving, StatusSaving, s.now()); err != nil {
		s.log.WarnContext(ctx, "refreshing an upload's heartbeat", "image_id", id, "err", err)
	}
}

// Recover repairs what a crash can leave behind:
//   - images stranded in saving go back to queued, and any blob written for
//     them but never recorded is removed, so the upload can be repeated;
//   - deleted images whose data removal did not finish lose their data;
//   - on a single node (Options.StrandedAfter == 0), the drivers' temporary
//     state (partial uploads) is swept.
//
// With one node (the embedded default) run it once at start, before
// serving: every saving image is stranded. With several nodes sharing the
// stores, set Options.StrandedAfter to a lease well above
// heartbeatInterval and run it periodically on every node: an upload whose
// heartbeat stopped that long ago belongs to a dead node. Drivers' temporary
// state is then left alone, since it may be another node's live upload.
func (s *Service) Recover(ctx context.Context) error {
	single := s.opts.StrandedAfter == 0
	if single {
		for _, id := range s.stores.IDs() {
			if sw, ok := blob.As[blob.Sweeper](s.stores.Drivers[id]); ok {
				if err := sw.Sweep(ctx); err != nil {
					return err
				}
			}
		}
	}
	stranded, err := s.store.Stranded(ctx)
	if err != nil {
		return err
	}
	cutoff := s.now().Add(-s.opts.StrandedAfter)
	for _, img := range stranded {
		if !single && img.UpdatedAt.After(cutoff) {
			continue
		}
		if err := s.store.SetStatus(ctx, img.ID, img.Status, StatusQueued, s.now()); err != nil {
			if errors.Is(err, ErrConflict) {
				continue // another node got there first, or the upload finished
			}
			return err
		}
		for _, id := range s.stores.IDs() {
			s.discard(ctx, location(id, img.ID))
		}
		s.log.InfoContext(ctx, "image returned to queued after an interrupted upload", "image_id", img.ID)
	}
	deleted, err := s.store.DeletedWithData(ctx)
	if err != nil {
		return err
	}
	for _, img := range deleted {
		s.removeData(ctx, img)
	}
	return s.importer.recoverImports(ctx, single, cutoff)
}
