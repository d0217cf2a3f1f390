// Package httpstore is a read-only image store over http(s) URLs, as
// Glance's http store: an image whose location is a web URL is served by
// fetching that URL. glint never writes there and never deletes there;
// the data belongs to whoever runs the web server.
//
// Every request goes through the guarded fetcher of web-download
// (internal/webfetch): the import filter's scheme, host and port rules,
// no connection to loopback, private or link-local addresses unless the
// operator allowed their network, bounded time, bounded redirects.
//
// A location URL is kept as the blob key, base64url-encoded, so it fits
// glint's key alphabet and the record's list of locations.
package httpstore

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/webfetch"
)

// MaxURL is the longest location URL Glance's schema takes.
const MaxURL = 255

// Driver serves data at http(s) URLs.
type Driver struct {
	f *webfetch.Fetcher
}

// New returns a store fetching under pol.
func New(pol webfetch.Policy) *Driver { return &Driver{f: webfetch.New(pol)} }

// Key is the blob key of a URL.
func Key(url string) string { return "u" + base64.RawURLEncoding.EncodeToString([]byte(url)) }

// urlOf is the inverse of Key.
func urlOf(key string) (string, error) {
	enc, ok := strings.CutPrefix(key, "u")
	if !ok {
		return "", blob.ErrInvalidKey
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", blob.ErrInvalidKey
	}
	return string(b), nil
}

// Writer refuses: the store is read-only.
func (d *Driver) Writer(context.Context, string) (blob.Writer, error) { return nil, blob.ErrReadOnly }

// Reader fetches the URL from offset on.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	u, err := urlOf(key)
	if err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, blob.ErrInvalidOffset
	}
	rc, err := d.f.OpenAt(ctx, u, offset)
	if err != nil {
		return nil, classify(err)
	}
	return rc, nil
}

// Stat asks the server for the size (HEAD, as Glance's get_size). A
// server that does not say has no usable data: size 0, which the
// locations API refuses as Glance does.
func (d *Driver) Stat(ctx context.Context, key string) (blob.Info, error) {
	u, err := urlOf(key)
	if err != nil {
		return blob.Info{}, err
	}
	n, err := d.f.Size(ctx, u)
	if err != nil {
		return blob.Info{}, classify(err)
	}
	return blob.Info{Size: max(n, 0)}, nil
}

// Delete never touches the remote data: removing an http location (or
// its image) only forgets the URL, as Glance's http store does.
func (d *Driver) Delete(context.Context, string) error { return nil }

// ReadOnly marks the store as taking no writes.
func (d *Driver) ReadOnly() bool { return true }

// Remote tells the image cache the data is off this machine: it keeps copies.
func (d *Driver) Remote() bool { return true }

// URL is the location URL a key stands for.
func (d *Driver) URL(key string) string {
	u, _ := urlOf(key)
	return u
}

// KeyFor takes http and https URLs that pass the fetcher's filter; the
// others (refused schemes, hosts, ports, internal addresses) are an error,
// so the locations API answers 400 with nothing fetched.
func (d *Driver) KeyFor(url string) (string, bool, error) {
	scheme, _, _ := strings.Cut(url, "://")
	if s := strings.ToLower(scheme); s != "http" && s != "https" {
		return "", false, nil
	}
	if len(url) > MaxURL {
		return "", true, fmt.Errorf("the URL is longer than %d characters", MaxURL)
	}
	if err := d.f.Check(url); err != nil {
		return "", true, err
	}
	return Key(url), true, nil
}

// classify maps fetch failures to the blob contract: a refusal or a
// 404/410 is data that is not there; the rest may succeed later.
func classify(err error) error {
	var se *webfetch.StatusError
	if errors.As(err, &se) && (se.Code == http.StatusNotFound || se.Code == http.StatusGone) {
		return fmt.Errorf("%w: %v", blob.ErrNotFound, err)
	}
	var refused *webfetch.Refused
	if errors.As(err, &refused) {
		return fmt.Errorf("%w: %v", blob.ErrNotFound, err)
	}
	return fmt.Errorf("%w: %v", blob.ErrUnavailable, err)
}
