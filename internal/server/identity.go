package server

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/auth/keystone"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/identityapi"
	"github.com/glint-image/glint/internal/requestid/forward"
)

// identityParts is how callers are identified: the authenticator for the
// Image API, the identity API to mount (built-in identity only), and the
// identity service a 401 points at.
type identityParts struct {
	authn   auth.Authenticator
	api     http.Handler
	authURI string
	// keystoneURL is the external Keystone (--auth keystone), where the
	// dashboard signs users in.
	keystoneURL string
	// key is glint's shared token key; the dashboard derives its session
	// key from it.
	key []byte
	// svc is the built-in identity service (nil with Keystone), which
	// resolves projects for the dashboard's sharing dialog.
	svc *identity.Service
}

// identity builds the configured identity. With built-in identity the first
// start bootstraps the admin project and user and writes DataDir/clouds.yaml
// (mode 0600) for them; the password is GLINT_BOOTSTRAP_PASSWORD or a
// random one, and is never logged.
func (s *Server) identity(ctx context.Context, store identity.Store) (identityParts, error) {
	cfg := s.cfg
	switch cfg.Auth {
	case config.AuthTrustedHeaders:
		return identityParts{authn: auth.TrustedHeaders{}}, nil
	case config.AuthKeystone:
		k := cfg.Keystone
		a, err := keystone.New(keystone.Config{URL: k.URL, Username: k.Username, Password: k.Password,
			UserDomainName: k.UserDomainName, ProjectName: k.ProjectName, ProjectDomainName: k.ProjectDomainName,
			CacheTTL: k.CacheTTL, TokenCache: s.tokenCache("keystone")}, &http.Client{Timeout: 30 * time.Second, Transport: forward.Transport{}}, nil)
		if err != nil {
			return identityParts{}, err
		}
		parts := identityParts{authn: a, authURI: a.AuthURI(), keystoneURL: k.URL}
		if !cfg.NoDashboard {
			// No tokens of our own to sign, but dashboard sessions
			// still need a key every node shares.
			if parts.key, err = loadTokenKey(cfg); err != nil {
				return identityParts{}, err
			}
		}
		return parts, nil
	}
	key, err := loadTokenKey(cfg)
	if err != nil {
		return identityParts{}, err
	}
	svc, err := identity.NewService(store, identity.Config{Key: key, TokenTTL: cfg.TokenTTL, PasswordCost: cfg.PasswordCost, Log: s.log,
		TokenCache: s.tokenCache("builtin")})
	if err != nil {
		return identityParts{}, err
	}
	if err := s.bootstrap(ctx, svc); err != nil {
		return identityParts{}, err
	}
	base := publicBase(cfg)
	h := identityapi.New(svc, s.log, identityapi.Options{PublicURL: cfg.PublicURL, Region: cfg.Region})
	return identityParts{authn: identity.NewTokenAuthenticator(svc), api: h, authURI: base + identity.PathPrefix, key: key, svc: svc}, nil
}

// loadTokenKey reads (or on first start creates) the shared token key.
func loadTokenKey(cfg config.Config) ([]byte, error) {
	keyFile := cfg.TokenKeyFile
	if keyFile == "" {
		keyFile = filepath.Join(cfg.DataDir, identity.KeyFileName)
	}
	key, err := identity.LoadOrCreateKey(keyFile)
	if err != nil {
		return nil, fmt.Errorf("token key: %w", err)
	}
	return key, nil
}

func (s *Server) bootstrap(ctx context.Context, svc *identity.Service) error {
	password := os.Getenv("GLINT_BOOTSTRAP_PASSWORD")
	if password == "" {
		password = identity.RandomPassword()
	}
	created, err := identity.Bootstrap(ctx, svc, identity.BootstrapOptions{Password: password})
	if err != nil {
		return fmt.Errorf("bootstrapping identity: %w", err)
	}
	if !created {
		return nil
	}
	path := filepath.Join(s.cfg.DataDir, "clouds.yaml")
	err = identity.WriteCloudsYAML(path, identity.CloudsOptions{
		AuthURL: identity.AuthURL(publicBase(s.cfg)), Username: identity.AdminUserName, Password: password,
		ProjectName: identity.AdminProjectName, Region: s.cfg.Region})
	if err != nil {
		return fmt.Errorf("writing clouds.yaml: %w", err)
	}
	s.log.Info("created the admin user; its credentials are in clouds.yaml (cloud glint)",
		"clouds_yaml", path, "use", "OS_CLIENT_CONFIG_FILE="+path+" openstack --os-cloud glint image list")
	return nil
}

// publicBase is the URL clients use: the configured one, or the listen
// address with an unspecified host replaced by loopback.
func publicBase(cfg config.Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimRight(cfg.PublicURL, "/")
	}
	host, port := cfg.Listen, ""
	if i := strings.LastIndex(cfg.Listen, ":"); i >= 0 {
		host, port = cfg.Listen[:i], cfg.Listen[i+1:]
	}
	switch host {
	case "", "0.0.0.0", "[::]", "::":
		host = "127.0.0.1"
	}
	return "http://" + host + ":" + port
}
