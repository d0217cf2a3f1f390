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
// import there). A body that breaks off is kept as a partial upload when
// the staging store can (ResumeStage), and the image returns to queued.
func (s *importer) Stage(ctx context.Context, p caller.Principal, id string, body io.Reader, declared int64) error {
	_, err := s.stage(ctx, p, id, body, declared, nil)
	return err
}

// StageProgress tells how much of an image's staged data was received.
func (s *importer) StageProgress(ctx context.Context, p caller.Principal, id string) (Progress, error) {
	img, err := s.stageable(ctx, p, id)
	if err != nil {
		return Progress{}, err
	}
	return s.dataProgress(ctx, img, PartialStage, StatusUploading)
}

// ResumeStage continues staging from rng.Start (see Service.ResumeUpload).
func (s *importer) ResumeStage(ctx context.Context, p caller.Principal, id string, body io.Reader, rng DataRange) (Progress, error) {
	return s.stage(ctx, p, id, body, -1, &rng)
}

// stageable finds an image the caller may stage data for.
func (s *importer) stageable(ctx context.Context, p caller.Principal, id string) (*Image, error) {
	if !s.methodEnabled(MethodGlanceDirect) {
		return nil, newError(ErrNotFound, "'glance-direct' method is not available at this site.")
	}
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "modify_image", img); err != nil {
		return nil, err
	}
	return img, nil
}

func (s *importer) stage(ctx context.Context, p caller.Principal, id string, body io.Reader, declared int64, rng *DataRange) (Progress, error) {
	img, err := s.stageable(ctx, p, id)
	if err != nil {
		return Progress{}, err
	}
	t := &transfer{kind: PartialStage, img: img, owner: ownerOf(img), driver: s.opts.Import.Staging,
		key: s.stagingKey(id), total: declared, heart: func() { s.touchStatus(ctx, id, StatusUploading) }}
	if rng != nil {
		t.resumed, t.start, t.total = true, rng.Start, rng.Total
	}
	if t.total > s.opts.SizeCap {
		return Progress{}, errTooBig
	}
	if img.Status != StatusQueued {
		return Progress{}, newError(ErrConflict, "Image status transition from %s to uploading is not allowed", img.Status)
	}
	if rng == nil {
		s.dropPartialOf(ctx, id) // a plain PUT starts over (see Service.upload)
	}
	limit, err := s.startData(ctx, id, t.owner, t.quotaDeclared(), QuotaImageStageTotal, StatusUploading)
	if err != nil {
		return Progress{}, err
	}
	if err := s.openData(ctx, t, rng); err != nil {
		s.unstage(ctx, id)
		return Progress{}, err
	}
	n, done, err := s.streamData(ctx, t, body, limit, declared)
	if !done {
		s.requeue(ctx, id)
		return Progress{Received: n, Total: t.total}, err
	}
	if err := t.w.Commit(ctx); err != nil {
		s.cancelData(ctx, t)
		s.unstage(ctx, id)
		return Progress{}, uploadError(err)
	}
	s.forgetPartial(ctx, t)
	props := map[string]string{}
	if host := s.opts.Import.StageHost; host != "" {
		props[propStageHost] = host
	}
	err = s.store.UpdateImport(context.WithoutCancel(ctx), id, "", ImportUpdate{IfStatus: []Status{StatusUploading},
		Size: &n, SetProps: props}, s.now())
	if err != nil {
		s.unstage(ctx, id)
		if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
			return Progress{}, newError(ErrGone, "Image %s could not be found after upload. The image may have been deleted during the upload.", id)
		}
		return Progress{}, err
	}
	return Progress{Received: n, Total: n, Done: true}, nil
}

// unstage undoes a failed stage: the staged data goes, the image returns
// to queued (Glance's _unstage).
func (s *importer) unstage(ctx context.Context, id string) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	s.removeStaged(cleanup, id)
	s.requeue(cleanup, id)
}

// requeue returns an image from uploading to queued: after a failed stage,
// or one whose data is kept as a partial upload.
func (s *importer) requeue(ctx context.Context, id string) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
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
