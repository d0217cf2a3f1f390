package image

import (
	"context"
	"time"
)

// Shared data within a store. Ten projects uploading the same cloud image
// need not keep ten copies: an upload or an import's copy (recordUpload,
// importJob.record) whose data (its size and the sha512 glint computed
// while receiving it, never a client's claim) matches data
// already in the same store takes a reference to that data, and its own
// freshly written copy is dropped. The records store keeps the references
// (DataRefs); data goes only when its last reference does. Data is never
// shared across stores, and each image keeps its own size, checksums and
// quota usage, as Glance defines them.
//
// Only data registered by a sharing upload or import is ever shared;
// data recorded any other way (locations, images migrated from Glance,
// uploads and imports from before sharing) belongs to its one image as
// always. Whatever gives up an image's hold on data (deletion, a failed
// or undone import, a removed location) releases it (releaseBlob), so
// shared data goes only with its last user.

// DataRefs is the part of the Store that records shared data: per store,
// a blob with its size and sha512, and the images referring to it. Every
// change is one transaction, so that adopting data and releasing its last
// reference exclude each other: data is never removed while an image
// refers to it, and never adopted once its removal is decided.
type DataRefs interface {
	// FinishShared is FinishUpload for data that may be shared. r.Location
	// ("store:key") is the upload's own, committed copy. In the same write
	// that activates the image, the store looks up data of r.Size and
	// r.HashValue (sha512) in that store: if there is some, the image
	// refers to it and its location is that data's; if not, r.Location's
	// data is recorded as the store's copy of it, with this image as its
	// one reference. It returns the location recorded; when that is not
	// r.Location, the upload's copy is unused and the caller removes it.
	// ErrConflict (and nothing recorded) when the image is no longer
	// saving, as FinishUpload.
	FinishShared(ctx context.Context, id string, r UploadResult, at time.Time) (string, error)

	// ImportShared is UpdateImport for an import's copy of data that may
	// be shared (r: its size, sha512 and committed location), as
	// FinishShared is for an upload: in the same write as u, the image
	// refers to the store's data of r.Size and r.HashValue, or r.Location
	// becomes that data, and the location recorded (added to the image's
	// list, after u.AddLocations) is returned. When it is not r.Location,
	// the import's copy is unused and the caller removes it. An error
	// (the image gone, moved on, not locked by taskID) records nothing.
	ImportShared(ctx context.Context, id, taskID string, u ImportUpdate, r UploadResult, at time.Time) (string, error)

	// ReleaseData drops image id's reference to the data at location and
	// tells whether no image refers to it any more, so that it may be
	// removed; data never shared has no references and is unused.
	// Releasing twice is harmless (recovery repeats it).
	ReleaseData(ctx context.Context, id, location string) (unused bool, err error)

	// DataReferences counts the images referring to the data at location
	// (0 for data never shared).
	DataReferences(ctx context.Context, location string) (int64, error)

	// DataSharing sums the shared data of each store, by store id.
	DataSharing(ctx context.Context) ([]StoreSharing, error)
}

// StoreSharing is what sharing saves in one store.
type StoreSharing struct {
	Store string
	// Blobs are the data kept once, Images the references to them.
	Blobs, Images int64
	// Bytes is the size of the data kept; Saved, the bytes further copies
	// would have taken (each blob's size times its references beyond one).
	Bytes, Saved int64
}

// shares tells whether uploads to store share identical data.
func (st Stores) shares(store string) bool { return st.Shared[store] }

// recordUpload activates an uploaded image: with sharing on in its store,
// through FinishShared, dropping the upload's own copy when the image
// took a reference to identical data instead.
func (s *Service) recordUpload(ctx context.Context, id string, r UploadResult) error {
	store, _ := splitLocation(r.Location)
	if !s.stores.shares(store) {
		return s.store.FinishUpload(ctx, id, r, s.now())
	}
	loc, err := s.store.FinishShared(ctx, id, r, s.now())
	if err != nil {
		return err
	}
	if loc != r.Location {
		// Nothing refers to the copy: it was never recorded.
		s.discard(ctx, r.Location)
		s.log.InfoContext(ctx, "upload shares identical data", "image_id", id, "location", loc, "bytes", r.Size)
	}
	return nil
}

// releaseBlob removes image id's data at loc unless other images still
// refer to it.
func (s *Service) releaseBlob(ctx context.Context, id, loc string) error {
	// References are to the data's store and key, whatever metadata the
	// locations API attached to this image's location of it.
	unused, err := s.store.ReleaseData(ctx, id, locationBase(loc))
	if err != nil {
		return err
	}
	if !unused {
		return nil
	}
	return s.deleteBlob(ctx, loc)
}

// releaseData is releaseBlob for clean-ups, which log a failure: what it
// leaves is an orphan blob, never data removed under an image.
func (s *Service) releaseData(ctx context.Context, id, loc string) {
	if err := s.releaseBlob(ctx, id, loc); err != nil {
		s.log.ErrorContext(ctx, "releasing image data", "image_id", id, "location", loc, "err", err)
	}
}

// checkNotShared refuses a location naming data that images share: a
// record holding it without a reference would lose it when they go.
func (s *Service) checkNotShared(ctx context.Context, url, store, key string) error {
	n, err := s.store.DataReferences(ctx, location(store, key))
	if err != nil {
		return err
	}
	if n > 0 {
		return newError(ErrConflict, "Invalid location: %s holds data that %d images share", url, n)
	}
	return nil
}
