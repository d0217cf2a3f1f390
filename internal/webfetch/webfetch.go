// Package webfetch downloads import sources (web-download, glance-download)
// without letting a user aim glint at what only glint can reach.
//
// A URI passes Glance's import filter first (allowed/disallowed schemes,
// hosts and ports, [import_filtering_opts]), then every connection the
// download makes, to the first host and to each redirect target, is
// checked on the address actually dialled, after DNS resolution: loopback,
// private, link-local (cloud metadata), multicast and the other internal
// address classes, IPv4 and IPv6, mapped and embedded forms included, are
// refused unless the operator allowed their network. So neither a
// redirect nor a name that resolves to an internal address (DNS
// rebinding) gets through, and no proxy from the environment is used.
// Downloads are bounded in time: to connect, to answer, while the body
// streams (a stall), and in all.
package webfetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/glint-image/glint/internal/requestid/forward"
)

// Policy is what downloads may reach and how long they may take.
type Policy struct {
	// Glance's import_filtering_opts: when an allowed list is set, its
	// disallowed counterpart is ignored, as in Glance.
	AllowedSchemes, DisallowedSchemes []string
	AllowedHosts, DisallowedHosts     []string
	AllowedPorts, DisallowedPorts     []int
	// AllowedNetworks may be connected to although they are internal
	// (an image mirror on the private network, a test server on
	// loopback).
	AllowedNetworks                                          []netip.Prefix
	MaxRedirects                                             int
	ConnectTimeout, HeaderTimeout, IdleTimeout, TotalTimeout time.Duration
}

// Fetcher downloads under a Policy.
type Fetcher struct {
	pol    Policy
	client *http.Client
}

// New returns a fetcher for pol.
func New(pol Policy) *Fetcher {
	f := &Fetcher{pol: pol}
	dialer := &net.Dialer{Timeout: pol.ConnectTimeout, Control: f.checkDial}
	transport := &http.Transport{
		Proxy:                 nil, // a proxy would dial for us, unchecked
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   pol.ConnectTimeout,
		ResponseHeaderTimeout: pol.HeaderTimeout,
		MaxIdleConns:          16,
		IdleConnTimeout:       time.Minute,
		DisableCompression:    true, // the bytes are the image, as served
	}
	f.client = &http.Client{Transport: forward.Transport{Base: transport}, CheckRedirect: f.checkRedirect}
	return f
}

// Refused is a URI or connection the policy does not allow.
type Refused struct{ Reason string }

func (e *Refused) Error() string { return e.Reason }

// Check applies the import filter to a URI (Glance's validate_import_uri,
// stricter): an http or https URL with a host that is a name or a
// canonical IP address, passing the scheme, host and port lists, and not
// an internal address when it is an IP.
func (f *Fetcher) Check(uri string) error {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme == "" {
		return &Refused{"not an absolute http(s) URL: " + uri}
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return &Refused{"scheme " + scheme + " is not http or https"}
	}
	if u.Host == "" {
		return &Refused{"not an absolute http(s) URL: " + uri}
	}
	if !listed(f.pol.AllowedSchemes, f.pol.DisallowedSchemes, scheme) {
		return &Refused{"scheme " + scheme + " is not allowed"}
	}
	host, addr, err := normalizeHost(u.Hostname())
	if err != nil {
		return err
	}
	if !listed(f.pol.AllowedHosts, f.pol.DisallowedHosts, host) {
		return &Refused{"host " + host + " is not allowed"}
	}
	port := 80
	if scheme == "https" {
		port = 443
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return &Refused{"port " + p + " is not a port"}
		}
	}
	// Glance filters ports only when the URL names one; glint filters the
	// port it will connect to.
	if !listedPort(f.pol.AllowedPorts, f.pol.DisallowedPorts, port) {
		return &Refused{fmt.Sprintf("port %d is not allowed", port)}
	}
	if addr.IsValid() {
		if why := refusal(addr, f.pol.AllowedNetworks); why != "" {
			return &Refused{host + " is " + why}
		}
	}
	return nil
}

// normalizeHost returns a host in the form the lists compare: an IP
// address in canonical form (addr set), or a lower-case name without a
// trailing dot. Numeric hosts that are not canonical addresses (2130706433,
// 0x7f.1, 127.1, 0177.0.0.1) are refused: resolvers read them as
// addresses in ways the lists cannot foresee.
func normalizeHost(h string) (string, netip.Addr, error) {
	h = strings.ToLower(strings.TrimSuffix(h, "."))
	if h == "" {
		return "", netip.Addr{}, &Refused{"the URL has no host"}
	}
	if addr, err := netip.ParseAddr(h); err == nil {
		if addr.Zone() != "" {
			return "", netip.Addr{}, &Refused{"host " + h + " has an IPv6 zone"}
		}
		return addr.String(), addr, nil
	}
	numeric := true
	for _, label := range strings.Split(h, ".") {
		if label == "" || !(isDigits(label) || strings.HasPrefix(label, "0x")) {
			numeric = false
		}
	}
	if numeric || strings.Trim(h, "0123456789.") == "" {
		return "", netip.Addr{}, &Refused{"host " + h + " is an address in an unusual notation"}
	}
	return h, netip.Addr{}, nil
}

func isDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }

// listed applies an allow list (when set) or else a deny list.
func listed(allowed, disallowed []string, v string) bool {
	if len(allowed) > 0 {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.EqualFold(strings.TrimSuffix(a, "."), v) })
	}
	return !slices.ContainsFunc(disallowed, func(d string) bool { return strings.EqualFold(strings.TrimSuffix(d, "."), v) })
}

