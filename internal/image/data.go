package image

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
)

// cleanupTimeout bounds the writes that undo a failed upload; they run even
// when the request's own context is gone.
const cleanupTimeout = 30 * time.Second

// Upload receives an image's data. declared is the size the client
// announced (Content-Length or x-openstack-image-size), -1 if unknown.
//
// The image moves queued → saving (compare and set: of two concurrent
// uploads one wins, the other gets 409), the data streams through both
// hashes into a blob writer in constant memory, the blob is made durable,
// and only then does the record become active. Any failure on the way
// returns the image to queued so the upload can be retried; the data is
// discarded, except when the body broke off and the store can keep it: it
// then stays as a partial upload that ResumeUpload continues (a plain
// Upload starts over, as in Glance).
//
// store names the store to write to ("" for the default; Glance's
// X-Image-Meta-Store header).
func (s *Service) Upload(ctx context.Context, p caller.Principal, id, store string, body io.Reader, declared int64) error {
	_, err := s.upload(ctx, p, id, store, body, declared, nil)
	return err
}

// UploadProgress tells how much of an image's upload was received.
func (s *Service) UploadProgress(ctx context.Context, p caller.Principal, id string) (Progress, error) {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return Progress{}, err
	}
	if err := s.authorize(ctx, p, "upload_image", img); err != nil {
		return Progress{}, err
	}
	return s.dataProgress(ctx, img, PartialFile, StatusSaving)
}

// ResumeUpload continues an upload with a body holding the bytes from
// rng.Start on. It must start where the kept data ends (else an
// OffsetError says where). Progress.Done tells whether the image is now
// complete (active) or more data is expected.
func (s *Service) ResumeUpload(ctx context.Context, p caller.Principal, id, store string, body io.Reader, rng DataRange) (Progress, error) {
	return s.upload(ctx, p, id, store, body, -1, &rng)
}

func (s *Service) upload(ctx context.Context, p caller.Principal, id, store string, body io.Reader, declared int64, rng *DataRange) (Progress, error) {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return Progress{}, err
	}
	if err := s.authorize(ctx, p, "upload_image", img); err != nil {
		return Progress{}, err
	}
	if img.DiskFormat == nil || img.ContainerFormat == nil {
		return Progress{}, newError(ErrInvalid, "Properties disk_format, container_format must be set prior to saving data.")
	}
	t := &transfer{kind: PartialFile, img: img, owner: ownerOf(img), key: id, total: declared,
		heart: func() { s.touch(ctx, id) }}
	if rng != nil {
		t.resumed, t.start, t.total = true, rng.Start, rng.Total
	}
	if t.total > s.opts.SizeCap {
		return Progress{}, errTooBig
	}
	if !CanTransition(img.Status, StatusSaving) {
		return Progress{}, newError(ErrConflict, "Image status transition from %s to saving is not allowed", img.Status)
	}
	if t.storeID, t.driver, err = s.pickStore(store); err != nil {
		return Progress{}, err
	}
	if t.sig, err = s.signatureCheck(ctx, p, img); err != nil {
		if !errors.Is(err, ErrUnavailable) {
			s.dropRefusedPartial(ctx, id, err)
		}
		return Progress{}, err
	}
	if rng == nil && img.Status == StatusQueued {
		// A plain PUT starts over: what an earlier one kept must not
		// count against the quota this one is checked against. (It is
		// dropped again once this request holds the image, in case a
		// resume kept more meanwhile.)
		s.dropPartialOf(ctx, id)
	}
	limit, err := s.startData(ctx, id, t.owner, t.quotaDeclared(), QuotaImageSizeTotal, StatusSaving)
	if err != nil {
		return Progress{}, err
	}
	// The image is this request's now (saving): the partial upload cannot
	// change under it, nor can its signature properties, which a PATCH
	// may have changed since they were checked. A resume goes to the
	// store its partial upload is in.
	err = s.sameSignature(ctx, img)
	if err == nil && rng != nil {
		var pt *Partial
		if pt, err = s.partialFor(ctx, id, PartialFile, *rng); err == nil && pt != nil {
			if store != "" && store != pt.Store {
				err = offsetError(ErrConflict, pt.Offset, "The upload of image %s goes to store %s, not %s.", id, pt.Store, store)
			} else {
				t.storeID, t.driver, err = s.pickStore(pt.Store)
			}
		}
	}
	if err == nil {
		err = s.openData(ctx, t, rng)
	}
	if err != nil {
		s.restoreQueued(ctx, id, err)
		return Progress{}, err
	}
	got, done, err := s.stream(ctx, t, body, limit, declared)
	if !done {
		// A body that broke off is a failed upload (its notification goes
		// out) even though its bytes are kept; a chunk is not (err nil).
		s.restoreQueued(ctx, id, err)
		return Progress{Received: got, Total: t.total}, err
	}
	virtual, err := s.checkFormat(ctx, img, t.inspect.Report())
	if err == nil {
		err = verifySignature(id, t.sig, t.d)
	}
	if err == nil {
		err = t.w.Commit(ctx)
	}
	if err != nil {
		t.cancel(ctx, s)
		err = uploadError(err)
		s.restoreQueued(ctx, id, err)
		return Progress{}, err
	}
	s.forgetPartial(ctx, t)
	result := UploadResult{Size: got, Checksum: t.d.md5Hex(), HashAlgo: HashAlgo, HashValue: t.d.sha512Hex(),
		VirtualSize: virtual, Location: location(t.storeID, t.key)}
	if err := s.finishUpload(ctx, id, t.owner, result); err != nil {
		return Progress{}, err
	}
	return Progress{Received: got, Total: got, Done: true}, nil
}

