package webfetch_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/webfetch"
)

func defaults() webfetch.Policy {
	return webfetch.Policy{AllowedSchemes: []string{"http", "https"}, AllowedPorts: []int{80, 443}, MaxRedirects: 5,
		ConnectTimeout: 5 * time.Second, HeaderTimeout: 5 * time.Second, IdleTimeout: 5 * time.Second, TotalTimeout: time.Minute}
}

// TestCheckRefuses: with Glance's default filter and glint's address
// rules, none of these URIs is let through, before any connection.
func TestCheckRefuses(t *testing.T) {
	f := webfetch.New(defaults())
	for _, uri := range []string{
		"file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "example.com/x", "http:///x",
		"http://127.0.0.1/x", "http://127.0.0.53/", "http://localhost:8080/x", "http://10.1.2.3/x", "http://172.20.0.1/",
		"http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/", "http://100.100.100.200/", "http://0.0.0.0/",
		"http://255.255.255.255/", "http://224.0.0.1/", "http://[::1]/", "http://[::]/", "http://[fe80::1]/",
		"http://[fe80::1%25eth0]/", "http://[fd00:ec2::254]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:7f00:1]/",
		"http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:7f00:1::1]/", "http://[::7f00:1]/",
		"http://[ff02::1]/", "http://2130706433/", "http://0x7f000001/", "http://0x7f.0.0.1/", "http://0177.0.0.1/",
		"http://127.1/", "http://017700000001/", "http://example.com:8080/x", "https://example.com:22/",
	} {
		if err := f.Check(uri); err == nil {
			t.Errorf("%s passed", uri)
		}
	}
	for _, uri := range []string{"http://example.com/x.img", "https://cloud-images.ubuntu.com/noble/current/noble.img",
		"http://93.184.215.14/x", "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x", "HTTPS://Example.COM./x"} {
		if err := f.Check(uri); err != nil {
			t.Errorf("%s refused: %v", uri, err)
		}
	}
}

func TestCheckLists(t *testing.T) {
	p := defaults()
	p.AllowedHosts, p.DisallowedHosts = []string{"mirror.example.com"}, []string{"mirror.example.com"}
	f := webfetch.New(p)
	if err := f.Check("http://mirror.example.com/a"); err != nil {
		t.Errorf("allowed host (the deny list is ignored beside an allow list): %v", err)
	}
	if err := f.Check("http://other.example.com/a"); err == nil {
		t.Error("host outside the allow list passed")
	}
	p = defaults()
	p.AllowedPorts, p.DisallowedPorts = nil, []int{8080}
	p.AllowedSchemes, p.DisallowedSchemes = nil, []string{"http"}
	f = webfetch.New(p)
	for uri, ok := range map[string]bool{"https://example.com:8443/": true, "https://example.com:8080/": false, "http://example.com/": false} {
		if err := f.Check(uri); (err == nil) != ok {
			t.Errorf("%s: %v", uri, err)
		}
	}
}

// server starts a loopback test server and a fetcher allowed to reach it
// (and only it): its address and port are allowed.
func server(t *testing.T, h http.Handler) (*httptest.Server, *webfetch.Fetcher, webfetch.Policy) {
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	p := defaults()
	n, _ := strconv.Atoi(port)
	p.AllowedPorts = append(p.AllowedPorts, n)
	p.AllowedNetworks = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	return ts, webfetch.New(p), p
}

func fetch(t *testing.T, f *webfetch.Fetcher, uri string, hdr http.Header) (string, error) {
	t.Helper()
	body, _, err := f.Open(context.Background(), uri, hdr)
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	return string(b), err
}

func TestOpenAllowedLoopback(t *testing.T) {
	ts, f, _ := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "image data")
	}))
	if got, err := fetch(t, f, ts.URL+"/img", nil); err != nil || got != "image data" {
		t.Fatalf("allowed fetch: %q %v", got, err)
	}
	if _, err := fetch(t, f, ts.URL+"/missing", nil); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("404: %v", err)
	}
	// The same server under a name: localhost resolves to 127.0.0.1 (allowed)
	// or ::1 (not), and the check is on the address dialled.
	_, port, _ := net.SplitHostPort(ts.Listener.Addr().String())
	if _, err := fetch(t, webfetch.New(withPort(defaults(), port)), "http://localhost:"+port+"/img", nil); err == nil ||
		!strings.Contains(err.Error(), "loopback") {
		t.Fatalf("a name resolving to loopback, without an allowed network: %v", err)
	}
}

