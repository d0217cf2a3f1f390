// Package keymanagerapi serves glint's built-in key manager as the subset
// of Barbican's secrets API (v1) that clients use to store and fetch
// certificates: python3-barbicanclient (`openstack secret store`, `get`,
// `list`, `delete`) and castellan work against it unchanged. It is mounted
// under PathPrefix and listed in the catalog as the key-manager service.
package keymanagerapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/accesslog"
	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/keymanager"
)

// PathPrefix is where the key manager is mounted on glint's listener
// (devstack mounts Barbican at the same path).
const PathPrefix = "/key-manager"

// Options configure the handler.
type Options struct {
	// PublicURL is glint's public base URL (secret_ref links are built
	// from it); empty: taken from each request's Host.
	PublicURL string
}

// Handler is the secrets API.
type Handler struct {
	svc   *keymanager.Service
	authn auth.Authenticator
	log   *slog.Logger
	opts  Options
	mux   *http.ServeMux
}

// New builds the handler; it expects paths with PathPrefix stripped.
func New(svc *keymanager.Service, authn auth.Authenticator, log *slog.Logger, opts Options) *Handler {
	h := &Handler{svc: svc, authn: authn, log: log, opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /{$}", h.versions)
	h.mux.HandleFunc("GET /v1", h.version)
	h.mux.HandleFunc("GET /v1/{$}", h.version)
	for _, p := range []string{"/v1/secrets", "/v1/secrets/{$}"} {
		h.mux.HandleFunc("POST "+p, h.authed(h.create))
		h.mux.HandleFunc("GET "+p, h.authed(h.list))
	}
	h.mux.HandleFunc("GET /v1/secrets/{id}", h.authed(h.get))
	h.mux.HandleFunc("GET /v1/secrets/{id}/payload", h.authed(h.payload))
	h.mux.HandleFunc("PUT /v1/secrets/{id}", h.authed(h.put))
	h.mux.HandleFunc("DELETE /v1/secrets/{id}", h.authed(h.delete))
	return h
}

// ServeHTTP serves a request and writes its access log line (never the
// payload, nor the token).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "" {
		r.URL.Path = "/"
	}
	start := time.Now()
	reqID := "req-" + uuid.NewString()
	w.Header().Set("X-Openstack-Request-Id", reqID)
	rec := &accesslog.Recorder{ResponseWriter: w}
	_, route := h.mux.Handler(r)
	defer func() {
		status := rec.Status
		if status == 0 {
			status = http.StatusOK
		}
		h.log.InfoContext(r.Context(), "request", "request_id", reqID, "method", r.Method, "route", PathPrefix+strings.TrimPrefix(route, r.Method+" "),
			"status", status, "bytes", rec.Bytes, "duration_ms", time.Since(start).Milliseconds())
	}()
	h.mux.ServeHTTP(rec, r)
}

// authed authenticates the caller first; a failure is Barbican's 401.
func (h *Handler) authed(fn func(w http.ResponseWriter, r *http.Request, p caller.Principal) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, err := h.authn.Authenticate(r.Context(), r)
		if err != nil {
			status, msg := http.StatusUnauthorized, "The request you have made requires authentication."
			if errors.Is(err, auth.ErrUnavailable) {
				status, msg = http.StatusServiceUnavailable, "The identity service could not validate the token; try again later."
			}
			writeError(w, status, msg)
			return
		}
		if err := fn(w, r, p); err != nil {
			h.fail(w, r, err)
		}
	}
}

// fail maps a domain error to Barbican's status and error body.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ke *keymanager.Error
	if !errors.As(err, &ke) {
		h.log.ErrorContext(r.Context(), "key manager request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, http.StatusInternalServerError, "The key manager could not complete the request; try again later.")
		return
	}
	status := map[error]int{
		keymanager.ErrNotFound: http.StatusNotFound, keymanager.ErrForbidden: http.StatusForbidden,
		keymanager.ErrQuota: http.StatusForbidden, keymanager.ErrInvalid: http.StatusBadRequest,
		keymanager.ErrTooLarge: http.StatusRequestEntityTooLarge, keymanager.ErrConflict: http.StatusConflict,
	}[ke.Kind]
	if status == 0 {
		status = http.StatusInternalServerError
	}
	writeError(w, status, ke.Msg)
}

