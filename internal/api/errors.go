package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/metadef"
)

// httpError is an error already decided at the HTTP level (bad media type,
// malformed JSON, unknown path).
type httpError struct {
	status int
	// explanation and detail are composed as WebOb composes them; raw,
	// when set, replaces that composition (Glance's 415 has its own text).
	explanation, detail, raw string
	header                   http.Header
}

func (e *httpError) Error() string { return e.explanation + e.detail + e.raw }

func badRequest(msg string) error { return &httpError{status: http.StatusBadRequest, explanation: msg} }

// statusOf maps a domain error kind to its status code. This and writeError
// are the only places where errors become HTTP.
func statusOf(err error) int {
	switch {
	case errors.Is(err, image.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, image.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, image.ErrConflict), errors.Is(err, image.ErrDuplicate):
		return http.StatusConflict
	case errors.Is(err, image.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, image.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, image.ErrGone):
		return http.StatusGone
	case errors.Is(err, image.ErrRange):
		return http.StatusRequestedRangeNotSatisfiable
	case errors.Is(err, image.ErrUnsupported):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, image.ErrTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, image.ErrUnavailable), errors.Is(err, blob.ErrUnavailable):
		// A database or object store that cannot be reached (the stores
		// say so): the request may succeed later without anyone fixing
		// glint.
		return http.StatusServiceUnavailable
	case errors.Is(err, metadef.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, metadef.ErrForbidden), errors.Is(err, metadef.ErrProtected):
		return http.StatusForbidden
	case errors.Is(err, metadef.ErrDuplicate):
		return http.StatusConflict
	case errors.Is(err, metadef.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

// defaultExplanations are WebOb's class explanations, which Glance shows
// before the detail when it raises an error with a detail only.
var defaultExplanations = map[int]string{
	http.StatusConflict:  "There was a conflict when trying to complete your request.",
	http.StatusForbidden: "Access was denied to this resource.",
}

// writeError answers a failed request the way Glance does: a JSON body
// when the client accepts JSON, plain text otherwise. Unexpected errors are
// logged and answered with a generic 500 that reveals nothing.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	he := asHTTPError(err)
	if he.status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "status", he.status)
	}
	for k, v := range he.header {
		w.Header()[k] = v
	}
	message := he.raw
	if message == "" {
		message = he.explanation + "<br /><br />\n" + he.detail + "\n\n"
	}
	status := strconv.Itoa(he.status) + " " + http.StatusText(he.status)
	if acceptsJSON(r) {
		body, _ := json.Marshal(map[string]string{
			"message": message,
			"code":    status,
			"title":   http.StatusText(he.status),
		})
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(he.status)
		w.Write(body)
		return
	}
	body := status + "\n\n" + stripTags(message)
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(he.status)
	w.Write([]byte(body))
}

func asHTTPError(err error) *httpError {
	var he *httpError
	if errors.As(err, &he) {
		return he
	}
	he = domainHTTPError(err)
	if he.status == http.StatusServiceUnavailable {
		he.header = http.Header{"Retry-After": {retryAfterSeconds(image.RetryAfter(err))}}
	}
	return he
}

// defaultRetryAfter is the Retry-After of a 503 whose cause did not say
// how long to wait (a database refusing writes, an object store or key
// manager that did not answer). Five seconds, as glint's other 503s (too
// many transfers, too many clients sending): one number for a client to
// see, long enough that retries do not pile onto a backend that is
// failing over, short enough that a resumable upload does not sit idle
// long after a blip. Glance sends no Retry-After on its 503s (webob's
// HTTPServiceUnavailable as raised, without headers); glint adds it
// because the clients that honour it then wait instead of guessing, and
// the status, body and everything else stay Glance's.
const defaultRetryAfter = 5 * time.Second

// retryAfterSeconds renders a wait as Retry-After's whole seconds,
// rounded up so a client never comes back before the cause said.
func retryAfterSeconds(d time.Duration) string {
	if d <= 0 {
		d = defaultRetryAfter
	}
	return strconv.FormatInt(int64((d+time.Second-1)/time.Second), 10)
}

// domainHTTPError is the status and message of an error from the domain
// or a store.
func domainHTTPError(err error) *httpError {
	status := statusOf(err)
	var me *metadef.Error
	if errors.As(err, &me) && status < 500 {
		return &httpError{status: status, explanation: me.Msg}
	}
	var de *image.Error
	if !errors.As(err, &de) {
		if status == http.StatusServiceUnavailable {
			return &httpError{status: status, explanation: "A storage backend of the image service is unavailable; try again later."}
		}
		if status == http.StatusInternalServerError {
			return &httpError{status: status, explanation: "The server has either erred or is incapable of performing the requested operation."}
		}
		return &httpError{status: status, explanation: err.Error()}
	}
	if status == http.StatusUnsupportedMediaType {
		// Image data refused by the format inspector: the reason is the
		// explanation, as Glance's later releases raise it. WebOb's default
		// 415 sentence ("The request media type application/octet-stream
		// is not supported") would blame the Content-Type, which was right.
		return &httpError{status: status, explanation: de.Msg}
	}
	// Glance raises some errors with the message as detail under the
	// class's default explanation; reproduce the ones clients show.
	if exp, ok := defaultExplanations[status]; ok && de.Detail {
		return &httpError{status: status, explanation: exp, detail: de.Msg}
	}
	return &httpError{status: status, explanation: de.Msg}
}

// stripTags turns the HTML-ish message into plain text as WebOb does:
// newlines become spaces, then each <br /> a newline.
func stripTags(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "\r", "")
	return strings.ReplaceAll(s, "<br />", "\n")
}

func acceptsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func unsupportedMediaType(contentType string, header http.Header) error {
	return &httpError{
		status: http.StatusUnsupportedMediaType,
		raw:    "The request media type " + contentType + " is not supported by this server.\n<br /><br />\n",
		header: header,
	}
}
