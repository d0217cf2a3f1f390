// Package signature verifies signed image data as Glance does (through
// the cursive library): an image carrying the four img_signature*
// properties must hold data whose hash, signed with the private key of the
// certificate the key manager keeps under img_signature_certificate_uuid,
// matches img_signature. The data is hashed while it streams into a store
// (the caller owns the hash, see Check.Hash); Verify takes the digest at
// the end, before the image is activated.
//
// Unlike Glance, glint also checks the certificate's validity period, and
// its chain against trusted CA certificates when some are configured.
package signature

import (
	"context"
	"crypto"
	//lint:ignore SA1019 Glance's DSA key type must keep verifying.
	"crypto/dsa"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/keymanager"
)

// The image properties that ask for verification. All four must be set,
// or no verification is done (cursive's should_create_verifier).
const (
	PropSignature     = "img_signature"
	PropHashMethod    = "img_signature_hash_method"
	PropKeyType       = "img_signature_key_type"
	PropCertificateID = "img_signature_certificate_uuid"
)

// Props lists them in the order cursive checks them.
var Props = []string{PropCertificateID, PropHashMethod, PropSignature, PropKeyType}

// Signed reports whether props ask for verification.
func Signed(props map[string]string) bool {
	for _, k := range Props {
		if _, ok := props[k]; !ok {
			return false
		}
	}
	return true
}

// HashMethods are the accepted img_signature_hash_method values.
var HashMethods = map[string]crypto.Hash{
	"SHA-224": crypto.SHA224,
	"SHA-256": crypto.SHA256,
	"SHA-384": crypto.SHA384,
	"SHA-512": crypto.SHA512,
}

// keyKind is the family of public key a key type needs.
type keyKind int

const (
	kindRSA keyKind = iota
	kindDSA
	kindECDSA
	kindBinaryCurve // named by Glance, not implemented by Go's crypto
)

// KeyTypes are the img_signature_key_type values Glance knows.
var KeyTypes = map[string]keyKind{
	"RSA-PSS":       kindRSA,
	"DSA":           kindDSA,
	"ECC_SECP384R1": kindECDSA,
	"ECC_SECP521R1": kindECDSA,
	"ECC_SECT571K1": kindBinaryCurve,
	"ECC_SECT409K1": kindBinaryCurve,
	"ECC_SECT571R1": kindBinaryCurve,
	"ECC_SECT409R1": kindBinaryCurve,
}

// KeyManager fetches a secret (here: a certificate) as the caller may
// see it. Implemented by keymanager.Service (built in) and
// barbican.Client (an existing Barbican, with the caller's token).
type KeyManager interface {
	Fetch(ctx context.Context, p caller.Principal, id string) (*keymanager.Secret, error)
}

// Options tune the verifier.
type Options struct {
	// Roots, when set, are the CA certificates a signing certificate must
	// chain to; nil skips the chain check, as Glance does.
	Roots *x509.CertPool
	// Now is the clock for the validity period; tests inject one.
	Now func() time.Time
	// KeyManager names the key manager in the error of a certificate
	// that cannot be fetched now ("Barbican at https://..."); empty
	// means "the key manager".
	KeyManager string
}

// Verifier builds the check of one image's data.
type Verifier struct {
	km   KeyManager
	opts Options
}

// New returns a Verifier fetching certificates from km.
func New(km KeyManager, opts Options) *Verifier {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.KeyManager == "" {
		opts.KeyManager = "the key manager"
	}
	return &Verifier{km: km, opts: opts}
}

var _ image.Signatures = (*Verifier)(nil)

// Error is a refusal, worded as cursive's SignatureVerificationError.
type Error struct {
	Reason string
	cause  error // for logs
}

func (e *Error) Error() string {
	return "Signature verification for the image failed: " + e.Reason + "."
}

func (e *Error) Unwrap() error { return e.cause }