// writeError writes Barbican's error body: {"code", "title", "description"}.
func writeError(w http.ResponseWriter, status int, description string) {
	writeJSON(w, status, map[string]any{"code": status, "title": http.StatusText(status), "description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only maps of strings and numbers are encoded: a bug, not input.
		panic(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (h *Handler) base(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return strings.TrimRight(h.opts.PublicURL, "/") + PathPrefix
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + PathPrefix
}

func (h *Handler) versionJSON(r *http.Request) map[string]any {
	return map[string]any{
		"id": "v1", "status": "stable", "updated": "2015-04-28T00:00:00Z",
		"links":       []map[string]string{{"rel": "self", "href": h.base(r) + "/v1/"}},
		"media-types": []map[string]string{{"base": "application/json", "type": "application/vnd.openstack.key-manager-v1+json"}},
	}
}

// versions answers the root as Barbican does: 300 and the one version.
func (h *Handler) versions(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": map[string]any{"values": []any{h.versionJSON(r)}}})
}

func (h *Handler) version(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"version": h.versionJSON(r)})
}

// createRequest is POST /v1/secrets.
type createRequest struct {
	Name                   *string `json:"name"`
	SecretType             *string `json:"secret_type"`
	Algorithm              *string `json:"algorithm"`
	BitLength              *int    `json:"bit_length"`
	Mode                   *string `json:"mode"`
	Expiration             *string `json:"expiration"`
	Payload                *string `json:"payload"`
	PayloadContentType     *string `json:"payload_content_type"`
	PayloadContentEncoding *string `json:"payload_content_encoding"`
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		writeError(w, http.StatusUnsupportedMediaType, "Unexpected content type. Expected content types are: ['application/json']")
		return nil
	}
	// A payload base64-encoded, plus the metadata fields.
	limit := int64(h.svc.MaxPayload()*4/3 + 8192)
	var req createRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("The request is larger than the %d bytes allowed.", limit))
			return nil
		}
		writeError(w, http.StatusBadRequest, "Malformed JSON")
		return nil
	}
	in := keymanager.NewSecret{Name: str(req.Name), Type: str(req.SecretType), Algorithm: str(req.Algorithm), Mode: str(req.Mode),
		Payload: str(req.Payload), ContentType: str(req.PayloadContentType), ContentEncoding: str(req.PayloadContentEncoding)}
	if req.BitLength != nil {
		in.BitLength = *req.BitLength
	}
	if e := str(req.Expiration); e != "" {
		t, err := parseTime(e)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Invalid date for 'expiration'")
			return nil
		}
		in.Expiration = &t
	}
	sec, err := h.svc.Create(r.Context(), p, in)
	if err != nil {
		return err
	}
	ref := h.base(r) + "/v1/secrets/" + sec.ID
	w.Header().Set("Location", ref)
	writeJSON(w, http.StatusCreated, map[string]string{"secret_ref": ref})
	return nil
}

// parseTime reads the ISO 8601 forms clients send (with or without a
// zone; a time without one is UTC, as in Barbican).
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("bad time")
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05") }

func (h *Handler) secretJSON(r *http.Request, s *keymanager.Secret) map[string]any {
	j := map[string]any{
		"secret_ref": h.base(r) + "/v1/secrets/" + s.ID, "name": nullable(s.Name), "secret_type": s.Type,
		"algorithm": nullable(s.Algorithm), "bit_length": nil, "mode": nullable(s.Mode), "status": "ACTIVE",
		"created": isoTime(s.CreatedAt), "updated": isoTime(s.UpdatedAt), "expiration": nil,
		"creator_id": s.CreatorID, "content_types": map[string]string{"default": s.ContentType},
	}
	if s.BitLength > 0 {
		j["bit_length"] = s.BitLength
	}
	if s.Expiration != nil {
		j["expiration"] = s.Expiration.UTC().Format("2006-01-02T15:04:05+00:00")
	}
	return j
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	accept := r.Header.Get("Accept")
	if accept != "" && accept != "application/json" && !strings.Contains(accept, "*/*") && !strings.Contains(accept, "application/json") {
		// Barbican's legacy way to get a payload: GET with its media type.
		return h.payload(w, r, p)
	}
	sec, err := h.svc.Get(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h.secretJSON(r, sec))
	return nil
}

func (h *Handler) payload(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	sec, err := h.svc.Fetch(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if !accepts(r.Header.Get("Accept"), sec.ContentType) {
		writeError(w, http.StatusNotAcceptable, "Wrong payload content-type")
		return nil
	}
	w.Header().Set("Content-Type", sec.ContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(sec.Payload)))
	w.WriteHeader(http.StatusOK)
	w.Write(sec.Payload)
	return nil
}

// accepts reports whether an Accept header lets a payload of media type
// ct through (no header, a wildcard or the type itself).
func accepts(accept, ct string) bool {
	if accept == "" {
		return true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && (mt == "*/*" || mt == ct || mt == strings.SplitN(ct, "/", 2)[0]+"/*") {
			return true
		}
	}
	return false
}

// put would add a payload to a metadata-only secret; glint's secrets
// always have theirs, so Barbican's answer for a secret with data.
func (h *Handler) put(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	if _, err := h.svc.Get(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	writeError(w, http.StatusConflict, "Secret already has data, cannot modify it.")
	return nil
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	if err := h.svc.Delete(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, p caller.Principal) error {
	q := r.URL.Query()
	lq := keymanager.ListQuery{Name: q.Get("name"), Type: q.Get("secret_type")}
	for name, dst := range map[string]*int{"limit": &lq.Limit, "offset": &lq.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, fmt.Sprintf("Invalid %s: %s", name, v))
				return nil
			}
			*dst = n
		}
	}
	secrets, total, err := h.svc.List(r.Context(), p, lq)
	if err != nil {
		return err
	}
	out := make([]any, 0, len(secrets))
	for _, s := range secrets {
		out = append(out, h.secretJSON(r, s))
	}
	body := map[string]any{"secrets": out, "total": total}
	limit := max(min(lq.Limit, keymanager.MaxListLimit), 0)
	if limit == 0 {
		limit = keymanager.DefaultListLimit
	}
	page := func(offset int) string {
		return fmt.Sprintf("%s/v1/secrets?limit=%d&offset=%d", h.base(r), limit, offset)
	}
	if lq.Offset+len(secrets) < total {
		body["next"] = page(lq.Offset + limit)
	}
	if lq.Offset > 0 {
		body["previous"] = page(max(lq.Offset-limit, 0))
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
