// Package api serves the OpenStack Image API v2 over HTTP. Handlers decode
// a request, call one image.Service method and encode the answer; errors
// become HTTP in errors.go alone.
package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/accesslog"
	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/requestid"
)

// Options bound what one request may use.
type Options struct {
	// MaxJSONBody is the largest JSON request body accepted (bytes).
	MaxJSONBody int64
	// IdleTimeout ends an upload or download whose peer sends or takes
	// nothing for this long.
	IdleTimeout time.Duration
	// MaxTransfers bounds concurrent uploads plus downloads; more get 503.
	MaxTransfers int
	// MultiStore turns on the store API (/v2/info/stores, the stores
	// attribute, X-Image-Meta-Store), as Glance's enabled_backends does.
	MultiStore bool
	// Stores describes the configured stores, default first or flagged.
	Stores []StoreInfo
	// AuthURI is the identity service a 401 points clients at
	// (WWW-Authenticate: Keystone uri="..."); empty for none.
	AuthURI string
	// Metadefs serves /v2/metadefs; nil answers those paths with 404.
	Metadefs *metadef.Service
	// ShowDirectURL and ShowMultipleLocations add direct_url and
	// locations to image records (Glance's show_image_direct_url and
	// show_multiple_locations; both off by default, as they tell
	// clients where the data is kept).
	ShowDirectURL, ShowMultipleLocations bool
	// Observer is told about every answered request (metrics); nil for
	// none.
	Observer Observer
	// Events is told about finished downloads (the image.send
	// notification); nil for none.
	Events Events
	// Cache says this node has an image cache: the versions document
	// then lists the cache API's minors.
	Cache bool
}

// Observer is what the API reports to metrics: each answered request by
// route pattern, and refusals by a quota.
type Observer interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	QuotaRefused(quota string)
}

// Events is told what the API alone knows: how many bytes of an image a
// download sent, and to whom. from is the client's address when this
// node's image cache served the download ("" otherwise), as Glance's cache
// middleware reports it.
type Events interface {
	ImageSent(ctx context.Context, img *image.Image, sent int64, to caller.Principal, from string)
}

// StoreInfo describes one store for /v2/info/stores.
type StoreInfo struct {
	ID          string
	Description string
	Default     bool
	Type        string
	// ReadOnly marks an http store ("read-only": "true", as Glance).
	ReadOnly bool
	// Properties are shown to admins by /v2/info/stores/detail; never
	// secrets.
	Properties map[string]any
}

// Defaults for Options.
const (
	DefaultMaxJSONBody  = 1 << 20
	DefaultIdleTimeout  = 2 * time.Minute
	DefaultMaxTransfers = 64
)

// Handler is the Image API.
type Handler struct {
	svc       *image.Service
	authn     auth.Authenticator
	log       *slog.Logger
	opts      Options
	transfers chan struct{}
	mux       *http.ServeMux
}

