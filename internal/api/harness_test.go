package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

// env is a real glint (SQLite and files in a temp dir) behind a real HTTP
// listener, with gophercloud clients for three callers.
type env struct {
	t   testing.TB
	url string
	dir string
	// s3Prefix is set when the default store is S3 (postgres+s3 runs).
	s3Prefix string
	owner    *gophercloud.ServiceClient // project "proj-a", role member
	other    *gophercloud.ServiceClient // project "proj-b", role member
	admin    *gophercloud.ServiceClient // project "proj-admin", role admin
	// cfg is the server's configuration (another node may share it).
	cfg config.Config
}

func newEnv(t testing.TB) *env { return newEnvConfig(t, nil) }

// newEnvConfig is newEnv with a chance to change the configuration first.
func newEnvConfig(t testing.TB, change func(*config.Config)) *env {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.SizeCap = 64 << 20
	cfg.Auth = config.AuthTrustedHeaders
	e := &env{t: t, dir: cfg.DataDir}
	useBackend(t, &cfg, e)
	if change != nil {
		change(&cfg)
	}
	if len(cfg.Stores) > 0 {
		cfg.SingleStore, e.s3Prefix = nil, "" // the test chose its stores
	}
	e.cfg = cfg
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv, err := server.New(context.Background(), cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	e.url = ts.URL
	e.owner = e.client("proj-a", "user-a", "member")
	e.other = e.client("proj-b", "user-b", "member")
	e.admin = e.client("proj-admin", "user-admin", "admin,member")
	return e
}

// client is an image service client that identifies itself with the
// headers trusted-headers auth reads.
func (e *env) client(project, user, roles string) *gophercloud.ServiceClient {
	pc := &gophercloud.ProviderClient{HTTPClient: http.Client{Transport: headerTransport{
		base: http.DefaultTransport,
		hdr:  http.Header{"X-Project-Id": {project}, "X-User-Id": {user}, "X-Roles": {roles}},
	}}}
	return &gophercloud.ServiceClient{ProviderClient: pc, Endpoint: e.url + "/", ResourceBase: e.url + "/v2/", Type: "image"}
}

type headerTransport struct {
	base http.RoundTripper
	hdr  http.Header
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.hdr {
		r.Header[k] = v
	}
	return h.base.RoundTrip(r)
}

// do sends a raw request as a caller and returns the response with its body
// read. who is "owner", "other", "admin" or "" (no identity).
func (e *env) do(who, method, path string, hdr map[string]string, body string) (*http.Response, string) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	return e.doReader(who, method, path, hdr, rd)
}

// doReader is do with a body of any reader: one that is not a bytes or
// strings reader goes out chunked, with no Content-Length.
func (e *env) doReader(who, method, path string, hdr map[string]string, rd io.Reader) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	switch who {
	case "owner":
		req.Header.Set("X-Project-Id", "proj-a")
		req.Header.Set("X-User-Id", "user-a")
		req.Header.Set("X-Roles", "member")
	case "other":
		req.Header.Set("X-Project-Id", "proj-b")
		req.Header.Set("X-User-Id", "user-b")
		req.Header.Set("X-Roles", "member")
	case "admin":
		req.Header.Set("X-Project-Id", "proj-admin")
		req.Header.Set("X-User-Id", "user-admin")
		req.Header.Set("X-Roles", "admin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	if status == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if !gophercloud.ResponseCodeIs(err, status) {
		t.Fatalf("want HTTP %d, got %v", status, err)
	}
}