func withPort(p webfetch.Policy, port string) webfetch.Policy {
	n, _ := strconv.Atoi(port)
	p.AllowedPorts = append(p.AllowedPorts, n)
	return p
}

// TestRedirects: every hop is filtered again, and connected to only when
// its address passes.
func TestRedirects(t *testing.T) {
	other := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "token="+r.Header.Get("X-Auth-Token"))
	}))
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	other.Listener = ln
	other.Start()
	t.Cleanup(other.Close)
	_, otherPort, _ := net.SplitHostPort(ln.Addr().String())

	var ts *httptest.Server
	ts, _, p := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/metadata":
			http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/iam/", http.StatusFound)
		case "/mapped":
			http.Redirect(w, r, "http://[::ffff:169.254.169.254]/", http.StatusFound)
		case "/file":
			http.Redirect(w, r, "file:///etc/shadow", http.StatusFound)
		case "/loopback-name":
			http.Redirect(w, r, "http://localhost:"+otherPort+"/", http.StatusFound)
		case "/other":
			http.Redirect(w, r, "http://127.0.0.2:"+otherPort+"/", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, ts.URL+"/loop", http.StatusFound)
		case "/same":
			http.Redirect(w, r, ts.URL+"/echo", http.StatusFound)
		case "/echo":
			io.WriteString(w, "token="+r.Header.Get("X-Auth-Token"))
		}
	}))
	n, _ := strconv.Atoi(otherPort)
	p.AllowedPorts = append(p.AllowedPorts, n)
	f := webfetch.New(p)
	for path, want := range map[string]string{
		"/metadata": "link-local", "/mapped": "link-local", "/file": "scheme file",
		"/loopback-name": "loopback", "/other": "loopback", "/loop": "redirects",
	} {
		if _, err := fetch(t, f, ts.URL+path, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error mentioning %q", path, err, want)
		}
	}
	tok := http.Header{"X-Auth-Token": {"secret"}}
	if got, err := fetch(t, f, ts.URL+"/same", tok); err != nil || got != "token=secret" {
		t.Errorf("redirect on the same host: %q %v", got, err)
	}
	// Once 127.0.0.2 is allowed too, the redirect there works, without
	// the token the first host was given.
	p.AllowedNetworks = append(p.AllowedNetworks, netip.MustParsePrefix("127.0.0.2/32"))
	if got, err := fetch(t, webfetch.New(p), ts.URL+"/other", tok); err != nil || got != "token=" {
		t.Errorf("redirect to another allowed host: %q %v", got, err)
	}
}

// TestStallAndLies: a server that stops sending is cut off after the idle
// timeout; one that announces more than it sends fails the read.
func TestStallAndLies(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ts, _, p := server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stall":
			w.Header().Set("Content-Length", "1000000")
			w.Write(make([]byte, 1000))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case "/short":
			w.Header().Set("Content-Length", "1000000")
			w.Write(make([]byte, 1000))
		case "/slow-headers":
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}))
	p.IdleTimeout, p.HeaderTimeout = 300*time.Millisecond, 300*time.Millisecond
	f := webfetch.New(p)
	if _, err := fetch(t, f, ts.URL+"/stall", nil); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("stalled body: %v", err)
	}
	body, size, err := f.Open(context.Background(), ts.URL+"/short", nil)
	if err != nil || size != 1000000 {
		t.Fatalf("short: %v %d", err, size)
	}
	n, err := io.Copy(io.Discard, body)
	body.Close()
	if err == nil || n != 1000 {
		t.Errorf("a body shorter than announced read as complete: %d bytes, %v", n, err)
	}
	if _, err := fetch(t, f, ts.URL+"/slow-headers", nil); err == nil {
		t.Error("no headers, yet no error")
	}
}
