package image

import (
	"context"
	"errors"
	"io"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
)

// stagingKey is where an image's staged data lives in the staging store.
func (s *importer) stagingKey(id string) string { return s.opts.Import.StagingPrefix + id }

// Stage receives data for a later glance-direct import (PUT
// /v2/images/{id}/stage). The image moves queued → uploading, the data
// streams into the staging store, and the staged size is recorded. The
// staging store is shared by every node, so the import may run anywhere
// (Glance keeps staged data on the node that received it and proxies the
// import there).
func (s *importer) Stage(ctx context.Context, p caller.Principal, id string, body io.Reader, declared int64) error {
	if !s.methodEnabled(MethodGlanceDirect) {
		return newError(ErrNotFound, "'glance-direct' method is not available at this site.")
	}
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := s.authorize(ctx, p, "modify_image", img); err != nil {
		return err
	}
	if declared > s.opts.SizeCap {
		return errTooBig
	}
	if img.Status != StatusQueued {
		return newError(ErrConflict, "Image status transition from %s to uploading is not allowed", img.Status)
	}
	owner := ""
	if img.Owner != nil {
		owner = *img.Owner
	}
	limit, err := s.startData(ctx, id, owner, declared, QuotaImageStageTotal, StatusUploading)
	if err != nil {
		return err
	}
	n, err := s.receiveStaged(ctx, id, body, declared, limit)
	if err != nil {
		s.unstage(ctx, id)
		return err
	}
	props := map[string]string{}
	if host := s.opts.Import.StageHost; host != "" {
		props[propStageHost] = host
	}
	err = s.store.UpdateImport(context.WithoutCancel(ctx), id, "", ImportUpdate{IfStatus: []Status{StatusUploading},
		Size: &n, SetProps: props}, s.now())
	if err != nil {
		s.unstage(ctx, id)
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			return newError(ErrGone, "Image %s could not be found after upload. The image may have been deleted during the upload.", id)
		}
		return err
	}
	return nil
}

// receiveStaged streams the body into the staging store.
func (s *importer) receiveStaged(ctx context.Context, id string, body io.Reader, declared int64, limit uploadLimit) (int64, error) {
	w, err := s.opts.Import.Staging.Writer(ctx, s.stagingKey(id))
	if err != nil {
		return 0, err
	}
	beat := &heartbeat{r: body, beat: func() { s.touchStatus(ctx, id, StatusUploading) }}
	n, err := copyLimited(w, beat, limit.bytes, limit.err)
	if err == nil && declared >= 0 && n != declared {
		err = newError(ErrInvalid, "Size of uploaded data (%d bytes) does not match the declared size (%d bytes).", n, declared)
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = w.Commit(ctx)
	}
	if err != nil {
		if cerr := w.Cancel(context.WithoutCancel(ctx)); cerr != nil {
			s.log.ErrorContext(ctx, "cancelling staging writer", "image_id", id, "err", cerr)
		}
		return 0, uploadError(err)
	}
	return n, nil
}

// unstage undoes a failed stage: the staged data goes, the image returns
// to queued (Glance's _unstage).
func (s *importer) unstage(ctx context.Context, id string) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	s.removeStaged(cleanup, id)
	if err := s.store.SetStatus(cleanup, id, StatusUploading, StatusQueued, s.now()); err != nil && !errors.Is(err, ErrConflict) {
		s.log.ErrorContext(ctx, "restoring image to queued after staging", "image_id", id, "err", err)
	}
}

// removeStaged deletes an image's staged data, if any.
func (s *importer) removeStaged(ctx context.Context, id string) {
	if !s.imports() {
		return
	}
	err := s.opts.Import.Staging.Delete(ctx, s.stagingKey(id))
	if err != nil && !errors.Is(err, blob.ErrNotFound) {
		s.log.ErrorContext(ctx, "removing staged data", "image_id", id, "err", err)
	}
}

// touchStatus refreshes updated_at of an image still in status st (the
// heartbeat of a running stage, as touch is for uploads).
func (s *importer) touchStatus(ctx context.Context, id string, st Status) {
	if err := s.store.SetStatus(ctx, id, st, st, s.now()); err != nil {
		s.log.WarnContext(ctx, "refreshing a heartbeat", "image_id", id, "err", err)
	}
}

// copyLimited copies src to dst, failing with errTooBig past limit bytes
// and marking read failures as the client's (bodyError), like copyHashed.
func copyLimited(dst io.Writer, src io.Reader, limit int64, over error) (int64, error) {
	bufp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bufp)
	buf := *bufp
	var total int64
	for {
		n, rerr := fill(src, buf)
		if n > 0 {
			if total+int64(n) > limit {
				return total, over
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return total, err
			}
			total += int64(n)
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			return total, &bodyError{rerr}
		}
	}
}
