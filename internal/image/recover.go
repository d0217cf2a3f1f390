package image

import (
	"context"
	"errors"

	"glint/internal/blob"
)

// Recover repairs what a crash can leave behind. Run it at start, before
// serving requests:
//   - the blob driver's temporary state (partial uploads) is swept;
//   - images stranded in saving go back to queued, and any blob written for
//     them but never recorded is removed, so the upload can be repeated;
//   - deleted images whose data removal did not finish lose their data.
//
// With several nodes sharing one store this must only run where no other
// node is mid-upload; for the embedded default there is one node.
func (s *Service) Recover(ctx context.Context) error {
	if sw, ok := s.blobs.(blob.Sweeper); ok {
		if err := sw.Sweep(ctx); err != nil {
			return err
		}
	}
	stranded, err := s.store.Stranded(ctx)
	if err != nil {
		return err
	}
	for _, img := range stranded {
		if err := s.store.SetStatus(ctx, img.ID, img.Status, StatusQueued, s.now()); err != nil && !errors.Is(err, ErrConflict) {
			return err
		}
		s.discard(ctx, img.ID)
		s.log.InfoContext(ctx, "image returned to queued after an interrupted upload", "image_id", img.ID)
	}
	deleted, err := s.store.DeletedWithData(ctx)
	if err != nil {
		return err
	}
	for _, img := range deleted {
		s.removeData(ctx, img)
	}
	return nil
}
