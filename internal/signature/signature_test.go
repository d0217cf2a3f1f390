package signature_test

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/signature"
	"github.com/glint-image/glint/internal/signature/signtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

var (
	alice = caller.Principal{UserID: "alice", ProjectID: "p1", Roles: []string{"member"}}
	bob   = caller.Principal{UserID: "bob", ProjectID: "p2", Roles: []string{"member"}}
)

// keyManager is the built-in key manager over a real SQLite store.
func keyManager(t *testing.T) *keymanager.Service {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key := make([]byte, 32)
	rand.Read(key)
	km, err := keymanager.NewService(st, keymanager.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	return km
}

// storeCert stores der as p's certificate and returns its id.
func storeCert(t *testing.T, km *keymanager.Service, p caller.Principal, der []byte, secretType string) string {
	t.Helper()
	sec, err := km.Create(t.Context(), p, keymanager.NewSecret{Name: "signing cert", Type: secretType,
		Payload: base64.StdEncoding.EncodeToString(der), ContentType: "application/octet-stream", ContentEncoding: "base64"})
	if err != nil {
		t.Fatal(err)
	}
	return sec.ID
}

func props(sig, hash, keyType, cert string) map[string]string {
	return map[string]string{signature.PropSignature: sig, signature.PropHashMethod: hash,
		signature.PropKeyType: keyType, signature.PropCertificateID: cert}
}

func digest(h crypto.Hash, data []byte) []byte {
	w := h.New()
	w.Write(data)
	return w.Sum(nil)
}

// TestVerify: signatures openssl made with every key type and hash method
// Glance supports verify over the data, and over no other data.
func TestVerify(t *testing.T) {
	km := keyManager(t)
	v := signature.New(km, signature.Options{})
	data := make([]byte, 300_000)
	rand.Read(data)
	tampered := append([]byte{}, data...)
	tampered[123_456] ^= 1
	for _, kind := range []string{"rsa", "dsa", "ec384", "ec521"} {
		k := signtest.NewKey(t, kind, "signer-"+kind)
		cert := storeCert(t, km, alice, k.CertDER, keymanager.TypeCertificate)
		for _, hash := range []string{"SHA-224", "SHA-256", "SHA-384", "SHA-512"} {
			t.Run(kind+"/"+hash, func(t *testing.T) {
				c, err := v.Check(t.Context(), alice, props(k.SignBytes(t, data, hash), hash, k.KeyType(), cert))
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if c.Hash() != signature.HashMethods[hash] {
					t.Fatalf("Hash = %v, want %s", c.Hash(), hash)
				}
				if err := c.Verify(digest(c.Hash(), data)); err != nil {
					t.Fatalf("Verify of the signed data: %v", err)
				}
				if err := c.Verify(digest(c.Hash(), tampered)); !errors.Is(err, signature.ErrMismatch) {
					t.Fatalf("Verify of tampered data: %v, want ErrMismatch", err)
				}
			})
		}
	}
}

// TestRefusals: each reason Glance (cursive) refuses before reading data,
// worded as Glance words it, and glint's certificate checks.
func TestRefusals(t *testing.T) {
	km := keyManager(t)
	v := signature.New(km, signature.Options{})
	data := []byte("image data")
	rsaKey := signtest.NewKey(t, "rsa", "signer")
	good := storeCert(t, km, alice, rsaKey.CertDER, keymanager.TypeCertificate)
	sig := rsaKey.SignBytes(t, data, "SHA-256")
	opaque := storeCert(t, km, alice, rsaKey.CertDER, keymanager.TypeOpaque)
	expired := storeCert(t, km, alice, rsaKey.Issue(t, "expired", "20200101000000Z", "20200201000000Z", nil, false), keymanager.TypeCertificate)
	future := storeCert(t, km, alice, rsaKey.Issue(t, "future", "20990101000000Z", "20990201000000Z", nil, false), keymanager.TypeCertificate)
	const missing = "11111111-2222-3333-4444-555555555555"
	for _, c := range []struct {
		name  string
		props map[string]string
		who   caller.Principal
		want  string
	}{
		{"bad base64", props("not base64!", "SHA-256", "RSA-PSS", good), alice, "The signature data was not properly encoded using base64"},
		{"unknown hash method", props(sig, "SHA-1", "RSA-PSS", good), alice, "Invalid signature hash method: SHA-1"},
		{"unknown key type", props(sig, "SHA-256", "RSA", good), alice, "Invalid signature key type: RSA"},
		{"binary curve", props(sig, "SHA-256", "ECC_SECT571K1", good), alice, "Invalid signature key type: ECC_SECT571K1"},
		{"no such certificate", props(sig, "SHA-256", "RSA-PSS", missing), alice, "Certificate not found with ID: " + missing},
		{"another project's certificate", props(sig, "SHA-256", "RSA-PSS", good), bob, "Unable to retrieve certificate with ID: " + good},
		{"not a certificate", props(sig, "SHA-256", "RSA-PSS", opaque), alice, "Invalid certificate format: Opaque"},
		{"key type of another key", props(sig, "SHA-256", "DSA", good), alice, "Invalid public key type for signature key type: DSA"},
		{"expired certificate", props(sig, "SHA-256", "RSA-PSS", expired), alice, "Certificate is not valid after: 2020-02-01 00:00:00 UTC"},
		{"certificate not yet valid", props(sig, "SHA-256", "RSA-PSS", future), alice, "Certificate is not valid before: 2099-01-01 00:00:00 UTC"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := v.Check(t.Context(), c.who, c.props)
			want := "Signature verification for the image failed: " + c.want + "."
			if err == nil || !strings.HasPrefix(err.Error(), strings.TrimSuffix(want, ".")) {
				t.Fatalf("Check: %v, want %q", err, want)
			}
		})
	}
	t.Run("unsigned", func(t *testing.T) {
		p := props(sig, "SHA-256", "RSA-PSS", good)
		delete(p, signature.PropKeyType) // three of four: no check, as in Glance
		if c, err := v.Check(t.Context(), alice, p); c != nil || err != nil {
			t.Fatalf("Check = %v, %v; want nothing to check", c, err)
		}
	})
	t.Run("wrong certificate", func(t *testing.T) {
		other := signtest.NewKey(t, "rsa", "someone else")
		c, err := v.Check(t.Context(), alice, props(other.SignBytes(t, data, "SHA-256"), "SHA-256", "RSA-PSS", good))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Verify(digest(crypto.SHA256, data)); !errors.Is(err, signature.ErrMismatch) {
			t.Fatalf("Verify with another key's certificate: %v, want ErrMismatch", err)
		}
	})
	t.Run("openstackclient's bytes literal", func(t *testing.T) {
		c, err := v.Check(t.Context(), alice, props("b'"+sig+"'", "SHA-256", "RSA-PSS", good))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Verify(digest(crypto.SHA256, data)); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}

// TestChain: with trusted CAs configured, a certificate must chain to
// one of them.
func TestChain(t *testing.T) {
	km := keyManager(t)
	ca := signtest.NewKey(t, "rsa", "glint test CA")
	ca.CertDER = ca.Issue(t, "glint test CA", "20200101000000Z", "20991231000000Z", nil, true)
	roots := x509.NewCertPool()
	caCert, err := x509.ParseCertificate(ca.CertDER)
	if err != nil {
		t.Fatal(err)
	}
	roots.AddCert(caCert)
	v := signature.New(km, signature.Options{Roots: roots})
	signer := signtest.NewKey(t, "ec384", "self-signed signer")
	data := []byte("chained data")
	sig := signer.SignBytes(t, data, "SHA-384")
	issued := storeCert(t, km, alice, signer.Issue(t, "issued signer", "20200101000000Z", "20991231000000Z", ca, false), keymanager.TypeCertificate)
	selfSigned := storeCert(t, km, alice, signer.CertDER, keymanager.TypeCertificate)

	c, err := v.Check(t.Context(), alice, props(sig, "SHA-384", "ECC_SECP384R1", issued))
	if err != nil {
		t.Fatalf("certificate issued by the trusted CA: %v", err)
	}
	if err := c.Verify(digest(crypto.SHA384, data)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	_, err = v.Check(t.Context(), alice, props(sig, "SHA-384", "ECC_SECP384R1", selfSigned))
	if err == nil || !strings.Contains(err.Error(), "does not chain to a trusted CA certificate") {
		t.Fatalf("self-signed certificate: %v, want a chain refusal", err)
	}
	// Without trusted CAs, the self-signed certificate is enough (Glance).
	if _, err := signature.New(km, signature.Options{}).Check(t.Context(), alice, props(sig, "SHA-384", "ECC_SECP384R1", selfSigned)); err != nil {
		t.Fatalf("no chain check: %v", err)
	}
}

var _ image.Signatures = (*signature.Verifier)(nil)

// TestKeyManagerUnavailable: a built-in key manager whose records store
// fails (here: its SQLite database closed under it) says nothing about the
// certificate: Check answers an UnavailableError, which is
// image.ErrUnavailable and names the key manager, not a refusal. A
// certificate that is missing is still a refusal.
func TestKeyManagerUnavailable(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	km, err := keymanager.NewService(st, keymanager.Options{Key: key})
	if err != nil {
		t.Fatal(err)
	}
	k := signtest.NewKey(t, "rsa", "signer")
	cert := storeCert(t, km, alice, k.CertDER, keymanager.TypeCertificate)
	v := signature.New(km, signature.Options{KeyManager: "the built-in key manager"})
	p := props(k.SignBytes(t, []byte("data"), "SHA-256"), "SHA-256", k.KeyType(), cert)
	const missing = "11111111-2222-4333-8444-555555555555"
	if _, err := v.Check(t.Context(), alice, props(p[signature.PropSignature], "SHA-256", k.KeyType(), missing)); errors.Is(err, image.ErrUnavailable) ||
		!strings.Contains(fmt.Sprint(err), "Certificate not found with ID: "+missing) {
		t.Fatalf("missing certificate: %v, want a refusal", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = v.Check(t.Context(), alice, p)
	var ue *signature.UnavailableError
	var refusal *signature.Error
	if !errors.Is(err, image.ErrUnavailable) || !errors.As(err, &ue) || errors.As(err, &refusal) ||
		err.Error() != "the certificate with ID "+cert+" could not be fetched: the built-in key manager is unavailable" {
		t.Fatalf("store closed: %v, want the key manager unavailable", err)
	}
	if !errors.Is(err, keymanager.ErrUnavailable) {
		t.Errorf("store closed: %v does not keep the key manager's cause", err)
	}
}
