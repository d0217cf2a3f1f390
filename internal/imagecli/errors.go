package imagecli

import (
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// ServerError is a request the server refused: its status, the server's
// own explanation and the request id to quote to its operators.
type ServerError struct {
	Status    int
	Message   string
	RequestID string
}

func (e *ServerError) Error() string {
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

// describe turns gophercloud's "expected 200 but got 404: <body>" into a
// ServerError that quotes the server. Other errors pass unchanged.
func describe(err error) error {
	var se *ServerError
	if err == nil || errors.As(err, &se) {
		return err
	}
	var code gophercloud.ErrUnexpectedResponseCode
	if !errors.As(err, &code) {
		return err
	}
	se = &ServerError{Status: code.Actual, Message: serverMessage(code.Body),
		RequestID: requestID(code.ResponseHeader)}
	if err.Error() == code.Error() {
		return se
	}
	// Wrapped with context: keep the context, replace gophercloud's text.
	return &wrappedServerError{msg: strings.Replace(err.Error(), code.Error(), se.Error(), 1), se: se}
}

// wrappedServerError is a ServerError under some context of ours.
type wrappedServerError struct {
	msg string
	se  *ServerError
}

func (e *wrappedServerError) Error() string { return e.msg }
func (e *wrappedServerError) Unwrap() error { return e.se }

// isStatus reports whether err is the server answering with status,
// before or after describe.
func isStatus(err error, status int) bool {
	var se *ServerError
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
		text = first(glance.Message, glance.Error.Message)
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
	return escapeText(strings.Join(strings.Fields(s), " "))
}
