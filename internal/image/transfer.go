package image

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/diskformat"
)

// transfer is one PUT's share of an image's data (an upload or a stage):
// where it goes, from which byte, and the writer, hashes and inspector,
// fresh or restored from the partial upload it continues.
type transfer struct {
	kind    string // PartialFile or PartialStage
	img     *Image
	owner   string
	storeID string // "" for staging
	driver  blob.Driver
	key     string
	// resumed: the request carried a range (DataRange); a body that ends
	// before the image does is then kept, not refused.
	resumed      bool
	start, total int64 // total -1 when unknown
	prev         *Partial

	w       blob.Writer
	rw      blob.ResumableWriter // w, when the driver can keep partial data
	d       *digester            // uploads only
	sig     SignatureCheck       // a signed image's check (uploads only; nil: unsigned)
	inspect *diskformat.Inspector
	heart   func()
}

func ownerOf(img *Image) string {
	if img.Owner != nil {
		return *img.Owner
	}
	return ""
}

// quotaDeclared is what the transfer will add to its quota, -1 if unknown.
func (t *transfer) quotaDeclared() int64 {
	if t.total < 0 {
		return -1
	}
	return t.total - t.start
}

// open starts the writer (resumable where the driver can) and, for an
// upload, the hashes and the inspector; a continued upload restores them
// from the partial upload. Kept data that cannot be used (gone from the
// store, or a hash state that does not match it) is discarded, and the
// client is told to start again at byte 0.
func (s *Service) openTransfer(ctx context.Context, t *transfer) error {
	r, resumable := blob.As[blob.Resumer](t.driver)
	// Writes outlive a dropped client (its request's ctx ends), so a
	// checkpoint can wait for those in flight (S3 parts).
	wctx := context.WithoutCancel(ctx)
	var err error
	switch {
	case t.prev != nil && !resumable:
		s.dropPartial(ctx, t.prev)
		return offsetError(ErrConflict, 0, "The store of image %s can no longer continue the partial upload; start again from byte 0.", t.img.ID)
	case t.prev != nil:
		t.rw, err = r.Resume(wctx, t.key, t.prev.BlobState)
		if err == nil && t.rw.Size() != t.prev.Offset {
			_ = t.rw.Cancel(wctx)
			err = blob.ErrResumeState
		}
		if errors.Is(err, blob.ErrResumeState) {
			s.log.WarnContext(ctx, "partial upload unusable", "image_id", t.img.ID, "err", err)
			s.dropPartial(ctx, t.prev)
			return offsetError(ErrConflict, 0, "The data kept for image %s is gone; start again from byte 0.", t.img.ID)
		}
		t.w = t.rw
	case resumable:
		t.rw, err = r.ResumableWriter(wctx, t.key)
		t.w = t.rw
	default:
		t.w, err = t.driver.Writer(ctx, t.key)
	}
	if err != nil {
		return uploadError(err)
	}
	// The declared size (already within the size cap and the quota) lets
	// a store allocate the blob once; the writer does not trust it.
	blob.HintSize(t.w, t.total)
	if t.kind != PartialFile {
		return nil
	}
	t.d, t.inspect = newDigester(signatureHashes(t.sig)...), diskformat.New()
	if t.prev == nil {
		return nil
	}
	err = t.d.restore(t.prev.HashState, t.prev.Offset)
	if err == nil && t.inspect.UnmarshalBinary(t.prev.FormatState) != nil {
		err = errHashState
	}
	if err != nil {
		s.log.WarnContext(ctx, "partial upload state does not match its data", "image_id", t.img.ID, "err", err)
		t.d.close()
		t.d = nil
		t.cancel(ctx, s)
		var missing *missingHashError
		if errors.As(err, &missing) {
			// Its signature properties changed while the image was
			// queued between two PUTs: the kept bytes were not hashed
			// for the signature it has now.
			return offsetError(ErrConflict, 0, "The signature hash method of image %s (%s) is not the one its partial upload was hashed with; the partial upload was discarded: start again from byte 0.",
				t.img.ID, t.img.Properties["img_signature_hash_method"])
		}
		return offsetError(ErrConflict, 0, "The hash state kept for image %s does not match the %d bytes received; the partial upload was discarded: start again from byte 0.",
			t.img.ID, t.prev.Offset)
	}
	return nil
}

// cancel drops the writer's data and the record of the partial upload it
// continued, if any.
func (t *transfer) cancel(ctx context.Context, s *Service) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := t.w.Cancel(cleanup); err != nil {
		s.log.ErrorContext(ctx, "cancelling blob writer", "image_id", t.img.ID, "err", err)
	}
	if t.prev != nil {
		if err := s.store.DeletePartial(cleanup, t.img.ID, time.Time{}); err != nil {
			s.log.ErrorContext(ctx, "forgetting a partial upload", "image_id", t.img.ID, "err", err)
		}
	}
}

