package config

import (
	"crypto/x509"
	"fmt"
	"net/url"
	"os"
)

// Key managers.
const (
	// KeyManagerBuiltin keeps secrets in glint's metadata store and
	// serves Barbican's secrets API under /key-manager: the default.
	KeyManagerBuiltin = "builtin"
	// KeyManagerBarbican fetches certificates from an existing Barbican
	// with the caller's token.
	KeyManagerBarbican = "barbican"
)

// KeyManager is where the certificates of signed images come from, and
// how they are checked.
type KeyManager struct {
	// Driver is KeyManagerBuiltin or KeyManagerBarbican.
	Driver string
	// BarbicanURL is the Barbican endpoint (with or without /v1).
	BarbicanURL string
	// KeyFile holds the key that seals the built-in key manager's
	// payloads at rest; nodes sharing a database share it. Default
	// DataDir/secrets.key, created on first start.
	KeyFile string
	// TrustedCAFile is a PEM file of CA certificates that a signing
	// certificate must chain to; empty: no chain check (as in Glance),
	// only the certificate's validity period.
	TrustedCAFile string
}

type fileKeyManager struct {
	KeyManager             *string `yaml:"key_manager"`
	BarbicanURL            *string `yaml:"barbican_url"`
	KeyManagerKeyFile      *string `yaml:"key_manager_key_file"`
	SignatureTrustedCAFile *string `yaml:"signature_trusted_ca_file"`
}

func (c *Config) applyKeyManager(f fileKeyManager) {
	setString(&c.KeyManager.Driver, f.KeyManager)
	setString(&c.KeyManager.BarbicanURL, f.BarbicanURL)
	setString(&c.KeyManager.KeyFile, f.KeyManagerKeyFile)
	setString(&c.KeyManager.TrustedCAFile, f.SignatureTrustedCAFile)
}

func (c Config) validateKeyManager() []error {
	var errs []error
	k := c.KeyManager
	switch k.Driver {
	case KeyManagerBuiltin:
	case KeyManagerBarbican:
		u, err := url.Parse(k.BarbicanURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("barbican_url: %q is not an http(s) URL of Barbican (required with key_manager: barbican)", k.BarbicanURL))
		}
	default:
		errs = append(errs, fmt.Errorf("key_manager: %q is not one of %s, %s", k.Driver, KeyManagerBuiltin, KeyManagerBarbican))
	}
	if k.TrustedCAFile != "" {
		if _, err := k.TrustedCAs(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// TrustedCAs loads TrustedCAFile; nil when none is configured.
func (k KeyManager) TrustedCAs() (*x509.CertPool, error) {
	if k.TrustedCAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(k.TrustedCAFile)
	if err != nil {
		return nil, fmt.Errorf("signature_trusted_ca_file: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("signature_trusted_ca_file: %s holds no PEM certificate", k.TrustedCAFile)
	}
	return pool, nil
}
