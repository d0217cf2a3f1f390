package identityapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/identity"
)

// httpError is an error decided at the HTTP level.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func httpErr(status int, msg string) error { return &httpError{status: status, msg: msg} }

func badRequest(msg string) error { return httpErr(http.StatusBadRequest, msg) }

// forbidden is Keystone's answer when policy refuses an action.
func forbidden(action string) error {
	return httpErr(http.StatusForbidden, "You are not authorized to perform the requested action: "+action+".")
}

// Messages Keystone uses for the statuses it answers without detail.
const (
	msgUnauthorized = "The request you have made requires authentication."
	msgInternal     = "An unexpected error prevented the server from fulfilling your request."
)

// statusOf maps an error to its status and the message shown. This and
// writeError are the only places errors become HTTP.
func statusOf(err error) (int, string) {
	var he *httpError
	if errors.As(err, &he) {
		return he.status, he.msg
	}
	var ie *identity.Error
	msg := ""
	if errors.As(err, &ie) {
		msg = ie.Msg
	}
	switch {
	case errors.Is(err, identity.ErrUnauthorized):
		// Never the reason: it would tell which credential was wrong.
		return http.StatusUnauthorized, msgUnauthorized
	case errors.Is(err, identity.ErrForbidden):
		return http.StatusForbidden, msg
	case errors.Is(err, identity.ErrNotFound):
		return http.StatusNotFound, msg
	case errors.Is(err, identity.ErrConflict):
		return http.StatusConflict, msg
	case errors.Is(err, identity.ErrInvalid):
		return http.StatusBadRequest, msg
	case errors.Is(err, identity.ErrBusy):
		return http.StatusTooManyRequests, msg
	}
	return http.StatusInternalServerError, msgInternal
}

// writeError answers with Keystone's error body. A 401 also names the
// identity service to authenticate with; unexpected errors are logged and
// answered with a message that reveals nothing.
func (h *Handler) writeError(w http.ResponseWriter, c *call, log *slog.Logger, err error) {
	status, msg := statusOf(err)
	switch {
	case status >= 500:
		log.ErrorContext(c.Context(), "identity request failed", "err", err)
	case status == http.StatusUnauthorized:
		log.InfoContext(c.Context(), "authentication failed", "reason", err.Error())
		w.Header().Set("WWW-Authenticate", identity.Challenge(identity.AuthURL(c.base)))
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	body := map[string]any{"error": map[string]any{
		"code": status, "message": msg, "title": http.StatusText(status),
	}}
	if status == http.StatusRequestEntityTooLarge {
		body["error"].(map[string]any)["title"] = "Request Entity Too Large"
	}
	writeJSON(w, c, status, body)
}

// writeJSON sends v with status; a HEAD request gets the headers only.
func writeJSON(w http.ResponseWriter, c *call, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	if c.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded; this is a bug, not input.
		panic(err)
	}
	w.WriteHeader(status)
	w.Write(b)
}

// decode reads a bounded JSON request body into v, rejecting trailing
// data. Unknown fields are ignored, as Keystone ignores what it does not
// use.
func (h *Handler) decode(w http.ResponseWriter, c *call, v any) error {
	if ct := c.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		return httpErr(http.StatusUnsupportedMediaType, "The request body must be JSON.")
	}
	body := http.MaxBytesReader(w, c.Body, h.opts.MaxJSONBody)
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &tooBig):
		return httpErr(http.StatusRequestEntityTooLarge, "Request is too large.")
	case errors.Is(err, io.EOF):
		return badRequest("Expecting a JSON request body.")
	}
	return badRequest("Malformed request body: the body is not valid JSON for this request.")
}
