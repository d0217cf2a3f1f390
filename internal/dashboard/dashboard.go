// Package dashboard is glint's web dashboard: the Images panels of
// Horizon for projects and admins, served under /dashboard/ by `glint
// serve`. Pages are rendered on the server with html/template; htmx (one
// vendored file) swaps parts of them, and a small script streams uploads
// from the browser to the Image API with a progress bar.
//
// The dashboard holds no privileges of its own. A user signs in through
// the identity service glint uses (built-in or external Keystone), the
// resulting tokens live in a sealed cookie, and every action is a call to
// the public Image API with the user's token, so the API's policy and
// quotas apply unchanged.
package dashboard

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Prefix is where the dashboard is mounted.
const Prefix = "/dashboard/"

// Options configure the dashboard.
type Options struct {
	// Images is the Image API handler; the dashboard calls it in process.
	Images http.Handler
	// Identity is glint's built-in identity API (paths relative to its
	// mount point: /v3/auth/tokens, ...), or nil with KeystoneURL.
	Identity http.Handler
	// Directory resolves projects with built-in identity; nil with
	// Keystone (see Directory).
	Directory Directory
	// KeystoneURL is an external Keystone's v3 URL, used when Identity
	// is nil.
	KeystoneURL string
	// KeystoneTransport reaches KeystoneURL; default a transport with
	// timeouts.
	KeystoneTransport http.RoundTripper
	// Secret is the key the session cookies are sealed with (glint's
	// token key; a separate key is derived from it). Nodes that share it
	// share sessions.
	Secret []byte
	// HTTPS marks cookies Secure even for plain-HTTP requests, for a
	// glint behind a TLS-terminating proxy (public URL https://...).
	HTTPS bool
	// IdleTimeout cuts off an upload or download through the dashboard
	// whose browser stalls this long.
	IdleTimeout time.Duration
	// DefaultDomain is preset in the sign-in form; default "Default".
	DefaultDomain string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
}

// Handler serves the dashboard.
type Handler struct {
	opts             Options
	log              *slog.Logger
	sealer           *sealer
	imageRT          http.RoundTripper
	identityRT       http.RoundTripper
	identityEndpoint string
	mux              *http.ServeMux
	csrf             *http.CrossOriginProtection
	now              func() time.Time
	ui               *ui
}

// New builds the dashboard.
func New(log *slog.Logger, opts Options) (*Handler, error) {
	if opts.Images == nil {
		return nil, errors.New("dashboard: no Image API handler")
	}
	sealer, err := newSealer(opts.Secret)
	if err != nil {
		return nil, err
	}
	if opts.DefaultDomain == "" {
		opts.DefaultDomain = "Default"
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 2 * time.Minute
	}
	h := &Handler{opts: opts, log: log, sealer: sealer, imageRT: handlerTransport{opts.Images},
		mux: http.NewServeMux(), csrf: http.NewCrossOriginProtection(), now: opts.Now}
	if h.now == nil {
		h.now = time.Now
	}
	switch {
	case opts.Identity != nil:
		h.identityRT = handlerTransport{opts.Identity}
		h.identityEndpoint = internalBase + "v3/"
	case opts.KeystoneURL != "":
		h.identityRT = opts.KeystoneTransport
		if h.identityRT == nil {
			h.identityRT = keystoneTransport()
		}
		h.identityEndpoint = strings.TrimRight(opts.KeystoneURL, "/") + "/"
	default:
		return nil, errors.New("dashboard: no identity service to sign in with")
	}
	if h.ui, err = newUI(); err != nil {
		return nil, err
	}
	h.routes()
	return h, nil
}

func keystoneTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = 30 * time.Second
	t.MaxIdleConnsPerHost = 16
	return t
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	// Scripts and styles only from our own files; nothing inline, nothing
	// framed, forms only to us.
	hdr.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "same-origin")
	hdr.Set("Cross-Origin-Opener-Policy", "same-origin")
	hdr.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	// Browsers refuse cross-site unsafe requests here before any handler
	// runs; the CSRF token check in each handler is the second lock.
	h.csrf.Handler(h.mux).ServeHTTP(w, r)
}

// RedirectBrowsers sends a browser that opens glint's root to the
// dashboard, and everything else (API clients asking for the version
// document) to next. Only an explicit text/html in Accept counts as a
// browser: API clients send application/json or */*.
func RedirectBrowsers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead) && wantsHTML(r) {
			http.Redirect(w, r, Prefix, http.StatusFound)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func wantsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			return true
		}
	}
	return false
}