func refuse(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// UnavailableError is a certificate that cannot be fetched now: the key
// manager did not answer, or answered that it cannot (5xx, 429), so
// nothing is known of the certificate. It is image.ErrUnavailable (503):
// unlike a refusal, it keeps what a resumable upload has received, and
// the client may try again. Glance (cursive) makes it a refusal like any
// other, 400, which tells a client not to send the same request again.
type UnavailableError struct {
	KeyManager    string
	CertificateID string
	cause         error // for logs
}

func (e *UnavailableError) Error() string {
	return "the certificate with ID " + e.CertificateID + " could not be fetched: " + e.KeyManager + " is unavailable"
}

func (e *UnavailableError) Unwrap() []error { return []error{image.ErrUnavailable, e.cause} }

// ErrMismatch is a signature that does not match the data; Glance's
// message has no reason.
var ErrMismatch = errors.New("Signature verification failed")

// Check prepares the verification of data for an image with props: it
// returns nil when the image is not signed, and refuses (before any data
// is read) a missing or malformed property, an unknown method or key
// type, and a certificate that cannot be fetched, is not an X.509
// certificate of the right key type, is outside its validity period or
// does not chain to the trusted CAs. A key manager that cannot answer now
// is an UnavailableError instead.
func (v *Verifier) Check(ctx context.Context, p caller.Principal, props map[string]string) (image.SignatureCheck, error) {
	if !Signed(props) {
		return nil, nil
	}
	sig, err := decodeSignature(props[PropSignature])
	if err != nil {
		return nil, refuse("The signature data was not properly encoded using base64")
	}
	method, ok := HashMethods[props[PropHashMethod]]
	if !ok {
		return nil, refuse("Invalid signature hash method: %s", props[PropHashMethod])
	}
	keyType := props[PropKeyType]
	kind, ok := KeyTypes[keyType]
	if !ok {
		return nil, refuse("Invalid signature key type: %s", keyType)
	}
	if kind == kindBinaryCurve {
		// Go has no binary-field curves; cursive on cryptography 47 and
		// later has none either and answers the same.
		return nil, refuse("Invalid signature key type: %s", keyType)
	}
	cert, err := v.certificate(ctx, p, props[PropCertificateID])
	if err != nil {
		return nil, err
	}
	if !keyMatches(kind, cert.PublicKey) {
		return nil, refuse("Invalid public key type for signature key type: %s", keyType)
	}
	return &check{method: method, kind: kind, key: cert.PublicKey, sig: sig}, nil
}

// certificate fetches, parses and validates the signing certificate.
func (v *Verifier) certificate(ctx context.Context, p caller.Principal, id string) (*x509.Certificate, error) {
	secret, err := v.km.Fetch(ctx, p, id)
	if errors.Is(err, keymanager.ErrNotFound) {
		return nil, &Error{Reason: "Certificate not found with ID: " + id, cause: err}
	}
	if errors.Is(err, keymanager.ErrUnavailable) {
		return nil, &UnavailableError{KeyManager: v.opts.KeyManager, CertificateID: id, cause: err}
	}
	if err != nil {
		// Refused (another project's), or an answer that is no secret.
		return nil, &Error{Reason: "Unable to retrieve certificate with ID: " + id, cause: err}
	}
	if secret.Type != keymanager.TypeCertificate {
		return nil, refuse("Invalid certificate format: %s", keymanager.Format(secret.Type))
	}
	der := secret.Payload
	if b, _ := pem.Decode(der); b != nil && b.Type == "CERTIFICATE" {
		der = b.Bytes
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, &Error{Reason: "The certificate with ID " + id + " is not a valid X.509 certificate", cause: err}
	}
	now := v.opts.Now().UTC()
	if now.Before(cert.NotBefore) {
		return nil, refuse("Certificate is not valid before: %s UTC", cert.NotBefore.UTC().Format(time.DateTime))
	}
	if now.After(cert.NotAfter) {
		return nil, refuse("Certificate is not valid after: %s UTC", cert.NotAfter.UTC().Format(time.DateTime))
	}
	if v.opts.Roots != nil {
		_, err := cert.Verify(x509.VerifyOptions{Roots: v.opts.Roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
		if err != nil {
			return nil, &Error{Reason: "Certificate chain building failed: the signing certificate does not chain to a trusted CA certificate", cause: err}
		}
	}
	return cert, nil
}

// decodeSignature decodes img_signature. Besides plain base64 it takes
// the Python bytes literal b'<base64>' that openstackclient 6.0 (Debian
// 12's) stores when it signs an image (--sign-key-path): it passes the
// bytes of b64encode to openstacksdk 0.101, which sends their repr.
// Glance's decoder drops the quotes but keeps the b, so such a signature
// never verifies there; glint reads what the client meant.
func decodeSignature(s string) ([]byte, error) {
	if len(s) >= 3 && strings.HasPrefix(s, "b'") && strings.HasSuffix(s, "'") {
		s = s[2 : len(s)-1]
	}
	return base64.StdEncoding.DecodeString(s)
}

func keyMatches(kind keyKind, key any) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return kind == kindRSA
	case *dsa.PublicKey:
		return kind == kindDSA
	case *ecdsa.PublicKey:
		// cursive checks the key's class, not its curve.
		return kind == kindECDSA
	}
	return false
}

// check is one prepared verification.
type check struct {
	method crypto.Hash
	kind   keyKind
	key    any
	sig    []byte
}

func (c *check) Hash() crypto.Hash { return c.method }

// Verify checks the signature over the digest of the data (the data
// hashed with Hash): RSA-PSS with MGF1 of the same hash and any salt
// length (cursive signs with the longest), DSA and ECDSA with DER-encoded
// (r, s).
func (c *check) Verify(digest []byte) error {
	ok := false
	switch key := c.key.(type) {
	case *rsa.PublicKey:
		ok = rsa.VerifyPSS(key, c.method, digest, c.sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	case *ecdsa.PublicKey:
		ok = ecdsa.VerifyASN1(key, digest, c.sig)
	case *dsa.PublicKey:
		ok = verifyDSA(key, digest, c.sig)
	}
	if !ok {
		return ErrMismatch
	}
	return nil
}

// verifyDSA verifies a DER (r, s) signature. The digest is cut to the
// length of the group order first (FIPS 186-4, 4.6), which Go's dsa
// package leaves to its caller.
func verifyDSA(key *dsa.PublicKey, digest, sig []byte) bool {
	var rs struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(sig, &rs)
	if err != nil || len(rest) > 0 || rs.R == nil || rs.S == nil {
		return false
	}
	if n := (key.Q.BitLen() + 7) / 8; len(digest) > n {
		digest = digest[:n]
	}
	return dsa.Verify(key, digest, rs.R, rs.S)
}
