package server

import (
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/dashboard"
)

// dashboard builds the web dashboard over the Image API, signing users in
// where glint's identity lives: the built-in identity API in process, or
// the external Keystone. Trusted-headers mode has no sign-in and so no
// dashboard; neither has a server started with --no-dashboard.
func (s *Server) dashboard(images http.Handler, ident identityParts) (http.Handler, error) {
	cfg := s.cfg
	if cfg.NoDashboard || cfg.Auth == config.AuthTrustedHeaders {
		return nil, nil
	}
	var dir dashboard.Directory
	if ident.svc != nil {
		dir = projectDirectory{ident.svc}
	}
	return dashboard.New(s.log, dashboard.Options{
		Images:      images,
		Directory:   dir,
		Identity:    ident.api,
		KeystoneURL: ident.keystoneURL,
		Secret:      ident.key,
		HTTPS:       strings.HasPrefix(cfg.PublicURL, "https://"),
		IdleTimeout: cfg.IdleTimeout,
	})
}
