package server

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/keymanager/barbican"
	"github.com/glint-image/glint/internal/keymanagerapi"
	"github.com/glint-image/glint/internal/requestid/forward"
	"github.com/glint-image/glint/internal/signature"
)

// secretsKeyFile is the default file of the built-in key manager's
// sealing key, under DataDir.
const secretsKeyFile = "secrets.key"

// signatures builds the verifier of signed images over the configured key
// manager, and returns the built-in key manager's service to serve (nil
// with an external Barbican).
func (s *Server) signatures(records keymanager.Store) (*signature.Verifier, *keymanager.Service, error) {
	k := s.cfg.KeyManager
	roots, err := k.TrustedCAs()
	if err != nil {
		return nil, nil, err
	}
	opts := signature.Options{Roots: roots, KeyManager: "the built-in key manager"}
	if k.Driver == config.KeyManagerBarbican {
		where := k.BarbicanURL
		if u, err := url.Parse(where); err == nil {
			where = u.Redacted() // clients see it: no password
		}
		opts.KeyManager = "the key manager (Barbican at " + where + ")"
		c, err := barbican.New(k.BarbicanURL, &http.Client{Timeout: 30 * time.Second, Transport: forward.Transport{}})
		if err != nil {
			return nil, nil, err
		}
		return signature.New(c, opts), nil, nil
	}
	keyFile := k.KeyFile
	if keyFile == "" {
		keyFile = filepath.Join(s.cfg.DataDir, secretsKeyFile)
	}
	raw, err := identity.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("key manager key: %w", err)
	}
	key := sha256.Sum256(raw)
	svc, err := keymanager.NewService(records, keymanager.Options{Key: key[:]})
	if err != nil {
		return nil, nil, err
	}
	return signature.New(svc, opts), svc, nil
}

// keyManagerPath is where the catalog lists the built-in key manager, ""
// when glint does not serve one.
func keyManagerPath(cfg config.Config) string {
	if cfg.KeyManager.Driver != config.KeyManagerBuiltin {
		return ""
	}
	return keymanagerapi.PathPrefix
}
