package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient"
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
// answers are small (a page of at most 101 images); image data never goes
// through it (see upload.go), and an answer beyond maxAnswer is an error
// rather than memory spent.
type handlerTransport struct {
	h http.Handler
}

// maxAnswer bounds one buffered in-process answer.
const maxAnswer = 32 << 20

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
	rec := &answer{header: http.Header{}}
	t.h.ServeHTTP(rec, in)
	if rec.tooLarge {
		return nil, fmt.Errorf("the answer to %s %s exceeds %d bytes", req.Method, req.URL.Path, maxAnswer)
	}
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)), StatusCode: rec.status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rec.header, Body: io.NopCloser(&rec.body), ContentLength: int64(rec.body.Len()), Request: req,
	}, nil
}

// answer is the http.ResponseWriter of an in-process call.
type answer struct {
	header   http.Header
	status   int
	body     bytes.Buffer
	tooLarge bool
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
		// Later changes to the map must not change what was sent.
		a.header = a.header.Clone()
	}
}

func (a *answer) Write(p []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	if a.body.Len()+len(p) > maxAnswer {
		a.tooLarge = true
		return 0, errors.New("answer too large")
	}
	return a.body.Write(p)
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
	var ie *imageclient.Error
	if errors.As(err, &ie) {
		return &apiError{Status: ie.Status, Message: errorMessage(ie.Body, ie.Status)}
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
	var ie *imageclient.Error
	return errors.As(err, &ae) || errors.As(err, &ue) || errors.As(err, &ie)
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
