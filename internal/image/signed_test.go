package image_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/signature"
	"github.com/glint-image/glint/internal/signature/signtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/webfetch"
)

// signedService is an image service over real SQLite and file stores (a
// and b) that verifies signatures against the built-in key manager, with
// an RSA key and an ECDSA key whose certificates owner stored.
type signedService struct {
	*importService
	// beforeCheck, when set, runs as the verifier's Check begins (to
	// change the image under an upload that is starting).
	beforeCheck func()
	rsa, ec     *signtest.Key
	rsaID, ecID string
	expiredID   string
	web         *httptest.Server
	webData     []byte
}

func newSignedService(t *testing.T) *signedService {
	t.Helper()
	kst, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kst.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	km, err := keymanager.NewService(kst, keymanager.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ss := &signedService{rsa: signtest.NewKey(t, "rsa", "rsa signer"), ec: signtest.NewKey(t, "ec521", "ec signer")}
	store := func(der []byte) string {
		sec, err := km.Create(t.Context(), owner, keymanager.NewSecret{Type: keymanager.TypeCertificate, ContentType: "application/octet-stream",
			ContentEncoding: "base64", Payload: base64.StdEncoding.EncodeToString(der)})
		if err != nil {
			t.Fatal(err)
		}
		return sec.ID
	}
	ss.rsaID, ss.ecID = store(ss.rsa.CertDER), store(ss.ec.CertDER)
	ss.expiredID = store(ss.rsa.Issue(t, "expired", "20200101000000Z", "20200201000000Z", nil, false))
	ss.web = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(ss.webData) }))
	t.Cleanup(ss.web.Close)
	ss.importService = newImportServiceWith(t, []string{"a", "b"}, func(o *image.Options) {
		o.Signatures = hookedSignatures{signature.New(km, signature.Options{}), ss}
		o.Import.Fetcher = webFetcher{webfetch.New(webfetch.Policy{AllowedNetworks: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			ConnectTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, TotalTimeout: time.Minute})}
	})
	return ss
}

// hookedSignatures is the real verifier, with signedService.beforeCheck
// run first.
type hookedSignatures struct {
	image.Signatures
	s *signedService
}

func (h hookedSignatures) Check(ctx context.Context, p caller.Principal, props map[string]string) (image.SignatureCheck, error) {
	if f := h.s.beforeCheck; f != nil {
		h.s.beforeCheck = nil
		f()
	}
	return h.Signatures.Check(ctx, p, props)
}

// signedImage creates an image whose properties sign data.
func (s *signedService) signedImage(t *testing.T, data []byte, key *signtest.Key, certID, hash string) string {
	t.Helper()
	img, err := s.svc.Create(t.Context(), owner, map[string]any{"name": "signed", "disk_format": "raw", "container_format": "bare",
		"img_signature": key.SignBytes(t, data, hash), "img_signature_hash_method": hash,
		"img_signature_key_type": key.KeyType(), "img_signature_certificate_uuid": certID})
	if err != nil {
		t.Fatal(err)
	}
	return img.ID
}

// nothingKept fails unless the image is queued with no data recorded,
// stored (store a) or staged.
func (s *signedService) nothingKept(t *testing.T, what, id string) {
	t.Helper()
	img := s.image(t, id)
	_, statErr := s.staging.Stat(t.Context(), id)
	if img.Status != image.StatusQueued || img.Size != nil || img.Checksum != "" || len(img.Locations()) != 0 || statErr == nil || s.hasStaged(t, id) {
		t.Errorf("%s: image %s size %v checksum %q locations %v, blob kept %v, staged %v", what, img.Status, img.Size, img.Checksum,
			img.Locations(), statErr == nil, s.hasStaged(t, id))
	}
}