func listedPort(allowed, disallowed []int, p int) bool {
	if len(allowed) > 0 {
		return slices.Contains(allowed, p)
	}
	return !slices.Contains(disallowed, p)
}

// checkDial runs on every connection, with the address being dialled:
// after name resolution, for redirects too.
func (f *Fetcher) checkDial(network, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return &Refused{"cannot tell the address of " + address}
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return &Refused{"cannot tell the address of " + address}
	}
	if why := refusal(addr, f.pol.AllowedNetworks); why != "" {
		return &Refused{"connecting to " + addr.Unmap().String() + " is refused: it is " + why}
	}
	return nil
}

// checkRedirect re-applies the filter to each redirect target, bounds the
// hops, and drops the caller's token when the target is another host.
func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.pol.MaxRedirects {
		return &Refused{fmt.Sprintf("more than %d redirects", f.pol.MaxRedirects)}
	}
	if err := f.Check(req.URL.String()); err != nil {
		return &Refused{"redirect to a refused URL " + req.URL.Redacted() + ": " + err.Error()}
	}
	if req.URL.Host != via[0].URL.Host {
		req.Header.Del("X-Auth-Token")
	}
	return nil
}

// Open GETs uri and returns its body, bounded by the policy's timeouts,
// and its announced size (-1 when unknown). Only a 2xx answer is data.
func (f *Fetcher) Open(ctx context.Context, uri string, header http.Header) (io.ReadCloser, int64, error) {
	resp, cancel, err := f.do(ctx, http.MethodGet, uri, header)
	if err != nil {
		return nil, 0, err
	}
	return f.guard(resp, cancel), resp.ContentLength, nil
}

// OpenAt GETs uri from byte offset on (a Range request). A server that
// ignores the range answers the whole body, whose first offset bytes are
// then skipped, so the caller always reads from offset.
func (f *Fetcher) OpenAt(ctx context.Context, uri string, offset int64) (io.ReadCloser, error) {
	var h http.Header
	if offset > 0 {
		h = http.Header{"Range": {"bytes=" + strconv.FormatInt(offset, 10) + "-"}}
	}
	resp, cancel, err := f.do(ctx, http.MethodGet, uri, h)
	if err != nil {
		return nil, err
	}
	body := f.guard(resp, cancel)
	if offset > 0 && resp.StatusCode != http.StatusPartialContent {
		if _, err := io.CopyN(io.Discard, body, offset); err != nil {
			body.Close()
			return nil, fmt.Errorf("skipping to byte %d of %s: %w", offset, redact(uri), err)
		}
	}
	return body, nil
}

// Size asks for uri's size with a HEAD request, as Glance's http store
// does (its Content-Length; -1 when the server does not say).
func (f *Fetcher) Size(ctx context.Context, uri string) (int64, error) {
	resp, cancel, err := f.do(ctx, http.MethodHead, uri, nil)
	if err != nil {
		return 0, err
	}
	defer cancel()
	resp.Body.Close()
	return resp.ContentLength, nil
}

// do sends one request under the policy; a non-2xx answer is an error.
// The caller owns the response and its cancel.
func (f *Fetcher) do(ctx context.Context, method, uri string, header http.Header) (*http.Response, context.CancelFunc, error) {
	if err := f.Check(uri); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.pol.TotalTimeout)
	req, err := http.NewRequestWithContext(ctx, method, uri, nil)
	if err != nil {
		cancel()
		return nil, nil, err
	}
	for k, v := range header {
		req.Header[http.CanonicalHeaderKey(k)] = v
	}
	req.Header.Set("User-Agent", "glint-image-import")
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		return nil, nil, describe(uri, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		cancel()
		return nil, nil, &StatusError{Code: resp.StatusCode, msg: fmt.Sprintf("%s answered %s", redact(uri), resp.Status)}
	}
	return resp, cancel, nil
}

// guard bounds a body's stalls by the idle timeout.
func (f *Fetcher) guard(resp *http.Response, cancel context.CancelFunc) io.ReadCloser {
	body := &guardedBody{rc: resp.Body, cancel: cancel, idle: f.pol.IdleTimeout}
	body.timer = time.AfterFunc(f.pol.IdleTimeout, body.stalled)
	return body
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Code int
	msg  string
}

func (e *StatusError) Error() string { return e.msg }

// describe turns a transport error into what the owner needs to read.
func describe(uri string, err error) error {
	var refused *Refused
	if errors.As(err, &refused) {
		return refused
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("downloading %s took longer than allowed", redact(uri))
	}
	return fmt.Errorf("fetching %s: %w", redact(uri), err)
}

func redact(uri string) string {
	if u, err := url.Parse(uri); err == nil {
		return u.Redacted()
	}
	return uri
}

// guardedBody cancels the download when no byte arrives for the idle
// timeout, so a server that stalls holds no worker.
type guardedBody struct {
	rc     io.ReadCloser
	cancel context.CancelFunc
	idle   time.Duration
	timer  *time.Timer
	stall  atomic.Bool
}

func (b *guardedBody) stalled() {
	b.stall.Store(true)
	b.cancel()
}

func (b *guardedBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		b.timer.Reset(b.idle)
	}
	if err != nil && err != io.EOF && b.stall.Load() {
		return n, fmt.Errorf("the download stalled: nothing arrived for %s", b.idle)
	}
	return n, err
}

func (b *guardedBody) Close() error {
	b.timer.Stop()
	b.cancel()
	return b.rc.Close()
}