// uploadLimit is the most an upload or a stage may send: the size cap, or
// less when the owner's byte quota has less room. The quota's refusal is
// worded as a quota refusal.
type uploadLimit struct {
	bytes int64
	err   error
}

// streamRefusals word the refusal of data that streams past a byte quota.
var streamRefusals = map[string]string{
	QuotaImageSizeTotal:  "Image exceeds the storage quota: project %s may store %d MiB (image_size_total) and this upload would pass it.",
	QuotaImageStageTotal: "Staged data exceeds the staging quota: project %s may stage %d MiB (image_stage_total) and this upload would pass it.",
}

// streamLimit is how much data owner may stream under quota, so that data
// of an undeclared size (chunked) is stopped at the quota while it
// streams.
func (s *Service) streamLimit(ctx context.Context, owner, quota string) (uploadLimit, error) {
	remaining, limit, err := s.remainingBytes(ctx, owner, quota)
	if err != nil {
		return uploadLimit{}, err
	}
	if remaining < 0 || remaining >= s.opts.SizeCap {
		return uploadLimit{bytes: s.opts.SizeCap, err: errTooBig}, nil
	}
	return uploadLimit{bytes: remaining, err: newError(ErrTooLarge, streamRefusals[quota], owner, limit)}, nil
}

// startData checks the owner's quotas for data about to stream into an
// image (one more image receiving data, the declared size counted against
// quota: image_size_total for an upload, image_stage_total for a stage)
// and moves the image from queued to `to` (saving, uploading), as one
// step per project so concurrent transfers cannot all pass one check. It
// returns how much may stream: the size cap, or what is left of quota, so
// data of an undeclared size (chunked) is stopped at the quota while it
// streams.
func (s *Service) startData(ctx context.Context, id, owner string, declared int64, quota string, to Status) (uploadLimit, error) {
	unlock, err := s.lockProject(ctx, owner)
	if err != nil {
		return uploadLimit{}, err
	}
	defer unlock()
	deltas := map[string]int64{QuotaImageCountUploading: 1}
	if declared > 0 {
		deltas[quota] = declared / mib
	}
	if err := s.enforce(ctx, owner, deltas); err != nil {
		return uploadLimit{}, err
	}
	limit, err := s.streamLimit(ctx, owner, quota)
	if err != nil {
		return uploadLimit{}, err
	}
	if err := s.store.SetStatus(ctx, id, StatusQueued, to, s.now()); err != nil {
		return uploadLimit{}, s.transitionError(ctx, id, to, err)
	}
	return limit, nil
}

// finishUpload re-checks the size quota against what finished meanwhile
// and makes the image active, or discards the data.
func (s *Service) finishUpload(ctx context.Context, id, owner string, result UploadResult) error {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	unlock, err := s.lockProject(cleanup, owner)
	if err != nil {
		s.discard(cleanup, result.Location)
		s.restoreQueued(ctx, id, err)
		return err
	}
	defer unlock()
	remaining, limit, err := s.remainingBytes(cleanup, owner, QuotaImageSizeTotal)
	if err == nil && remaining >= 0 && result.Size > remaining {
		err = overQuota(owner, QuotaImageSizeTotal, limit, limit-remaining/mib, (result.Size+mib-1)/mib)
	}
	if err == nil {
		err = s.recordUpload(cleanup, id, result)
	}
	if err == nil {
		return nil
	}
	s.discard(cleanup, result.Location)
	if errors.Is(err, ErrConflict) {
		return newError(ErrGone, "Image %s could not be found after upload. The image may have been deleted during the upload.", id)
	}
	s.restoreQueued(ctx, id, err)
	return err
}

type failureKey struct{}

// FailureOf is why an upload gave up, on the context of the store call
// that returns its image from saving to queued; nil on any other call.
// Store decorators report it (Glance's ERROR image.upload notification).
func FailureOf(ctx context.Context) error {
	err, _ := ctx.Value(failureKey{}).(error)
	return err
}

