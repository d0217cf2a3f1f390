package image_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/signature/signtest"
)

// keptBytes is how much of id's upload is kept, after checking that the
// partial upload's record and its file in store a agree.
func (s *signedService) keptBytes(t *testing.T, id string) int64 {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.dir, "images-a", "tmp-partial"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	pt, err := s.store.GetPartial(t.Context(), id)
	switch {
	case errors.Is(err, image.ErrNotFound) && len(entries) == 0:
		return 0
	case err == nil && len(entries) == 1:
		return pt.Offset
	}
	offset := int64(-1)
	if pt != nil {
		offset = pt.Offset
	}
	t.Fatalf("partial upload of %s: record of %d bytes (%v), %d files kept", id, offset, err, len(entries))
	return 0
}

// cutUpload sends the first n bytes of data in a plain PUT whose body
// breaks off, and checks they are kept.
func (s *signedService) cutUpload(t *testing.T, id string, data []byte, n int) {
	t.Helper()
	err := s.svc.Upload(t.Context(), owner, id, "", cut(data[:n]), int64(len(data)))
	if !errors.Is(err, image.ErrInvalid) {
		t.Fatalf("cut upload: %v, want ErrInvalid", err)
	}
	if got := s.keptBytes(t, id); got != int64(n) || s.image(t, id).Status != image.StatusQueued {
		t.Fatalf("after a cut upload: %d bytes kept (want %d), image %s", got, n, s.image(t, id).Status)
	}
}

func (s *signedService) resume(t *testing.T, id string, data []byte, from int) (image.Progress, error) {
	return s.svc.ResumeUpload(t.Context(), owner, id, "", bytes.NewReader(data[from:]), image.DataRange{Start: int64(from), Total: int64(len(data))})
}

func (s *signedService) update(t *testing.T, id string, changes ...image.Change) {
	t.Helper()
	if _, err := s.svc.Update(t.Context(), owner, id, changes); err != nil {
		t.Fatal(err)
	}
}

func (s *signedService) active(t *testing.T, what, id string, data []byte) {
	t.Helper()
	img := s.image(t, id)
	sum := md5.Sum(data)
	if img.Status != image.StatusActive || img.Checksum != hex.EncodeToString(sum[:]) || s.keptBytes(t, id) != 0 {
		t.Errorf("%s: image %s checksum %s, partial upload left", what, img.Status, img.Checksum)
	}
}

// TestSignedResume: a signed image's upload cut twice resumes, and the
// signature is verified over all of it at the end: the signature's hash
// state (SHA-224/256/384; SHA-512 is sha512's) is kept with the partial
// upload like md5's and sha512's.
func TestSignedResume(t *testing.T) {
	s := newSignedService(t)
	for i, c := range []struct {
		key  *signtest.Key
		cert string
		hash string
	}{{s.rsa, s.rsaID, "SHA-256"}, {s.rsa, s.rsaID, "SHA-224"}, {s.ec, s.ecID, "SHA-384"}, {s.ec, s.ecID, "SHA-512"}} {
		data := randomData(3<<20+17, uint64(20+i))
		id := s.signedImage(t, data, c.key, c.cert, c.hash)
		s.cutUpload(t, id, data, 1<<20+3)
		_, err := s.svc.ResumeUpload(t.Context(), owner, id, "", cut(data[1<<20+3:2<<20+11]),
			image.DataRange{Start: 1<<20 + 3, Total: int64(len(data))})
		if !errors.Is(err, image.ErrInvalid) || s.keptBytes(t, id) != 2<<20+11 {
			t.Fatalf("%s: second cut: %v, %d bytes kept", c.hash, err, s.keptBytes(t, id))
		}
		if pr, err := s.resume(t, id, data, 2<<20+11); err != nil || !pr.Done {
			t.Fatalf("%s: final resume: %+v, %v", c.hash, pr, err)
		}
		s.active(t, c.hash, id, data)
	}
}

