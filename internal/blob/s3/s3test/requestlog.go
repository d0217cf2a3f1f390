// Package s3test helps tests that use an S3 server (.ci/s3.sh) see what
// glint sends it.
package s3test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// RequestLog is a reverse proxy in front of the test server that notes
// every request the driver sends, as "METHOD kind": kind is "object",
// "tail" (a resumable writer's checkpoint object), or the multipart
// operation ("uploads", "part", "complete", "abort", "list-parts"), or
// "list" for a bucket listing. It is how the tests count what an
// operation costs on a real S3 server.
type RequestLog struct {
	Addr string // host:port of the proxy: the endpoint to configure

	mu   sync.Mutex
	reqs []string
}

// NewRequestLog starts a RequestLog in front of endpoint (host:port)
// until the test ends.
func NewRequestLog(t *testing.T, endpoint string) *RequestLog {
	t.Helper()
	target, err := url.Parse("http://" + endpoint)
	if err != nil {
		t.Fatal(err)
	}
	l := &RequestLog{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	// The Host header stays the proxy's: it is what the client signed.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.note(r)
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	l.Addr = strings.TrimPrefix(srv.URL, "http://")
	return l
}

func (l *RequestLog) note(r *http.Request) {
	q := r.URL.Query()
	kind := "object"
	switch {
	case q.Has("uploads"):
		kind = "uploads"
	case q.Has("partNumber"):
		kind = "part"
	case q.Has("uploadId") && r.Method == http.MethodPost:
		kind = "complete"
	case q.Has("uploadId") && r.Method == http.MethodDelete:
		kind = "abort"
	case q.Has("uploadId"):
		kind = "list-parts"
	case q.Has("list-type") || q.Has("prefix") || q.Has("location"):
		kind = "list"
	case strings.Contains(r.URL.Path, "/.resume/"):
		kind = "tail"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r.Method+" "+kind)
}

// Take returns the requests noted since the last take.
func (l *RequestLog) Take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	reqs := l.reqs
	l.reqs = nil
	return reqs
}
