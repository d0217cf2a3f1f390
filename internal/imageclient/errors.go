package imageclient

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// Error is a request the server refused: its status, the server's own
// explanation and the request id to quote to its operators.
type Error struct {
	Status    int
	Message   string
	RequestID string
	// Body is the answer as the server sent it, for clients that word
	// the message their own way.
	Body []byte
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	s := fmt.Sprintf("%s (HTTP %d)", msg, e.Status)
	if e.RequestID != "" {
		s += " (Request-ID: " + e.RequestID + ")"
	}
	return s
}

// Describe turns gophercloud's "expected 200 but got 404: <body>" into an
// *Error that quotes the server. Other errors pass unchanged.
func Describe(err error) error {
	var se *Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) {
		return err
	}
	se = &Error{Status: code.Actual, Message: serverMessage(code.Body),
		RequestID: requestID(code.ResponseHeader), Body: code.Body}
	if err.Error() == code.Error() {
		return se
	}
	// Wrapped with context: keep the context, replace gophercloud's text.
	return &wrappedServerError{msg: strings.Replace(err.Error(), code.Error(), se.Error(), 1), se: se}
}

// wrappedServerError is an Error under some context of ours.
type wrappedServerError struct {
	msg string
	se  *Error
}

func (e *wrappedServerError) Error() string { return e.msg }
func (e *wrappedServerError) Unwrap() error { return e.se }

// IsStatus reports whether err is the server answering with status,
// before or after Describe.
func IsStatus(err error, status int) bool {
	var se *Error
	if errors.As(err, &se) {
		return se.Status == status
	}
	return gophercloud.ResponseCodeIs(err, status)
}

func requestID(h http.Header) string {
	for _, k := range []string{"X-Openstack-Request-Id", "X-Compute-Request-Id", "X-Request-Id"} {
		if v := h.Get(k); v != "" {
			return v
		}
	}
	return ""
}

// serverMessage finds the explanation in an error body: Glance's
// {"message": ...}, Keystone's {"error": {"message": ...}}, or WebOb's
// plain text and HTML pages, reduced to one line.
func serverMessage(body []byte) string {
	var glance struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	text := string(body)
	if json.Unmarshal(body, &glance) == nil {
		text = cmp.Or(glance.Message, glance.Error.Message)
	} else if lines := strings.SplitN(text, "\n\n", 2); len(lines) == 2 && statusLine.MatchString(lines[0]) {
		// WebOb's text/plain: "404 Not Found\n\nThe explanation".
		text = lines[1]
	}
	text = strings.ReplaceAll(text, "<br />", " ")
	text = html.UnescapeString(tags.ReplaceAllString(text, " "))
	return oneLine(text)
}

var (
	statusLine = regexp.MustCompile(`^\d{3} [A-Za-z ]+$`)
	tags       = regexp.MustCompile(`<[^>]*>`)
)

// oneLine collapses whitespace and escapes what a terminal would act on,
// so a message from a server prints as one harmless line.
func oneLine(s string) string {
	return EscapeText(strings.Join(strings.Fields(s), " "))
}

// StatusOf is the status of a server's refusal, 0 for other errors.
func StatusOf(err error) int {
	var se *Error
	if errors.As(err, &se) {
		return se.Status
	}
	return 0
}