// TestSignedResumeRefused: the refusals of a signed upload, met by a
// resumed one, keep nothing of the earlier parts either: data that does
// not match the signature (found at the end), a certificate that is not
// the signer's or has expired (found before the part is read).
func TestSignedResumeRefused(t *testing.T) {
	s := newSignedService(t)
	data := randomData(3<<20+5, 30)
	tampered := bytes.Clone(data)
	tampered[len(data)-1] ^= 1
	for _, c := range []struct {
		name    string
		change  *image.Change
		body    []byte
		message string
	}{
		{"tampered last part", nil, tampered, "Signature verification failed"},
		{"another key's certificate", &image.Change{Op: "replace", Attr: "img_signature_certificate_uuid", Value: s.ecID}, data,
			"Signature verification for the image failed: Invalid public key type for signature key type: RSA-PSS."},
		{"expired certificate", &image.Change{Op: "replace", Attr: "img_signature_certificate_uuid", Value: s.expiredID}, data,
			"Signature verification for the image failed: Certificate is not valid after: 2020-02-01 00:00:00 UTC."},
	} {
		id := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
		s.cutUpload(t, id, data, 2<<20+1)
		if c.change != nil {
			s.update(t, id, *c.change)
		}
		_, err := s.resume(t, id, c.body, 2<<20+1)
		want := "Signature verification failed for image " + id + ": " + c.message
		var de *image.Error
		if !errors.Is(err, image.ErrInvalid) || !errors.As(err, &de) || de.Msg != want {
			t.Errorf("%s: %v, want 400 %q", c.name, err, want)
		}
		s.nothingKept(t, c.name, id)
		if n := s.keptBytes(t, id); n != 0 {
			t.Errorf("%s: %d bytes still kept", c.name, n)
		}
	}
}

// TestSignedResumeChanged: the signature properties of a queued image may
// change between two parts of its upload. The kept hash state names its
// hashes: a method it has the state for (SHA-512 is always there, and the
// same method with another signature or certificate) continues and is
// verified against the properties the image has at the end; a method it
// lacks (another one, or an image signed only after its first part) is
// answered 409 with offset 0, the partial upload discarded, and a new
// upload from byte 0 is verified with the new method.
func TestSignedResumeChanged(t *testing.T) {
	s := newSignedService(t)
	data := randomData(2<<20+9, 40)
	const at = 1<<20 + 1
	sign := func(key *signtest.Key, cert, hash string) []image.Change {
		return []image.Change{{Op: "add", Attr: "img_signature", Value: key.SignBytes(t, data, hash)},
			{Op: "add", Attr: "img_signature_hash_method", Value: hash}, {Op: "add", Attr: "img_signature_key_type", Value: key.KeyType()},
			{Op: "add", Attr: "img_signature_certificate_uuid", Value: cert}}
	}
	unsign := []image.Change{{Op: "remove", Attr: "img_signature"}, {Op: "remove", Attr: "img_signature_hash_method"},
		{Op: "remove", Attr: "img_signature_key_type"}, {Op: "remove", Attr: "img_signature_certificate_uuid"}}

	for _, c := range []struct {
		name    string
		first   string // the hash method of the first part ("" unsigned)
		then    []image.Change
		resumes bool
	}{
		{"SHA-256 to SHA-512", "SHA-256", sign(s.rsa, s.rsaID, "SHA-512"), true},
		{"SHA-256 to another key's SHA-256", "SHA-256", sign(s.ec, s.ecID, "SHA-256"), true},
		{"unsigned to SHA-512", "", sign(s.rsa, s.rsaID, "SHA-512"), true},
		{"signature removed", "SHA-384", unsign, true},
		{"SHA-256 to SHA-384", "SHA-256", sign(s.rsa, s.rsaID, "SHA-384"), false},
		{"SHA-512 to SHA-224", "SHA-512", sign(s.rsa, s.rsaID, "SHA-224"), false},
		{"unsigned to SHA-256", "", sign(s.ec, s.ecID, "SHA-256"), false},
	} {
		var id string
		if c.first == "" {
			id = s.create(t, owner, "raw")
		} else {
			id = s.signedImage(t, data, s.rsa, s.rsaID, c.first)
		}
		s.cutUpload(t, id, data, at)
		s.update(t, id, c.then...)
		pr, err := s.resume(t, id, data, at)
		if c.resumes {
			if err != nil || !pr.Done {
				t.Errorf("%s: %+v, %v", c.name, pr, err)
			}
			s.active(t, c.name, id, data)
			continue
		}
		var oe *image.OffsetError
		if !errors.As(err, &oe) || oe.Offset != 0 || !errors.Is(err, image.ErrConflict) ||
			!strings.Contains(err.Error(), "is not the one its partial upload was hashed with") {
			t.Errorf("%s: %v, want 409 at offset 0", c.name, err)
		}
		s.nothingKept(t, c.name, id)
		if n := s.keptBytes(t, id); n != 0 {
			t.Errorf("%s: %d bytes still kept", c.name, n)
		}
		if pr, err := s.resume(t, id, data, 0); err != nil || !pr.Done {
			t.Errorf("%s: starting again: %+v, %v", c.name, pr, err)
		}
		s.active(t, c.name+", started again", id, data)
	}
}