// uploadError keeps domain errors; a body that could not be read (a
// client gone, stalled past the idle timeout, or a body cut short) is the
// client's fault (400); anything else failed in the store (503), and the
// upload may be retried.
func uploadError(err error) error {
	var de *Error
	var be *bodyError
	switch {
	case errors.As(err, &de):
		return err
	case errors.As(err, &be) && errors.Is(be.err, ErrTimeout):
		return &Error{Kind: ErrTimeout, Msg: "Upload stalled: the client sent no data for too long and was cut off.", cause: be.err}
	case errors.As(err, &be):
		return newError(ErrInvalid, "Upload interrupted: %v", be.err)
	case errors.Is(err, context.Canceled):
		return newError(ErrInvalid, "Upload interrupted: %v", err)
	}
	return &Error{Kind: ErrUnavailable, Msg: "The image store could not take the data; try again later.", cause: err}
}

// restoreQueued returns an image from saving to queued after an upload
// failed with cause (Glance's ImageDataController._restore). The store
// call carries the cause (FailureOf), for the failure's notification.
func (s *Service) restoreQueued(ctx context.Context, id string, cause error) {
	cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	cleanup = context.WithValue(cleanup, failureKey{}, cause)
	if err := s.store.SetStatus(cleanup, id, StatusSaving, StatusQueued, s.now()); err != nil && !errors.Is(err, ErrConflict) {
		s.log.ErrorContext(ctx, "restoring image to queued", "image_id", id, "err", err)
	}
}

func (s *Service) discard(ctx context.Context, loc string) {
	if err := s.deleteBlob(ctx, loc); err != nil {
		s.log.ErrorContext(ctx, "discarding image data", "location", loc, "err", err)
	}
}

// transitionError explains why an image could not enter status to.
func (s *Service) transitionError(ctx context.Context, id string, to Status, err error) error {
	if !errors.Is(err, ErrConflict) {
		return err
	}
	img, gerr := s.store.GetImage(ctx, id)
	if gerr != nil || img.IsDeleted() {
		return notFoundImage(id)
	}
	return newError(ErrConflict, "Image status transition from %s to %s is not allowed", img.Status, to)
}

// ByteRange is a parsed single HTTP byte range: Start-End inclusive, End
// -1 for "to the end"; or, with Suffix > 0, the last Suffix bytes.
type ByteRange struct {
	Start, End int64
	Suffix     int64
}

// Data is an open image download.
type Data struct {
	Image *Image
	// Body is nil when the image has no data (the API answers 204).
	Body io.ReadCloser
	// Offset and Length are the bytes of the image Body holds.
	Offset, Length int64
	Partial        bool
	// Cached says this node's image cache served the data (a copy),
	// not the store.
	Cached bool
}

// Download opens an image's data, or the part of it rng names.
func (s *Service) Download(ctx context.Context, p caller.Principal, id string, rng *ByteRange) (*Data, error) {
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, p, "download_image", img); err != nil {
		return nil, err
	}
	if img.Status == StatusDeactivated && !p.IsAdmin() {
		return nil, newError(ErrForbidden, "The requested image has been deactivated. Image data download is forbidden.")
	}
	if img.Location == "" || img.Size == nil {
		return &Data{Image: img}, nil
	}
	offset, length, err := resolveRange(rng, *img.Size)
	if err != nil {
		return nil, err
	}
	loc := img.locationIn(s.stores.Default)
	if loc == "" {
		loc = img.Locations()[0]
	}
	driver, key, err := s.driverFor(loc)
	if err != nil {
		return nil, err
	}
	body, cached, err := s.readData(ctx, img, driver, key, offset)
	if errors.Is(err, blob.ErrNotFound) {
		s.log.ErrorContext(ctx, "image data missing from store", "image_id", id, "key", loc)
		return nil, newError(ErrUnavailable, "Image data for %s is not available.", id)
	}
	if err != nil {
		return nil, err
	}
	return &Data{Image: img, Body: body, Offset: offset, Length: length, Partial: rng != nil, Cached: cached}, nil
}

// resolveRange turns a range into offset and length for an image of size
// bytes, or ErrRange when no byte of it exists.
func resolveRange(rng *ByteRange, size int64) (offset, length int64, err error) {
	if rng == nil {
		return 0, size, nil
	}
	if rng.Suffix > 0 {
		n := min(rng.Suffix, size)
		if n == 0 {
			return 0, 0, newError(ErrRange, "Requested range not satisfiable")
		}
		return size - n, n, nil
	}
	end := rng.End
	if end < 0 || end >= size {
		end = size - 1
	}
	if rng.Start >= size || rng.Start > end {
		return 0, 0, newError(ErrRange, "Requested range not satisfiable")
	}
	return rng.Start, end - rng.Start + 1, nil
}
