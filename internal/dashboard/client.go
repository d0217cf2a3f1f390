package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// The dashboard never touches the image service directly: every action is
// a call to the public Image API with the signed-in user's token, so the
// API's authentication, policy and quotas decide, exactly as for any other
// client. The calls run in process (no network hop) through
// handlerTransport.

// internalBase is the made-up origin of in-process calls; it never
// reaches a network.
const internalBase = "http://glint.internal/"

// handlerTransport is an http.RoundTripper that serves each request with
// an http.Handler in the calling goroutine. It is for JSON calls, whose
// answers are small (bounded by the API's page limit); image data never
// goes through it (see upload.go).
type handlerTransport struct {
	h http.Handler
}

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	in := req.Clone(req.Context())
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "127.0.0.1:0"
	if addr, ok := req.Context().Value(remoteAddrKey{}).(string); ok {
		in.RemoteAddr = addr
	}
	if in.Body == nil {
		in.Body = http.NoBody
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, in)
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// remoteAddrKey carries the browser's address into in-process calls, so
// the API's logs and the identity service's throttle see the real client.
type remoteAddrKey struct{}

// newServiceClient returns a gophercloud client for endpoint acting with
// token.
func newServiceClient(rt http.RoundTripper, endpoint, resourceBase, token string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: rt}}
	pc.UserAgent.Prepend("glint-dashboard")
	if token != "" {
		pc.SetToken(token)
	}
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: endpoint, ResourceBase: resourceBase}
}

// imageClient is the Image API as the signed-in user.
func (h *Handler) imageClient(s *session) *gophercloud.ServiceClient {
	return newServiceClient(h.imageRT, internalBase, internalBase+"v2/", s.Token)
}

// identityClient is the identity service acting with token (empty for the
// sign-in itself).
func (h *Handler) identityClient(token string) *gophercloud.ServiceClient {
	return newServiceClient(h.identityRT, h.identityEndpoint, h.identityEndpoint, token)
}

// apiError is a failed API call, with the API's own message for the user.
type apiError struct {
	Status  int
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// asAPIError turns a gophercloud error into an apiError; other errors
// (the transport failing) become a 502-like error with a generic message.
func asAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var ue gophercloud.ErrUnexpectedResponseCode
	if errors.As(err, &ue) {
		return &apiError{Status: ue.Actual, Message: errorMessage(ue.Body, ue.Actual)}
	}
	return &apiError{Status: http.StatusBadGateway, Message: "The service did not answer: " + err.Error()}
}

// errorMessage extracts the human part of an Image API error body
// ({"message": "explanation<br /><br />\ndetail\n\n", ...}) or of a
// Keystone one ({"error": {"message": ...}}).
func errorMessage(body []byte, status int) string {
	var glance struct {
		Message string `json:"message"`
		Error   struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	msg := ""
	if json.Unmarshal(body, &glance) == nil {
		msg = glance.Message
		if msg == "" {
			msg = glance.Error.Message
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(body))
		if len(msg) > 300 || strings.HasPrefix(msg, "<") || msg == "" {
			msg = http.StatusText(status)
		}
	}
	parts := strings.Split(msg, "<br /><br />")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " ")
}

// isAPIFailure reports an error that is an answer of the API (as
// opposed to a failure to reach it or a bug).
func isAPIFailure(err error) bool {
	var ae *apiError
	var ue gophercloud.ErrUnexpectedResponseCode
	return errors.As(err, &ae) || errors.As(err, &ue)
}

// statusOf is the HTTP status of a failed call (0 for none).
func statusOf(err error) int {
	if err == nil {
		return 0
	}
	return asAPIError(err).Status
}

// withRemote records the browser's address for in-process calls.
func withRemote(ctx context.Context, r *http.Request) context.Context {
	return context.WithValue(ctx, remoteAddrKey{}, r.RemoteAddr)
}