// stream copies body into the transfer and returns the image's bytes
// received in all (start included). done is false when the data goes on
// in a later PUT: what came was kept (a resumed body ending before the
// image, or a body that broke off, err then being why). Any other error
// has discarded the data.
func (s *Service) stream(ctx context.Context, t *transfer, body io.Reader, limit uploadLimit, declared int64) (got int64, done bool, err error) {
	if t.d != nil {
		defer t.d.close()
	}
	limit.bytes = min(limit.bytes, s.opts.SizeCap-t.start)
	src := &heartbeat{r: body, beat: t.heart}
	var n int64
	if t.d != nil {
		n, err = copyHashed(io.MultiWriter(t.w, t.inspect), src, t.d, limit.bytes, limit.err)
	} else {
		n, err = copyLimited(t.w, src, limit.bytes, limit.err)
	}
	got = t.start + n
	switch {
	case err != nil:
	case !t.resumed && declared >= 0 && n != declared:
		err = newError(ErrInvalid, "Size of uploaded data (%d bytes) does not match the declared size (%d bytes).", n, declared)
	case t.total >= 0 && got > t.total:
		err = newError(ErrInvalid, "Size of uploaded data (%d bytes) passes the declared total (%d bytes).", got, t.total)
	case t.resumed && (t.total < 0 || got < t.total):
		if t.rw == nil {
			err = newError(ErrInvalid, "This store cannot keep a partial upload; send the image in one request.")
			break
		}
		if err := s.keepPartial(ctx, t, got); err != nil {
			return got, false, uploadError(err)
		}
		return got, false, nil
	}
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		return got, true, nil
	}
	if t.rw != nil && brokenBody(err) && got > 0 {
		if kerr := s.keepPartial(ctx, t, got); kerr != nil {
			s.log.ErrorContext(ctx, "keeping a partial upload", "image_id", t.img.ID, "bytes", got, "err", kerr)
		} else {
			s.log.InfoContext(ctx, "upload interrupted; partial upload kept", "image_id", t.img.ID, "bytes", got)
		}
		return got, false, uploadError(err)
	}
	t.cancel(ctx, s)
	return got, false, uploadError(err)
}

// brokenBody tells a body that broke off (the client's connection lost,
// cut short or stalled): what arrived is worth keeping.
func brokenBody(err error) bool {
	var be *bodyError
	return errors.As(err, &be) || errors.Is(err, context.Canceled)
}

// keepPartial checkpoints the writer and records the partial upload.
func (s *Service) keepPartial(ctx context.Context, t *transfer, got int64) error {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	now := s.now()
	pt := &Partial{ImageID: t.img.ID, Kind: t.kind, Owner: t.owner, Store: t.storeID, Key: t.key,
		Offset: got, Total: t.total, CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(s.resumeTTL())}
	if t.prev != nil {
		pt.CreatedAt = t.prev.CreatedAt
	}
	var err error
	if t.d != nil {
		if pt.HashState, err = t.d.state(); err == nil {
			pt.FormatState, err = t.inspect.MarshalBinary()
		}
	}
	if err == nil && t.rw.Size() != got {
		err = errors.New("the writer's size does not match the bytes received")
	}
	if err != nil {
		t.cancel(ctx, s)
		return err
	}
	if pt.BlobState, err = t.rw.Checkpoint(cleanup); err != nil {
		t.cancel(ctx, s) // the checkpoint discarded the data; the record goes too
		return err
	}
	if err := s.store.SavePartial(cleanup, pt); err != nil {
		s.dropPartial(ctx, pt)
		return err
	}
	return nil
}

// forgetPartial removes the record of a partial upload whose data was
// just committed.
func (s *Service) forgetPartial(ctx context.Context, t *transfer) {
	if t.prev == nil {
		return
	}
	if err := s.store.DeletePartial(context.WithoutCancel(ctx), t.img.ID, time.Time{}); err != nil {
		s.log.ErrorContext(ctx, "forgetting a partial upload", "image_id", t.img.ID, "err", err)
	}
}

// openData prepares a transfer whose image is already in its transfer
// status (this request holds it): a plain PUT (rng nil) drops any partial
// upload and starts afresh; a resume continues the partial upload it
// names, refused (OffsetError) when it starts elsewhere. Then the writer,
// the hashes and the inspector open.
func (s *Service) openData(ctx context.Context, t *transfer, rng *DataRange) error {
	if rng == nil {
		s.dropPartialOf(ctx, t.img.ID)
	} else {
		var err error
		if t.prev, err = s.partialFor(ctx, t.img.ID, t.kind, *rng); err != nil {
			return err
		}
		if t.total < 0 && t.prev != nil {
			t.total = t.prev.Total // announced by an earlier PUT ("bytes N-M/*" now)
		}
	}
	return s.openTransfer(ctx, t)
}

// streamData is stream for the import workflow.
func (s *Service) streamData(ctx context.Context, t *transfer, body io.Reader, limit uploadLimit, declared int64) (int64, bool, error) {
	return s.stream(ctx, t, body, limit, declared)
}

// cancelData discards a transfer that failed after its body was in.
func (s *Service) cancelData(ctx context.Context, t *transfer) { t.cancel(ctx, s) }