// New builds the API handler.
func New(svc *image.Service, authn auth.Authenticator, log *slog.Logger, opts Options) *Handler {
	if opts.MaxJSONBody <= 0 {
		opts.MaxJSONBody = DefaultMaxJSONBody
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.MaxTransfers <= 0 {
		opts.MaxTransfers = DefaultMaxTransfers
	}
	h := &Handler{svc: svc, authn: authn, log: log, opts: opts,
		transfers: make(chan struct{}, opts.MaxTransfers), mux: http.NewServeMux()}
	h.routes()
	return h
}

type route struct {
	method, pattern string
	handle          func(http.ResponseWriter, *http.Request) error
	public          bool // no authentication (version discovery)
}

// routes is the whole API surface in one table.
func (h *Handler) routes() {
	table := []route{
		{"GET", "/{$}", h.listVersions, true},
		{"GET", "/versions", h.listVersions, true},
		{"GET", "/v2/{$}", h.listVersions, true},

		{"GET", "/v2/images", h.listImages, false},
		{"POST", "/v2/images", h.createImage, false},
		{"GET", "/v2/images/{id}", h.showImage, false},
		{"PATCH", "/v2/images/{id}", h.updateImage, false},
		{"DELETE", "/v2/images/{id}", h.deleteImage, false},

		{"PUT", "/v2/images/{id}/file", h.uploadData, false},
		{"GET", "/v2/images/{id}/file", h.downloadData, false},

		{"PUT", "/v2/images/{id}/stage", h.stageData, false},
		{"POST", "/v2/images/{id}/import", h.importImage, false},
		{"GET", "/v2/images/{id}/tasks", h.imageTasks, false},
		{"GET", "/v2/images/{id}/locations", h.listLocations, false},
		{"POST", "/v2/images/{id}/locations", h.addLocation, false},
		{"GET", "/v2/tasks", h.listTasks, false},
		{"POST", "/v2/tasks", h.createTask, false},
		{"GET", "/v2/tasks/{id}", h.showTask, false},
		{"DELETE", "/v2/tasks/{id}", h.deleteTask, false},

		{"POST", "/v2/images/{id}/actions/deactivate", h.deactivate, false},
		{"POST", "/v2/images/{id}/actions/reactivate", h.reactivate, false},

		{"PUT", "/v2/images/{id}/tags/{tag}", h.addTag, false},
		{"DELETE", "/v2/images/{id}/tags/{tag}", h.removeTag, false},

		{"GET", "/v2/images/{id}/members", h.listMembers, false},
		{"POST", "/v2/images/{id}/members", h.addMember, false},
		{"GET", "/v2/images/{id}/members/{member}", h.showMember, false},
		{"PUT", "/v2/images/{id}/members/{member}", h.updateMember, false},
		{"DELETE", "/v2/images/{id}/members/{member}", h.deleteMember, false},

		{"GET", "/v2/schemas/image", h.schema("image"), false},
		{"GET", "/v2/schemas/images", h.schema("images"), false},
		{"GET", "/v2/schemas/member", h.schema("member"), false},
		{"GET", "/v2/schemas/members", h.schema("members"), false},
		{"GET", "/v2/schemas/task", h.schema("task"), false},
		{"GET", "/v2/schemas/tasks", h.schema("tasks"), false},
		{"GET", "/v2/info/import", h.importInfo, false},
		{"GET", "/v2/info/stores", h.storesInfo, false},
		{"GET", "/v2/info/stores/detail", h.storesDetail, false},
		{"GET", "/v2/info/usage", h.usageInfo, false},
		{"GET", "/v2/quotas/{project}", h.showQuotas, false},
		{"PUT", "/v2/quotas/{project}", h.setQuotas, false},
		{"DELETE", "/v2/quotas/{project}", h.resetQuotas, false},
	}
	table = append(table, h.metadefRoutes()...)
	table = append(table, h.cacheRoutes()...)
	allowed := map[string][]string{}
	for _, rt := range table {
		h.mux.Handle(rt.method+" "+rt.pattern, h.wrap(rt))
		allowed[rt.pattern] = append(allowed[rt.pattern], rt.method)
	}
	// A known path with another method is 405 with Allow, in Glance's body.
	for pattern, methods := range allowed {
		sort.Strings(methods)
		allow := strings.Join(methods, ", ")
		h.mux.Handle(pattern, h.wrap(route{pattern: pattern, public: true,
			handle: func(w http.ResponseWriter, r *http.Request) error {
				// WebOb's 405 has a body template of its own.
				return &httpError{status: http.StatusMethodNotAllowed,
					raw:    "The method " + r.Method + " is not allowed for this resource. <br /><br />\n",
					header: http.Header{"Allow": {allow}}}
			}}))
	}
	h.mux.Handle("/", h.wrap(route{pattern: "/", public: true, handle: h.notFoundOrVersions}))
}

// versionPrefix matches /v2.N, which Glance routes to the one v2 API.
var versionPrefix = regexp.MustCompile(`^/v2\.[0-9]+(/|$)`)

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if loc := versionPrefix.FindStringIndex(r.URL.Path); loc != nil {
		r.URL.Path = "/v2" + r.URL.Path[loc[1]-1:]
		if !strings.HasPrefix(r.URL.Path, "/v2/") {
			r.URL.Path = "/v2/"
		}
		r.URL.RawPath = ""
	}
	h.mux.ServeHTTP(w, r)
}

