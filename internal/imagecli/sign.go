package imagecli

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/glint-image/glint/internal/imageclient"
)

// signFlags are image create's signing options (openstackclient's
// --sign-key-path and --sign-cert-id).
type signFlags struct {
	key, certID, hash string
}

// signHashes are the hash methods Glance verifies, by their names in
// img_signature_hash_method.
var signHashes = map[string]crypto.Hash{"SHA-224": crypto.SHA224, "SHA-256": crypto.SHA256, "SHA-384": crypto.SHA384, "SHA-512": crypto.SHA512}

func (f signFlags) set() bool { return f.key != "" || f.certID != "" }

// signProperties signs the image data in file with the private key as
// openstackclient does (SHA-256 unless --sign-hash names another; RSA-PSS
// with the longest salt, or ECDSA on P-384 or P-521) and returns the four img_signature* properties that
// make the server verify the upload against the certificate certID names
// in the key manager. The file is read once for the signature and left at
// its start for the upload.
func signProperties(f signFlags, file *os.File) (map[string]string, error) {
	if file == nil {
		return nil, errors.New("signing an image requires the --file option, passing files via stdin when signing is not supported.")
	}
	if f.key == "" || f.certID == "" {
		return nil, errors.New("'sign-key' and 'sign-cert-id' must both be present when attempting to sign an image.")
	}
	method := f.hash
	if method == "" {
		method = "SHA-256"
	}
	hash, ok := signHashes[method]
	if !ok {
		return nil, fmt.Errorf("--sign-hash: %s is not one of SHA-224, SHA-256, SHA-384, SHA-512", imageclient.EscapeText(method))
	}
	key, keyType, err := loadSigningKey(f.key)
	if err != nil {
		return nil, err
	}
	h := hash.New()
	if _, err := io.Copy(h, file); err != nil {
		return nil, fmt.Errorf("reading %s to sign it: %w", imageclient.EscapeText(file.Name()), err)
	}
	if _, err := file.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("rewinding %s after signing it: %w", imageclient.EscapeText(file.Name()), err)
	}
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		sig, err = rsa.SignPSS(rand.Reader, k, hash, h.Sum(nil), &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(rand.Reader, k, h.Sum(nil))
	}
	if err != nil {
		return nil, fmt.Errorf("signing the image: %w", err)
	}
	return map[string]string{
		"img_signature":                  base64.StdEncoding.EncodeToString(sig),
		"img_signature_hash_method":      method,
		"img_signature_key_type":         keyType,
		"img_signature_certificate_uuid": f.certID,
	}, nil
}

// loadSigningKey reads an unencrypted PEM private key (PKCS #8, PKCS #1
// RSA or SEC 1 EC) and names its Glance key type.
func loadSigningKey(path string) (crypto.Signer, string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("Error during sign operation: private key could not be loaded: %w", errors.Unwrap(err))
	}
	block, _ := pem.Decode(text)
	if block == nil {
		return nil, "", errors.New("Error during sign operation: private key could not be loaded: no PEM block")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, "", errors.New("Error during sign operation: the private key is encrypted; decrypt it first (openssl pkey -in KEY -out PLAIN)")
	}
	var key any
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, "", fmt.Errorf("Error during sign operation: private key could not be loaded: %w", err)
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, "RSA-PSS", nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P384():
			return k, "ECC_SECP384R1", nil
		case elliptic.P521():
			return k, "ECC_SECP521R1", nil
		}
		return nil, "", fmt.Errorf("Error during sign operation: curve %s is not one Glance verifies (P-384, P-521)", k.Curve.Params().Name)
	}
	return nil, "", fmt.Errorf("Error during sign operation: a %T cannot sign images (RSA, or ECDSA on P-384 or P-521)", key)
}
