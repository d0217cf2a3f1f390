// Package identityapi serves glint's built-in identity service over HTTP:
// the Keystone v3 subset that python-openstackclient, openstacksdk and
// gophercloud use to log in and to manage projects, users and role
// assignments. It answers in Keystone's shapes (see
// shared/reference/identity-api.md); the logic lives in internal/identity.
//
// The handler serves paths relative to its mount point: glint mounts it
// under identity.PathPrefix ("/identity") with http.StripPrefix, so it
// sees "/", "/v3", "/v3/auth/tokens", ...
package identityapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/accesslog"
	"github.com/glint-image/glint/internal/identity"
)

// Options configure the handler.
type Options struct {
	// PublicURL is the base URL clients reach glint at, without the
	// /identity prefix (http://203.0.113.5:9292). Links, the catalog and
	// the 401 challenge are built from it. Empty: taken from each request's
	// Host (and TLS), which is right unless a proxy changes them.
	PublicURL string
	// Region names the catalog's region; default RegionOne.
	Region string
	// KeyManagerPath is where the built-in key manager is mounted, for
	// the catalog; empty when it is not.
	KeyManagerPath string
	// MaxJSONBody bounds request bodies (bytes); default 64 KiB, plenty for
	// any identity request.
	MaxJSONBody int64
}

// DefaultMaxJSONBody is the default of Options.MaxJSONBody.
const DefaultMaxJSONBody = 64 << 10

// Handler is the identity API.
type Handler struct {
	svc  *identity.Service
	log  *slog.Logger
	opts Options
	mux  *http.ServeMux
}

// New builds the handler.
func New(svc *identity.Service, log *slog.Logger, opts Options) *Handler {
	if opts.MaxJSONBody <= 0 {
		opts.MaxJSONBody = DefaultMaxJSONBody
	}
	if opts.Region == "" {
		opts.Region = identity.DefaultRegion
	}
	opts.PublicURL = strings.TrimRight(opts.PublicURL, "/")
	h := &Handler{svc: svc, log: log, opts: opts, mux: http.NewServeMux()}
	h.routes()
	return h
}

// call is one request as the handlers see it.
type call struct {
	*http.Request
	// token is the caller's validated X-Auth-Token; nil on public routes.
	token *identity.Token
	// base is glint's public base URL, without a trailing slash.
	base string
}

// url returns an absolute identity URL for a path under /v3.
func (c *call) url(path string) string { return identity.AuthURL(c.base) + path }

type handlerFunc func(w http.ResponseWriter, c *call) error

type route struct {
	method, pattern string
	handle          handlerFunc
	public          bool // no X-Auth-Token needed
}