func (h *Handler) notFoundOrVersions(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path == "/v2" || strings.HasPrefix(r.URL.Path, "/v2/") {
		return &httpError{status: http.StatusNotFound, explanation: "The resource could not be found."}
	}
	return h.listVersions(w, r)
}

// wrap adds what every request gets: a request id, an access log line,
// panic recovery, authentication, and error encoding.
func (h *Handler) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		reqID := newRequestID()
		w.Header().Set(requestid.Header, reqID)
		r = r.WithContext(requestid.With(r.Context(), reqID))
		var who caller.Principal
		rec := &accesslog.Recorder{ResponseWriter: w}
		// The request's own logger is made only on the error paths: With
		// formats its attribute on every call, and most requests succeed.
		reqLog := func() *slog.Logger { return h.log.With("request_id", reqID) }
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				reqLog().ErrorContext(r.Context(), "panic in handler", "panic", p)
				if !rec.Wrote {
					writeError(rec, r, reqLog(), errInternal)
				}
			}
			elapsed := time.Since(start)
			status := rec.Status
			if status == 0 {
				status = http.StatusOK
			}
			h.log.LogAttrs(r.Context(), slog.LevelInfo, "request", slog.String("request_id", reqID),
				slog.String("method", r.Method), slog.String("route", rt.pattern),
				slog.String("path", r.URL.Path), slog.Int("status", status), slog.Int64("bytes", rec.Bytes),
				slog.Int64("duration_ms", elapsed.Milliseconds()),
				slog.String("project_id", who.ProjectID), slog.String("user_id", who.UserID))
			if h.opts.Observer != nil {
				h.opts.Observer.ObserveRequest(rt.pattern, r.Method, status, elapsed)
			}
		}()
		if !rt.public {
			p, err := h.authn.Authenticate(r.Context(), r)
			if err != nil {
				writeError(rec, r, reqLog(), h.authError(err))
				return
			}
			who = p
			ctx := caller.WithPrincipal(r.Context(), p)
			if tok := r.Header.Get("X-Auth-Token"); tok != "" {
				// For the services called on the caller's behalf
				// (an external Barbican for image signatures).
				ctx = caller.WithToken(ctx, tok)
			}
			r = r.WithContext(ctx)
		}
		if id := r.PathValue("id"); id != "" {
			r.SetPathValue("id", image.CanonicalID(id))
		}
		if err := rt.handle(rec, r); err != nil {
			var qe *image.QuotaError
			if h.opts.Observer != nil && errors.As(err, &qe) {
				h.opts.Observer.QuotaRefused(qe.Quota)
			}
			if rec.Wrote {
				reqLog().WarnContext(r.Context(), "error after response started", "err", err)
				return
			}
			writeError(rec, r, reqLog(), err)
		}
	})
}

var (
	errInternal     = &httpError{status: http.StatusInternalServerError, explanation: "The server has either erred or is incapable of performing the requested operation."}
	errUnauthorized = &httpError{status: http.StatusUnauthorized, explanation: "This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required."}
)

// authError answers a failed authentication: 401 with a pointer to the
// identity service, or 503 when it could not be asked.
func (h *Handler) authError(err error) error {
	if errors.Is(err, auth.ErrUnavailable) {
		return &httpError{status: http.StatusServiceUnavailable, explanation: "The identity service could not validate the token; try again later.",
			header: http.Header{"Retry-After": {retryAfterSeconds(image.RetryAfter(err))}}}
	}
	e := *errUnauthorized
	if h.opts.AuthURI != "" {
		e.header = http.Header{"Www-Authenticate": {`Keystone uri="` + h.opts.AuthURI + `"`}}
	}
	return &e
}

// principal returns the authenticated caller (set by wrap).
func principal(r *http.Request) caller.Principal {
	p, _ := caller.FromContext(r.Context())
	return p
}
