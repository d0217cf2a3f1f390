package image

import (
	"context"
	"crypto"
	"encoding"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// Resumable uploads. A PUT of image data (upload or stage) whose body
// breaks off keeps what it received as a partial upload, instead of
// discarding it: the blob driver's checkpoint (blob.Resumer), the hash
// state and the format inspector's state go to the records store, so a
// later PUT, on any node, continues at the next byte and the final hashes
// cover the whole image without reading back what was kept. The image
// itself returns to queued, as Glance leaves it after a failed upload, so
// a client that knows nothing of this sees no change. The protocol
// (Content-Range continuation) lives at the API edge; the service takes
// offsets.

// Partial upload kinds: the data of PUT /file or of PUT /stage.
const (
	PartialFile  = "file"
	PartialStage = "stage"
)

// DefaultResumeTTL is how long a partial upload is kept after its last
// byte arrived, when Options.ResumeTTL is zero; MaxResumeTTL bounds the
// setting (below blob.KeepPartials, so the records decide).
const (
	DefaultResumeTTL = 24 * time.Hour
	MaxResumeTTL     = 30 * 24 * time.Hour
)

// Partial is a partial upload: the bytes [0, Offset) of an image's data,
// kept in a blob driver's resumable state.
type Partial struct {
	ImageID string
	Kind    string // PartialFile or PartialStage
	Owner   string // the image's owner, whose quota the bytes count against
	Store   string // the store the data goes to ("" for staging)
	Key     string // the blob key
	Offset  int64
	// Total is the image size the client announced, -1 when unknown.
	Total int64
	// HashState is the state of the hashes after Offset bytes, each
	// named: md5, sha512 and a signed image's signature hash (nil for
	// staged data, which is not hashed); FormatState the inspector's;
	// BlobState the driver's checkpoint.
	HashState, FormatState, BlobState []byte
	CreatedAt, UpdatedAt, ExpiresAt   time.Time
}

// PartialStore keeps partial uploads; part of Store.
type PartialStore interface {
	// SavePartial inserts or replaces the partial upload of p.ImageID.
	// ErrNotFound when the image is missing or deleted.
	SavePartial(ctx context.Context, p *Partial) error
	// GetPartial returns an image's partial upload, or ErrNotFound.
	GetPartial(ctx context.Context, imageID string) (*Partial, error)
	// DeletePartial removes it if it is still the one last saved at
	// updatedAt (zero time: whichever); missing is not an error.
	DeletePartial(ctx context.Context, imageID string, updatedAt time.Time) error
	// StalePartials lists up to limit partial uploads that expired
	// before now or whose image is deleted, oldest first.
	StalePartials(ctx context.Context, now time.Time, limit int) ([]*Partial, error)
}

// DataRange places a resumed PUT's body in the image: Start is the offset
// of its first byte, Total the size of the whole image (-1 when the
// client does not know it yet: more bodies follow).
type DataRange struct {
	Start, Total int64
}

// Progress answers "how much did you get".
type Progress struct {
	// Received bytes are kept; the next PUT starts there.
	Received int64
	// Total is the image size announced, -1 when unknown.
	Total int64
	// Done: the data is complete (the image has it, or it is staged).
	Done bool
	// Busy: a PUT of this image's data is running now.
	Busy bool
	// ExpiresAt is when the partial upload is dropped (zero when none).
	ExpiresAt time.Time
}

// OffsetError is a resume refused because it does not start where the
// kept data ends; Offset is where it must start. It is ErrConflict (or
// ErrGone for an expired upload).
type OffsetError struct {
	Err    *Error
	Offset int64
}

func (e *OffsetError) Error() string { return e.Err.Error() }
func (e *OffsetError) Unwrap() error { return e.Err }

func offsetError(kind error, offset int64, format string, args ...any) error {
	return &OffsetError{Err: &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}, Offset: offset}
}

func (s *Service) resumeTTL() time.Duration {
	if s.opts.ResumeTTL > 0 {
		return min(s.opts.ResumeTTL, MaxResumeTTL)
	}
	return DefaultResumeTTL
}

