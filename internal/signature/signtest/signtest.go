// Package signtest makes keys, certificates and image signatures with
// the openssl command, for the tests of signature verification: what a
// test verifies was made by the tool operators use, not by the code
// under test.
package signtest

import (
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/testenv"
)

// Key is a private key with a self-signed certificate valid for 30 days.
type Key struct {
	// Kind is rsa, dsa, ec384 or ec521.
	Kind string
	// Path is the private key (PEM, unencrypted).
	Path string
	// CertDER is the certificate.
	CertDER []byte
	dir     string
}

// KeyType is the img_signature_key_type for the key's kind.
func (k *Key) KeyType() string {
	return map[string]string{"rsa": "RSA-PSS", "dsa": "DSA", "ec384": "ECC_SECP384R1", "ec521": "ECC_SECP521R1"}[k.Kind]
}

// Openssl returns the openssl command, or skips (fails in CI) without it.
func Openssl(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		testenv.Missing(t, "openssl is not installed")
	}
	return p
}

func run(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Openssl(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// NewKey makes a key of kind and its certificate (subject CN=cn).
func NewKey(t testing.TB, kind, cn string) *Key {
	t.Helper()
	dir := t.TempDir()
	k := &Key{Kind: kind, Path: filepath.Join(dir, "key.pem"), dir: dir}
	switch kind {
	case "rsa":
		run(t, dir, "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", k.Path)
	case "dsa":
		run(t, dir, "genpkey", "-genparam", "-algorithm", "DSA", "-pkeyopt", "dsa_paramgen_bits:2048", "-out", "params.pem")
		run(t, dir, "genpkey", "-paramfile", "params.pem", "-out", k.Path)
	case "ec384", "ec521":
		run(t, dir, "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp"+kind[2:]+"r1", "-out", k.Path)
	default:
		t.Fatalf("signtest: unknown key kind %q", kind)
	}
	run(t, dir, "req", "-x509", "-new", "-key", k.Path, "-days", "30", "-subj", "/CN="+cn, "-outform", "DER", "-out", "cert.der")
	k.CertDER = read(t, filepath.Join(dir, "cert.der"))
	return k
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// hashFlags are openssl's digest flags by Glance's hash method names.
var hashFlags = map[string]string{"SHA-224": "-sha224", "SHA-256": "-sha256", "SHA-384": "-sha384", "SHA-512": "-sha512"}

// Sign signs the file at path with hash (a Glance hash method name) as
// Glance's clients do: RSA with PSS padding and the longest salt, DSA and
// ECDSA as DER. It returns img_signature (base64).
func (k *Key) Sign(t testing.TB, path, hash string) string {
	t.Helper()
	flag, ok := hashFlags[hash]
	if !ok {
		t.Fatalf("signtest: unknown hash method %q", hash)
	}
	out := filepath.Join(k.dir, "sig")
	args := []string{"dgst", flag, "-sign", k.Path}
	if k.Kind == "rsa" {
		args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:max")
	}
	run(t, k.dir, append(args, "-out", out, path)...)
	return base64.StdEncoding.EncodeToString(read(t, out))
}

// SignBytes is Sign of data.
func (k *Key) SignBytes(t testing.TB, data []byte, hash string) string {
	t.Helper()
	path := filepath.Join(k.dir, "data")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return k.Sign(t, path, hash)
}

// caConfig is the least `openssl ca` needs to issue a certificate with
// chosen dates.
const caConfig = `[ca]
default_ca = c
[c]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
unique_subject = no
copy_extensions = none
[p]
commonName = supplied
[v3ca]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
`

// Issue makes a certificate for k's key, valid from start to end
// (YYYYMMDDHHMMSSZ), signed by issuer's key (nil: self-signed). A
// self-signed one with isCA set can issue others.
func (k *Key) Issue(t testing.TB, cn, start, end string, issuer *Key, isCA bool) []byte {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"ca.cnf": caConfig, "index.txt": "", "serial": "01\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	run(t, dir, "req", "-new", "-key", k.Path, "-subj", "/CN="+cn, "-out", "req.csr")
	args := []string{"ca", "-batch", "-config", "ca.cnf", "-in", "req.csr", "-startdate", start, "-enddate", end, "-out", "cert.pem"}
	if isCA {
		args = append(args, "-extensions", "v3ca")
	}
	if issuer == nil {
		args = append(args, "-selfsign", "-keyfile", k.Path)
	} else {
		issuerCert := filepath.Join(dir, "issuer.der")
		if err := os.WriteFile(issuerCert, issuer.CertDER, 0o600); err != nil {
			t.Fatal(err)
		}
		run(t, dir, "x509", "-inform", "DER", "-in", "issuer.der", "-out", "issuer.pem")
		args = append(args, "-cert", "issuer.pem", "-keyfile", issuer.Path)
	}
	run(t, dir, args...)
	run(t, dir, "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der")
	return read(t, filepath.Join(dir, "cert.der"))
}

// PEM returns der as a PEM certificate.
func PEM(der []byte) []byte {
	return []byte(fmt.Sprintf("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n", wrap(base64.StdEncoding.EncodeToString(der))))
}

func wrap(s string) string {
	var b strings.Builder
	for len(s) > 64 {
		b.WriteString(s[:64] + "\n")
		s = s[64:]
	}
	b.WriteString(s)
	return b.String()
}