// TestSignedUploadPropertiesRace: signature properties changed after an
// upload's check but before it took the image are not the ones its data
// would be verified against: the upload is refused (409), nothing kept.
func TestSignedUploadPropertiesRace(t *testing.T) {
	s := newSignedService(t)
	data := randomData(1<<20+3, 50)
	other := randomData(1000, 51)
	id := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
	s.beforeCheck = func() {
		s.update(t, id, image.Change{Op: "replace", Attr: "img_signature", Value: s.rsa.SignBytes(t, other, "SHA-256")})
	}
	err := s.svc.Upload(t.Context(), owner, id, "", bytes.NewReader(data), int64(len(data)))
	if !errors.Is(err, image.ErrConflict) || !strings.Contains(err.Error(), "signature properties of image "+id+" changed") {
		t.Fatalf("upload whose signature changed as it began: %v, want 409", err)
	}
	s.nothingKept(t, "raced upload", id)
	// Sent again, the data is checked against the signature it has now.
	err = s.svc.Upload(t.Context(), owner, id, "", bytes.NewReader(other), int64(len(other)))
	if err != nil {
		t.Fatalf("upload again: %v", err)
	}
	s.active(t, "uploaded again", id, other)
}

// A signed upload whose client left after its last byte is finished by
// the empty resume the progress query sends, and verified then; with
// data that does not match, that resume refuses it and keeps nothing.
func TestSignedResumeAllBytesKept(t *testing.T) {
	s := newSignedService(t)
	data := randomData(2<<20+1, 60)
	tampered := bytes.Clone(data)
	tampered[7] ^= 1
	for _, c := range []struct {
		name string
		body []byte
	}{{"matching data", data}, {"tampered data", tampered}} {
		id := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-384")
		ctx, cancel := context.WithCancel(t.Context())
		if err := s.svc.Upload(ctx, owner, id, "", &cancelAtEOF{r: bytes.NewReader(c.body), cancel: cancel}, int64(len(data))); err == nil {
			t.Fatalf("%s: an upload whose context ended succeeded", c.name)
		}
		if n := s.keptBytes(t, id); n != int64(len(data)) {
			t.Fatalf("%s: %d bytes kept", c.name, n)
		}
		pr, err := s.svc.ResumeUpload(t.Context(), owner, id, "", bytes.NewReader(nil), image.DataRange{Start: int64(len(data)), Total: int64(len(data))})
		if c.body[7] == data[7] {
			if err != nil || !pr.Done {
				t.Errorf("%s: finishing resume: %+v, %v", c.name, pr, err)
			}
			s.active(t, c.name, id, data)
			continue
		}
		if !errors.Is(err, image.ErrInvalid) || !strings.Contains(err.Error(), "Signature verification failed for image "+id) {
			t.Errorf("%s: finishing resume: %v, want 400", c.name, err)
		}
		s.nothingKept(t, c.name, id)
		if n := s.keptBytes(t, id); n != 0 {
			t.Errorf("%s: %d bytes still kept", c.name, n)
		}
	}
}
