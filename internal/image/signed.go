package image

import (
	"context"
	"crypto"
	"errors"

	"github.com/glint-image/glint/internal/caller"
)

// Signatures checks signed image data (internal/signature): an image
// whose properties ask for it gets a SignatureCheck before its data is
// read, and the data's digest is verified before the image is activated,
// on upload and on every import path.
type Signatures interface {
	// Check returns nil when props carry no signature, and an error
	// (worded for the client) when the signature cannot be checked: one
	// that is ErrUnavailable when only the key manager failed (asking
	// again later may work), a refusal otherwise.
	Check(ctx context.Context, p caller.Principal, props map[string]string) (SignatureCheck, error)
}

// SignatureCheck verifies one image's data: the data is hashed with Hash
// as it streams, and Verify takes the digest.
type SignatureCheck interface {
	Hash() crypto.Hash
	Verify(digest []byte) error
}

// signatureProps may not change once an image holds data checked
// against them (or is receiving it).
var signatureProps = map[string]bool{
	"img_signature": true, "img_signature_hash_method": true,
	"img_signature_key_type": true, "img_signature_certificate_uuid": true,
}

// signatureLocked reports whether img's signature properties are fixed.
func signatureLocked(img *Image) bool {
	switch img.Status {
	case StatusSaving, StatusImporting, StatusActive, StatusDeactivated:
		return true
	}
	return false
}

// signatureCheck prepares the check of data for img as p, nil when the
// image is not signed or no verifier is configured.
func (s *Service) signatureCheck(ctx context.Context, p caller.Principal, img *Image) (SignatureCheck, error) {
	if s.opts.Signatures == nil {
		return nil, nil
	}
	c, err := s.opts.Signatures.Check(ctx, p, img.Properties)
	if errors.Is(err, ErrUnavailable) {
		return nil, &Error{Kind: ErrUnavailable, cause: unavailableCause(err),
			Msg: "Signature verification for image " + img.ID + " cannot be done now: " + err.Error() +
				". Try again later; what an interrupted upload of it received is kept."}
	}
	if err != nil {
		return nil, signatureError(img.ID, err)
	}
	return c, nil
}

// unavailableCause is what the key manager answered (a refused
// connection, Barbican's 503), which the verifier's error wraps beside
// ErrUnavailable: the log gets it, the client the verifier's words.
func unavailableCause(err error) error {
	if u, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range u.Unwrap() {
			if e != nil && e != ErrUnavailable {
				return e
			}
		}
	}
	return err
}

// signatureHashes is the extra hash a digester computes for c: none when
// the image is not signed, or when c hashes with SHA-512, which the
// digester computes anyway for os_hash_value.
func signatureHashes(c SignatureCheck) []crypto.Hash {
	if c == nil || c.Hash() == crypto.SHA512 {
		return nil
	}
	return []crypto.Hash{c.Hash()}
}

// verifySignature checks the data d digested against c (nothing when c
// is nil).
func verifySignature(id string, c SignatureCheck, d *digester) error {
	if c == nil {
		return nil
	}
	digest := d.sum(c.Hash())
	if digest == nil {
		// Not reached: the digester was made for c (signatureHashes).
		return signatureError(id, errors.New("the data was not hashed with the signature's method"))
	}
	if err := c.Verify(digest); err != nil {
		return signatureError(id, err)
	}
	return nil
}

// signatureError words a refusal as Glance's image_data.py does (400).
func signatureError(id string, err error) error {
	e := &Error{Kind: ErrInvalid, Msg: "Signature verification failed for image " + id + ": " + err.Error()}
	e.cause = errors.Unwrap(err)
	return e
}

// signed reports whether img carries all four signature properties.
func signed(img *Image) bool {
	for k := range signatureProps {
		if _, ok := img.Properties[k]; !ok {
			return false
		}
	}
	return true
}

// prepareSignature sets up the check of a signed image's data for an
// import, as the user who asked for it, with their token when it is still
// known (an external Barbican needs it).
func (j *importJob) prepareSignature(ctx context.Context, img *Image) error {
	if !signed(img) {
		return nil
	}
	p := caller.Principal{UserID: j.caller.UserID, ProjectID: j.caller.ProjectID, Roles: j.caller.Roles}
	if tok, ok := j.s.importTokens.Load(j.t.ID); ok {
		ctx = caller.WithToken(ctx, tok.(string))
	}
	var err error
	j.sig, err = j.s.signatureCheck(ctx, p, img)
	return err
}

// unverifiable refuses to make a signed image active from a location:
// only an upload or an import reads the data through the verifier, and an
// active signed image must hold verified data.
func unverifiable(img *Image) error {
	if !signed(img) {
		return nil
	}
	return newError(ErrForbidden, "Image %s is signed: its data must be uploaded or imported so that the signature is verified, not added as a location.", img.ID)
}

// sameSignature refuses an upload whose image's signature properties
// changed between the check made for it (on img) and the moment it took
// the image (saving, when they are locked): the data would be verified
// against properties the image no longer has.
func (s *Service) sameSignature(ctx context.Context, img *Image) error {
	if s.opts.Signatures == nil {
		return nil
	}
	now, err := s.store.GetImage(ctx, img.ID)
	if err != nil {
		return err
	}
	for k := range signatureProps {
		was, had := img.Properties[k]
		is, has := now.Properties[k]
		if was != is || had != has {
			return newError(ErrConflict, "The signature properties of image %s changed as its upload began; send the data again.", img.ID)
		}
	}
	return nil
}

// dropRefusedPartial discards the partial upload of an image whose data
// the signature check refused before reading any (a certificate gone,
// expired or not the signer's, a method changed to one not supported):
// a refused upload keeps nothing, kept bytes included. A key manager that
// is unavailable refuses nothing: the caller keeps the partial upload,
// which a resume continues once the certificate can be fetched. It takes the
// image first (queued to saving), so no PUT is continuing that partial
// upload meanwhile, and gives it back as a failed upload.
func (s *Service) dropRefusedPartial(ctx context.Context, id string, cause error) {
	pt, err := s.store.GetPartial(ctx, id)
	if err != nil || pt.Kind != PartialFile {
		return // nothing kept (an unreadable record is the sweeper's)
	}
	if err := s.store.SetStatus(ctx, id, StatusQueued, StatusSaving, s.now()); err != nil {
		return // another PUT holds the image; it is checked in turn
	}
	s.dropPartialOf(ctx, id)
	s.restoreQueued(ctx, id, cause)
}