// dataProgress describes what an image has received of kind's data.
func (s *Service) dataProgress(ctx context.Context, img *Image, kind string, busy Status) (Progress, error) {
	pr := Progress{Total: -1, Busy: img.Status == busy}
	switch {
	case kind == PartialFile && img.Location != "" && img.Size != nil,
		kind == PartialStage && img.Status == StatusUploading && img.Size != nil:
		return Progress{Received: *img.Size, Total: *img.Size, Done: true}, nil
	}
	pt, err := s.store.GetPartial(ctx, img.ID)
	if errors.Is(err, ErrNotFound) || (err == nil && pt.Kind != kind) {
		return pr, nil
	}
	if err != nil {
		return pr, err
	}
	if !pr.Busy && !pt.ExpiresAt.After(s.now()) {
		s.dropPartial(ctx, pt)
		return pr, expiredError(pt)
	}
	pr.Received, pr.Total, pr.ExpiresAt = pt.Offset, pt.Total, pt.ExpiresAt
	return pr, nil
}

func expiredError(pt *Partial) error {
	return offsetError(ErrGone, 0, "The partial upload of image %s expired at %s and was discarded; start again from byte 0.",
		pt.ImageID, pt.ExpiresAt.Format(time.RFC3339))
}

// partialFor returns the partial upload a resume at rng continues, once
// the image is in its transfer status (this request owns it): nil to
// start afresh at 0. An offset that is not the kept data's end is refused
// with the right one.
func (s *Service) partialFor(ctx context.Context, id, kind string, rng DataRange) (*Partial, error) {
	pt, err := s.store.GetPartial(ctx, id)
	if errors.Is(err, ErrNotFound) || (err == nil && pt.Kind != kind) {
		pt, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if pt != nil && !pt.ExpiresAt.After(s.now()) {
		s.dropPartial(ctx, pt)
		return nil, expiredError(pt)
	}
	have := int64(0)
	if pt != nil {
		have = pt.Offset
	}
	if rng.Start != have {
		return nil, offsetError(ErrConflict, have, "Image %s has received %d bytes; a resumed upload must start at byte %d, not %d.",
			id, have, have, rng.Start)
	}
	if pt != nil && pt.Total >= 0 && rng.Total >= 0 && pt.Total != rng.Total {
		return nil, offsetError(ErrConflict, have, "Image %s is being uploaded with a total size of %d bytes, not %d.", id, pt.Total, rng.Total)
	}
	return pt, nil
}

// dropPartial discards a partial upload's data and record.
func (s *Service) dropPartial(ctx context.Context, pt *Partial) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := s.discardPartialData(ctx, pt); err != nil {
		s.log.ErrorContext(ctx, "discarding a partial upload", "image_id", pt.ImageID, "err", err)
		return // the record stays, so the sweeper tries again
	}
	if err := s.store.DeletePartial(ctx, pt.ImageID, pt.UpdatedAt); err != nil {
		s.log.ErrorContext(ctx, "forgetting a partial upload", "image_id", pt.ImageID, "err", err)
	}
}

func (s *Service) discardPartialData(ctx context.Context, pt *Partial) error {
	driver := s.partialDriver(pt)
	if driver == nil {
		return nil // a store no longer configured: nothing to reach
	}
	r, ok := blob.As[blob.Resumer](driver)
	if !ok {
		return nil
	}
	err := r.Discard(ctx, pt.BlobState)
	if errors.Is(err, blob.ErrResumeState) {
		return nil // nothing usable there, nothing to remove
	}
	return err
}

func (s *Service) partialDriver(pt *Partial) blob.Driver {
	if pt.Kind == PartialStage {
		return s.opts.Import.Staging
	}
	return s.stores.Drivers[pt.Store]
}

// dropPartialOf discards whatever partial upload an image has (a plain PUT
// starts over; a deleted image keeps nothing).
func (s *Service) dropPartialOf(ctx context.Context, id string) {
	pt, err := s.store.GetPartial(ctx, id)
	if err == nil {
		s.dropPartial(ctx, pt)
	} else if !errors.Is(err, ErrNotFound) {
		s.log.ErrorContext(ctx, "reading a partial upload", "image_id", id, "err", err)
	}
}