// routes is the whole API in one table.
func (h *Handler) routes() {
	table := []route{
		{"GET", "/{$}", h.versions, true},
		{"GET", "/v3", h.version, true},
		{"GET", "/v3/{$}", h.version, true},

		{"POST", "/v3/auth/tokens", h.issueToken, true},
		{"GET", "/v3/auth/tokens", h.validateToken, false},
		{"HEAD", "/v3/auth/tokens", h.checkToken, false},
		{"DELETE", "/v3/auth/tokens", h.revokeToken, false},
		{"GET", "/v3/auth/projects", h.authProjects, false},
		{"GET", "/v3/auth/catalog", h.authCatalog, false},
		{"GET", "/v3/auth/system", h.authSystem, false},

		{"GET", "/v3/domains", h.listDomains, false},
		{"GET", "/v3/domains/{id}", h.showDomain, false},

		{"GET", "/v3/projects", h.listProjects, false},
		{"POST", "/v3/projects", h.createProject, false},
		{"GET", "/v3/projects/{id}", h.showProject, false},
		{"PATCH", "/v3/projects/{id}", h.updateProject, false},
		{"DELETE", "/v3/projects/{id}", h.deleteProject, false},

		{"GET", "/v3/users", h.listUsers, false},
		{"POST", "/v3/users", h.createUser, false},
		{"GET", "/v3/users/{id}", h.showUser, false},
		{"PATCH", "/v3/users/{id}", h.updateUser, false},
		{"DELETE", "/v3/users/{id}", h.deleteUser, false},
		{"GET", "/v3/users/{id}/projects", h.userProjects, false},
		{"POST", "/v3/users/{id}/password", h.changePassword, false},

		{"GET", "/v3/roles", h.listRoles, false},
		{"POST", "/v3/roles", h.createRole, false},
		{"GET", "/v3/roles/{id}", h.showRole, false},
		{"DELETE", "/v3/roles/{id}", h.deleteRole, false},

		{"GET", "/v3/projects/{project}/users/{user}/roles", h.listGrants, false},
		{"PUT", "/v3/projects/{project}/users/{user}/roles/{role}", h.grant, false},
		{"HEAD", "/v3/projects/{project}/users/{user}/roles/{role}", h.checkGrant, false},
		{"GET", "/v3/projects/{project}/users/{user}/roles/{role}", h.checkGrant, false},
		{"DELETE", "/v3/projects/{project}/users/{user}/roles/{role}", h.revokeGrant, false},
		{"GET", "/v3/system/users/{user}/roles", h.listGrants, false},
		{"PUT", "/v3/system/users/{user}/roles/{role}", h.grant, false},
		{"HEAD", "/v3/system/users/{user}/roles/{role}", h.checkGrant, false},
		{"GET", "/v3/system/users/{user}/roles/{role}", h.checkGrant, false},
		{"DELETE", "/v3/system/users/{user}/roles/{role}", h.revokeGrant, false},
		{"GET", "/v3/role_assignments", h.listAssignments, false},

		{"GET", "/v3/services", h.listServices, false},
		{"GET", "/v3/services/{id}", h.showService, false},
		{"GET", "/v3/endpoints", h.listEndpoints, false},
		{"GET", "/v3/endpoints/{id}", h.showEndpoint, false},
		{"GET", "/v3/regions", h.listRegions, false},
		{"GET", "/v3/regions/{id}", h.showRegion, false},
	}
	allowed := map[string][]string{}
	for _, rt := range table {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	// A known path with another method: 405 in Keystone's error body.
	for pattern, methods := range allowed {
		sort.Strings(methods)
		allow := strings.Join(methods, ", ")
		h.mux.Handle(pattern, h.wrap(route{pattern: pattern, public: true,
			handle: func(w http.ResponseWriter, c *call) error {
				w.Header().Set("Allow", allow)
				return httpErr(http.StatusMethodNotAllowed, "The method is not allowed for the requested URL.")
			}}))
	}
	h.mux.Handle("/", h.wrap(route{pattern: "/", public: true,
		handle: func(w http.ResponseWriter, c *call) error {
			return httpErr(http.StatusNotFound, "The resource could not be found.")
		}}))
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// StripPrefix turns a request for the bare mount point into "".
	if r.URL.Path == "" {
		r.URL.Path = "/"
	}
	h.mux.ServeHTTP(w, r)
}

// wrap adds what every request gets: a request id, an access log line,
// panic recovery, authentication, and error encoding.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := "req-" + uuid.NewString()
		w.Header().Set("X-Openstack-Request-Id", reqID)
		rec := &accesslog.Recorder{ResponseWriter: w}
		log := h.log.With("request_id", reqID)
		c := &call{Request: r, base: h.baseURL(r)}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				log.ErrorContext(r.Context(), "panic in identity handler", "panic", p)
				if !rec.Wrote {
					h.writeError(rec, c, log, fmt.Errorf("panic: %v", p))
				}
			}
			log.InfoContext(r.Context(), "request", "method", r.Method, "route", "/identity"+rt.pattern,
				"status", rec.Status, "duration_ms", time.Since(start).Milliseconds())
		}()
		if !rt.public {
			t, err := h.svc.ValidateToken(r.Context(), r.Header.Get("X-Auth-Token"))
			if err != nil {
				h.writeError(rec, c, log, err)
				return
			}
			c.token = t
		}
		if err := rt.handle(rec, c); err != nil {
			h.writeError(rec, c, log, err)
		}
	})
}

// baseURL is glint's public base URL: the configured one, else the one
// the request came in on.
func (h *Handler) baseURL(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return h.opts.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
