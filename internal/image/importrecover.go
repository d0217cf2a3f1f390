package image

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"time"

	"github.com/glint-image/glint/internal/task"
)

// recoverImports repairs what a crash can leave of staging and imports:
//   - a stage cut off (uploading, no size yet, heartbeat stopped) returns
//     to queued and its partial data goes;
//   - an image importing, or holding an import lock, whose task is gone
//     or finished returns to queued (copy-image: just loses the lock), so
//     no image waits for a task that will never run. Tasks still pending
//     or processing are the task runners' to resume.
//
// single says this is the only node: every cut-off stage is stranded, and
// the import work directory holds nothing live. With several nodes, a
// stage counts as cut off when its heartbeat is older than cutoff.
func (s *importer) recoverImports(ctx context.Context, single bool, cutoff time.Time) error {
	if !s.imports() {
		return nil
	}
	if single && s.opts.Import.WorkDir != "" {
		entries, _ := os.ReadDir(s.opts.Import.WorkDir)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(s.opts.Import.WorkDir, e.Name()))
		}
	}
	imgs, err := s.store.Imports(ctx)
	if err != nil {
		return err
	}
	for _, img := range imgs {
		if img.Status == StatusUploading && img.Size == nil && img.Properties[ImportLock] == "" {
			if !single && img.UpdatedAt.After(cutoff) {
				continue
			}
			if err := s.store.SetStatus(ctx, img.ID, StatusUploading, StatusQueued, s.now()); err != nil {
				if errors.Is(err, ErrConflict) {
					continue
				}
				return err
			}
			s.removeStaged(ctx, img.ID)
			s.log.InfoContext(ctx, "image returned to queued after an interrupted stage", "image_id", img.ID)
			continue
		}
		if err := s.recoverLock(ctx, img); err != nil {
			return err
		}
	}
	return nil
}

// recoverLock ends an import whose task will not run any more.
func (s *importer) recoverLock(ctx context.Context, img *Image) error {
	holder, locked := img.Properties[ImportLock]
	if !locked && img.Status != StatusImporting {
		return nil
	}
	if locked {
		t, err := s.opts.Import.Tasks.GetTask(ctx, holder)
		switch {
		case err == nil && !t.Status.Finished():
			return nil // a runner has it, or will
		case err != nil && !errors.Is(err, task.ErrNotFound):
			return err
		}
	}
	u := ImportUpdate{DelProps: []string{ImportLock, propBytesDone, propBytesTotal}}
	if img.Status == StatusImporting {
		u.IfStatus, u.Status = []Status{StatusImporting}, StatusQueued
	}
	if err := s.store.UpdateImport(ctx, img.ID, holder, u, s.now()); err != nil {
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	}
	if img.Status == StatusImporting {
		for _, loc := range img.Locations() {
			s.releaseData(ctx, img.ID, loc) // shared data others use stays
		}
		s.removeStaged(ctx, img.ID)
	}
	s.log.WarnContext(ctx, "ended an import left without a task", "image_id", img.ID, "task_id", holder, "status", img.Status)
	return nil
}
