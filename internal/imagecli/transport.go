package imagecli

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/imageclient"
)

// roundTripper sits under gophercloud. It gives streamed uploads their
// Content-Length (gophercloud can only pass it as a header, which
// net/http would drop and send the data chunked) and, with --debug,
// prints each exchange with secrets masked.
type roundTripper struct {
	next  http.RoundTripper
	debug io.Writer // nil: quiet
}

// maxDebugBody bounds what --debug reads of a JSON body: transfers stay
// streamed, never buffered.
const maxDebugBody = 64 << 10

func (t *roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if n := req.Header.Get("Content-Length"); n != "" && req.ContentLength == 0 && req.Body != nil && req.Body != http.NoBody {
		size, err := strconv.ParseInt(n, 10, 64)
		if err == nil {
			req = req.Clone(req.Context())
			req.ContentLength = size
			req.Header.Del("Content-Length")
		}
	}
	if t.debug == nil {
		return t.next.RoundTrip(req)
	}
	t.logRequest(req)
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		fmt.Fprintf(t.debug, "RESP: %s %s failed after %s: %v\n", req.Method, req.URL.Redacted(), time.Since(start).Round(time.Millisecond), err)
		return resp, err
	}
	t.logResponse(resp, time.Since(start))
	return resp, nil
}

func (t *roundTripper) logRequest(req *http.Request) {
	fmt.Fprintf(t.debug, "REQ: %s %s\n", req.Method, imageclient.EscapeText(req.URL.Redacted()))
	writeHeaders(t.debug, req.Header)
	if req.GetBody == nil || !isJSON(req.Header) {
		if req.ContentLength > 0 {
			fmt.Fprintf(t.debug, "  <%d bytes of data>\n", req.ContentLength)
		}
		return
	}
	body, err := req.GetBody()
	if err != nil {
		return
	}
	defer body.Close()
	data, _ := io.ReadAll(io.LimitReader(body, maxDebugBody))
	fmt.Fprintf(t.debug, "  %s\n", maskBody(data))
}

func (t *roundTripper) logResponse(resp *http.Response, took time.Duration) {
	fmt.Fprintf(t.debug, "RESP: %s (%s)\n", resp.Status, took.Round(time.Millisecond))
	writeHeaders(t.debug, resp.Header)
	if !isJSON(resp.Header) || resp.Body == nil {
		return
	}
	// Read at most maxDebugBody and hand the caller the same bytes.
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxDebugBody))
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	if err == nil {
		fmt.Fprintf(t.debug, "  %s\n", maskBody(head))
	}
}

// secretHeaders are shown as *** by --debug.
var secretHeaders = []string{"Authorization", "X-Auth-Token", "X-Subject-Token", "X-Service-Token", "Cookie", "Set-Cookie"}

func writeHeaders(w io.Writer, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		v := strings.Join(h[k], ", ")
		if slices.Contains(secretHeaders, http.CanonicalHeaderKey(k)) {
			v = "***"
		}
		fmt.Fprintf(w, "  %s: %s\n", k, imageclient.EscapeText(v))
	}
}

var secretFields = regexp.MustCompile(`("(?:password|secret|token|id_token|access_token)"\s*:\s*)"(?:[^"\\]|\\.)*"`)

func maskBody(b []byte) string {
	return imageclient.EscapeText(secretFields.ReplaceAllString(string(b), `$1"***"`))
}

func isJSON(h http.Header) bool {
	return strings.Contains(h.Get("Content-Type"), "json")
}
