package manager

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
	"sync/atomic"
	"time"
)

// Upstream data: the image files, checksum files and Last-Modified dates
// that definitions point at, fetched from where glint manage runs.

// Fetcher reads upstream URLs with bounded waits.
type Fetcher struct {
	client *http.Client
	// Stall ends a download that delivers nothing for this long.
	Stall time.Duration
}

// NewFetcher returns a Fetcher with the timeouts of a careful client:
// connecting and waiting for headers are bounded, a body may take as
// long as it needs while it keeps moving.
func NewFetcher() *Fetcher {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   30 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   4,
	}
	return &Fetcher{client: &http.Client{Transport: transport}, Stall: 2 * time.Minute}
}

// maxChecksumFile bounds a checksum manifest: Fedora's and Ubuntu's are
// a few KiB.
const maxChecksumFile = 16 << 20

// Open starts reading url: http(s) or file:. size is -1 when unknown.
// The body is cut off with an error when it stalls for f.Stall.
func (f *Fetcher) Open(ctx context.Context, rawURL string) (body io.ReadCloser, size int64, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, 0, err
	}
	switch u.Scheme {
	case "file":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		file, err := os.Open(p)
		if err != nil {
			return nil, 0, err
		}
		info, err := file.Stat()
		if err != nil || !info.Mode().IsRegular() {
			file.Close()
			return nil, 0, fmt.Errorf("%s is not a regular file", p)
		}
		return file, info.Size(), nil
	case "http", "https":
	default:
		return nil, 0, fmt.Errorf("cannot fetch %s URLs from here (only http, https and file)", u.Scheme)
	}
	ctx, cancel := context.WithCancel(ctx)
	req, err := http.NewRequestWithContext(ctx, "GET", rawURL, nil)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		cancel()
		return nil, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, 0, &statusError{code: resp.StatusCode, status: resp.Status}
	}
	return newStallReader(resp.Body, cancel, f.Stall), resp.ContentLength, nil
}

// statusError is an upstream server's answer other than 200.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "the server answered " + e.status }

// stallReader cancels its request when no byte arrives for a while.
type stallReader struct {
	body    io.ReadCloser
	cancel  context.CancelFunc
	timer   *time.Timer
	limit   time.Duration
	stalled atomic.Bool
}

func newStallReader(body io.ReadCloser, cancel context.CancelFunc, limit time.Duration) *stallReader {
	s := &stallReader{body: body, cancel: cancel, limit: limit}
	s.timer = time.AfterFunc(limit, func() { s.stalled.Store(true); cancel() })
	return s
}

func (s *stallReader) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.timer.Reset(s.limit)
	}
	if err != nil && !errors.Is(err, io.EOF) && s.stalled.Load() {
		err = fmt.Errorf("download stalled: nothing received for %s", s.limit)
	}
	return n, err
}

func (s *stallReader) Close() error {
	s.timer.Stop()
	err := s.body.Close()
	s.cancel()
	return err
}

// fetchText reads a small text file (a checksum file).
func (f *Fetcher) fetchText(ctx context.Context, rawURL string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second) // the tool's timeout for these
	defer cancel()
	body, _, err := f.Open(ctx, rawURL)
	if err != nil {
		return "", err
	}
	defer body.Close()
	b, err := io.ReadAll(io.LimitReader(body, maxChecksumFile+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxChecksumFile {
		return "", fmt.Errorf("%s is larger than %d bytes", rawURL, maxChecksumFile)
	}
	return string(b), nil
}

var hexDigest = lazy(`^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64}|[0-9a-fA-F]{128})$`)

// findDigest picks the digest of file out of a checksum manifest in any
// of the usual layouts ("<hex>  name", "<hex> *name", "SHA256 (name) =
// <hex>"). A line naming the file exactly wins; failing that, as in the
// OSISM tool, the first line that merely contains the name.
func findDigest(manifest, file string) string {
	var loose string
	sc := bufio.NewScanner(strings.NewReader(manifest))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, file) {
			continue
		}
		var digest string
		exact := false
		for _, field := range strings.Fields(line) {
			if digest == "" && hexDigest.MatchString(field) {
				digest = field
			}
			if name := strings.TrimPrefix(strings.Trim(field, "()"), "*"); name == file || path.Base(name) == file {
				exact = true
			}
		}
		switch {
		case digest != "" && exact:
			return strings.ToLower(digest)
		case digest != "" && loose == "":
			loose = strings.ToLower(digest)
		}
	}
	return loose
}

// ResolveLatest looks up what a version latest points at now.
func (f *Fetcher) ResolveLatest(ctx context.Context, v *Version) Upstream {
	var up Upstream
	var digest string
	if v.ChecksumsURL != "" {
		manifest, err := f.fetchText(ctx, v.ChecksumsURL)
		if err != nil {
			up.Err = "checksums_url: " + err.Error()
			return up
		}
		digest = findDigest(manifest, path.Base(v.URL))
		if digest == "" {
			up.Err = fmt.Sprintf("checksums_url %s has no digest for %s", v.ChecksumsURL, path.Base(v.URL))
			return up
		}
	} else {
		text, err := f.fetchText(ctx, v.ChecksumURL)
		if err != nil {
			up.Err = "checksum_url: " + err.Error()
			return up
		}
		digest = strings.TrimSpace(text)
		if !hexDigest.MatchString(digest) {
			up.Err = fmt.Sprintf("checksum_url %s does not hold one bare digest", v.ChecksumURL)
			return up
		}
		digest = strings.ToLower(digest)
	}
	up.Digest = digest
	up.Modified = f.lastModified(ctx, v.URL)
	return up
}

// Size is the length of the file at url (HEAD, following redirects),
// or -1 when the server does not say.
func (f *Fetcher) Size(ctx context.Context, rawURL string) int64 {
	resp, err := f.head(ctx, rawURL)
	if err != nil {
		return -1
	}
	return resp.ContentLength
}

func (f *Fetcher) head(ctx context.Context, rawURL string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "HEAD", rawURL, nil)
	if err != nil {
		return nil, err
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &statusError{code: resp.StatusCode, status: resp.Status}
	}
	return resp, nil
}

// lastModified is the upstream date of url as YYYYMMDD, or "".
func (f *Fetcher) lastModified(ctx context.Context, rawURL string) string {
	resp, err := f.head(ctx, rawURL)
	if err != nil {
		return ""
	}
	t, err := http.ParseTime(resp.Header.Get("Last-Modified"))
	if err != nil {
		return ""
	}
	return t.UTC().Format("20060102")
}