func signedData(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// TestSignedUpload: PUT file verifies the data of a signed image before
// activating it; data that does not match, a certificate that is not the
// signer's or has expired and an unsupported method are refused with
// Glance's message, nothing kept, the image back in queued.
func TestSignedUpload(t *testing.T) {
	s := newSignedService(t)
	ctx := t.Context()
	data := signedData(3<<20 + 17) // several chunks
	tampered := bytes.Clone(data)
	tampered[2<<20] ^= 0x80

	for _, c := range []struct {
		key  *signtest.Key
		cert string
		hash string
	}{{s.rsa, s.rsaID, "SHA-256"}, {s.rsa, s.rsaID, "SHA-512"}, {s.ec, s.ecID, "SHA-384"}} {
		id := s.signedImage(t, data, c.key, c.cert, c.hash)
		if err := s.svc.Upload(ctx, owner, id, "", bytes.NewReader(data), int64(len(data))); err != nil {
			t.Fatalf("%s %s upload: %v", c.key.KeyType(), c.hash, err)
		}
		if img := s.image(t, id); img.Status != image.StatusActive {
			t.Fatalf("%s %s: image %s after a verified upload", c.key.KeyType(), c.hash, img.Status)
		}
	}

	refusals := []struct {
		name    string
		id      string
		body    []byte
		message string
	}{
		{"tampered data", s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256"), tampered, "Signature verification failed"},
		{"tampered data, SHA-512", s.signedImage(t, data, s.ec, s.ecID, "SHA-512"), tampered, "Signature verification failed"},
		{"another key's certificate", s.signedImage(t, data, s.rsa, s.ecID, "SHA-256"), data,
			"Signature verification for the image failed: Invalid public key type for signature key type: RSA-PSS."},
		{"expired certificate", s.signedImage(t, data, s.rsa, s.expiredID, "SHA-256"), data,
			"Signature verification for the image failed: Certificate is not valid after: 2020-02-01 00:00:00 UTC."},
	}
	unsupported := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
	if _, err := s.svc.Update(ctx, owner, unsupported, []image.Change{{Op: "replace", Attr: "img_signature_hash_method", Value: "SHA-1"}}); err != nil {
		t.Fatal(err)
	}
	refusals = append(refusals, struct {
		name    string
		id      string
		body    []byte
		message string
	}{"unsupported hash method", unsupported, data, "Signature verification for the image failed: Invalid signature hash method: SHA-1."})
	for _, c := range refusals {
		err := s.svc.Upload(ctx, owner, c.id, "", bytes.NewReader(c.body), int64(len(c.body)))
		want := "Signature verification failed for image " + c.id + ": " + c.message
		var de *image.Error
		if !errors.Is(err, image.ErrInvalid) || !errors.As(err, &de) || de.Msg != want {
			t.Errorf("%s: %v, want 400 %q", c.name, err, want)
		}
		s.nothingKept(t, c.name, c.id)
	}
}

// TestSignatureLocked: the signature properties of an image holding
// data cannot change; a queued image's can.
func TestSignatureLocked(t *testing.T) {
	s := newSignedService(t)
	ctx := t.Context()
	data := signedData(1000)
	id := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
	if _, err := s.svc.Update(ctx, owner, id, []image.Change{{Op: "replace", Attr: "img_signature_hash_method", Value: "SHA-256"},
		{Op: "add", Attr: "img_signature_key_type", Value: "RSA-PSS"}}); err != nil {
		t.Fatalf("queued image: %v", err)
	}
	if err := s.svc.Upload(ctx, owner, id, "", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []image.Change{
		{Op: "replace", Attr: "img_signature", Value: s.rsa.SignBytes(t, []byte("other"), "SHA-256")},
		{Op: "remove", Attr: "img_signature_certificate_uuid"},
		{Op: "add", Attr: "img_signature_hash_method", Value: "SHA-512"},
	} {
		_, err := s.svc.Update(ctx, owner, id, []image.Change{c})
		if !errors.Is(err, image.ErrForbidden) || !strings.Contains(err.Error(), "cannot be changed on an image in status active") {
			t.Errorf("%s %s on an active image: %v, want 403", c.Op, c.Attr, err)
		}
	}
	if _, err := s.svc.Update(ctx, owner, id, []image.Change{{Op: "add", Attr: "img_signature_hash_method", Value: "SHA-256"},
		{Op: "add", Attr: "os_distro", Value: "debian"}}); err != nil {
		t.Errorf("same value and another property: %v", err)
	}
	signedQueued := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
	service := caller.Principal{UserID: "nova", ProjectID: "p", Roles: []string{"service", "member"}}
	if err := s.svc.AddLocation(ctx, service, signedQueued, "file:///elsewhere", "", ""); !errors.Is(err, image.ErrForbidden) ||
		!strings.Contains(err.Error(), "is signed: its data must be uploaded or imported") {
		t.Errorf("a location for a signed image: %v, want 403", err)
	}
	unsigned := s.create(t, owner, "raw")
	if err := s.svc.Upload(ctx, owner, unsigned, "", bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Update(ctx, owner, unsigned, []image.Change{{Op: "add", Attr: "img_signature", Value: "AAAA"}}); !errors.Is(err, image.ErrForbidden) {
		t.Errorf("signing an active image afterwards: %v, want 403", err)
	}
}

// TestSignedImport: glance-direct, web-download and copy-image verify the
// data they write; a failure fails the task with Glance's message and
// keeps nothing.
func TestSignedImport(t *testing.T) {
	s := newSignedService(t)
	ctx := t.Context()
	data := signedData(2<<20 + 5)
	tampered := bytes.Clone(data)
	tampered[0] ^= 1
	direct := image.ImportRequest{Method: image.MethodGlanceDirect, AllStoresMustSucceed: true, Stores: []string{"a"},
		Body: map[string]any{"method": map[string]any{"name": "glance-direct"}}}
	web := image.ImportRequest{Method: image.MethodWebDownload, URI: s.web.URL + "/img", AllStoresMustSucceed: true, Stores: []string{"a"},
		Body: map[string]any{"method": map[string]any{"name": "web-download", "uri": s.web.URL + "/img"}}}
	copyB := image.ImportRequest{Method: image.MethodCopyImage, AllStoresMustSucceed: true, Stores: []string{"b"},
		Body: map[string]any{"method": map[string]any{"name": "copy-image"}}}

	for _, c := range []struct {
		name string
		body []byte
		ok   bool
	}{{"glance-direct", data, true}, {"glance-direct of tampered data", tampered, false}} {
		id := s.signedImage(t, data, s.rsa, s.rsaID, "SHA-256")
		if err := s.svc.Stage(ctx, owner, id, bytes.NewReader(c.body), int64(len(c.body))); err != nil {
			t.Fatal(err)
		}
		if err := s.svc.Import(ctx, owner, id, direct); err != nil {
			t.Fatal(err)
		}
		s.checkRun(t, c.name, id, c.ok)
		if c.ok {
			// copy-image of the verified image verifies its copy too.
			if err := s.svc.Import(ctx, admin, id, copyB); err != nil {
				t.Fatal(err)
			}
			if _, err := s.run(t, id, 1); err != nil {
				t.Errorf("copy-image: %v", err)
			}
			if img := s.image(t, id); len(img.Locations()) != 2 {
				t.Errorf("copy-image: locations %v", img.Locations())
			}
		}
	}
	for _, c := range []struct {
		name string
		body []byte
		ok   bool
	}{{"web-download", data, true}, {"web-download of tampered data", tampered, false}} {
		s.webData = c.body
		id := s.signedImage(t, data, s.ec, s.ecID, "SHA-512")
		if err := s.svc.Import(ctx, owner, id, web); err != nil {
			t.Fatal(err)
		}
		s.checkRun(t, c.name, id, c.ok)
	}
}

func (s *signedService) checkRun(t *testing.T, name, id string, ok bool) {
	t.Helper()
	_, err := s.run(t, id, 1)
	if ok {
		if img := s.image(t, id); err != nil || img.Status != image.StatusActive {
			t.Errorf("%s: %v, image %s", name, err, img.Status)
		}
		return
	}
	want := "Signature verification failed for image " + id + ": Signature verification failed"
	if err == nil || err.Error() != want {
		t.Errorf("%s: task failed with %v, want %q", name, err, want)
	}
	s.nothingKept(t, name, id)
}