// SweepPartials discards partial uploads that expired or whose image was
// deleted. Every node may run it: a partial upload is only ever changed
// by the request holding its image's transfer status, and the record
// goes only if it is still the one read.
func (s *Service) SweepPartials(ctx context.Context) error {
	for {
		stale, err := s.store.StalePartials(ctx, s.now(), 100)
		if err != nil || len(stale) == 0 {
			return err
		}
		dropped := 0
		for _, pt := range stale {
			img, err := s.store.GetImage(ctx, pt.ImageID)
			if err == nil && !img.IsDeleted() && (img.Status == StatusSaving || img.Status == StatusUploading) {
				continue // a PUT is continuing it right now
			}
			if err := s.discardPartialData(ctx, pt); err != nil {
				s.log.ErrorContext(ctx, "discarding an expired partial upload", "image_id", pt.ImageID, "err", err)
				continue
			}
			if err := s.store.DeletePartial(ctx, pt.ImageID, pt.UpdatedAt); err != nil {
				return err
			}
			dropped++
			s.log.InfoContext(ctx, "partial upload discarded", "image_id", pt.ImageID, "bytes", pt.Offset,
				"expired_at", pt.ExpiresAt)
		}
		if dropped == 0 || len(stale) < 100 {
			return nil
		}
	}
}

// hashStateVersion opens a hash state that names its hashes: md5 and
// sha512, and the signature's hash of a signed image (SHA-224, SHA-256 or
// SHA-384; a SHA-512 signature uses sha512's). A state from before names
// none: it holds md5's and sha512's, and its first byte, the high byte of
// md5's length, is 0.
const hashStateVersion = 1

// state is the states of d's hashes: the version byte, then for each its
// name (crypto.Hash's, one byte of length), and its state, four bytes of
// length. Go's hashes marshal their whole state, whose last 8 bytes are
// the count of bytes hashed.
func (d *digester) state() ([]byte, error) {
	out := []byte{hashStateVersion}
	for i, h := range d.hashes {
		b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, err
		}
		name := d.kinds[i].String()
		out = append(append(out, byte(len(name))), name...)
		out = binary.BigEndian.AppendUint32(out, uint32(len(b)))
		out = append(out, b...)
	}
	return out, nil
}

// errHashState: the kept hash state is not one of n bytes.
var errHashState = errors.New("hash state does not match the data kept")

// missingHashError: the kept state has no state of a hash the data needs
// now: the image's signature hash method changed since the partial
// upload began (or the image was signed since).
type missingHashError struct{ kind crypto.Hash }

func (e *missingHashError) Error() string {
	return "the partial upload was not hashed with " + e.kind.String()
}

// restore sets the hashes to state, which must have counted exactly n
// bytes. The state may hold hashes d does not compute (a signature's,
// when the image is no longer signed with that method): they are left
// out. A hash d needs and state lacks is a missingHashError.
func (d *digester) restore(state []byte, n int64) error {
	saved, err := parseHashState(state)
	if err != nil {
		return err
	}
	for i, kind := range d.kinds {
		b, ok := saved[kind.String()]
		if !ok {
			return &missingHashError{kind}
		}
		if len(b) < 8 || binary.BigEndian.Uint64(b[len(b)-8:]) != uint64(n) {
			return errHashState
		}
		if err := d.hashes[i].(encoding.BinaryUnmarshaler).UnmarshalBinary(b); err != nil {
			return errHashState
		}
	}
	return nil
}

// parseHashState splits a state into the hashes' states by name.
func parseHashState(state []byte) (map[string][]byte, error) {
	legacy := len(state) > 0 && state[0] == 0
	if !legacy {
		if len(state) == 0 || state[0] != hashStateVersion {
			return nil, errHashState
		}
		state = state[1:]
	}
	saved := map[string][]byte{}
	for i := 0; len(state) > 0; i++ {
		var name string
		if legacy {
			if i > 1 {
				return nil, errHashState
			}
			name = []crypto.Hash{crypto.MD5, crypto.SHA512}[i].String()
		} else {
			l := int(state[0])
			if l == 0 || 1+l > len(state) {
				return nil, errHashState
			}
			name, state = string(state[1:1+l]), state[1+l:]
		}
		if len(state) < 4 {
			return nil, errHashState
		}
		l := int(binary.BigEndian.Uint32(state))
		state = state[4:]
		if l > len(state) {
			return nil, errHashState
		}
		if _, dup := saved[name]; dup {
			return nil, errHashState
		}
		saved[name], state = state[:l], state[l:]
	}
	if legacy && len(saved) != 2 {
		return nil, errHashState
	}
	return saved, nil
}
