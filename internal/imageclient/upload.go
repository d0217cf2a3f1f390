package imageclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2"
)

// Upload sends image data (PUT .../file or .../stage) from a source that
// can be read again at any offset (a file), and survives dropped
// connections: after a failure it asks the server how many bytes it kept
// and sends only the rest, with a growing pause between attempts.
//
// The first attempt is Glance's plain PUT, so any Image API server takes
// it. Resuming uses glint's Content-Range continuation
// (docs/resumable-uploads.md); its progress query carries no
// Content-Type, which a server without resumable uploads (Glance)
// refuses with 415, changing nothing: the client then starts over with a
// plain PUT, as it would have to anyway.
type Upload struct {
	Client *gophercloud.ServiceClient
	URL    string
	Source io.ReaderAt
	Size   int64
	// Header holds extra request headers (X-Image-Meta-Store).
	Header map[string]string
	// Progress, when set, receives each byte the first time it is sent.
	Progress io.Writer
	// Retries is how many attempts in a row may fail without the server
	// keeping a byte more before Run gives up (default 8). Backoff is the
	// first pause (default 1 s); it doubles up to MaxBackoff (30 s).
	Retries             int
	Backoff, MaxBackoff time.Duration
	// OnRetry, when set, hears of each failed attempt (for a log line).
	OnRetry func(err error, kept int64, pause time.Duration)

	// Sent is the number of bytes of Source put on the wire, over all
	// attempts.
	Sent int64
	high int64 // bytes reported to Progress
}

// errNoResume: the server does not offer resumable uploads.
var errNoResume = errors.New("the server cannot resume uploads")

// Run sends the data; it returns nil once the server has all of it.
func (u *Upload) Run(ctx context.Context) error {
	retries, pause, maxPause := u.Retries, u.Backoff, u.MaxBackoff
	if retries <= 0 {
		retries = 8
	}
	if pause <= 0 {
		pause = time.Second
	}
	if maxPause <= 0 {
		maxPause = 30 * time.Second
	}
	offset, resumable, failures := int64(0), false, 0
	for {
		var err error
		if resumable {
			err = u.put(ctx, offset, true)
		} else {
			err = u.put(ctx, 0, false)
		}
		if err == nil {
			return nil
		}
		if !retriable(err) || (!resumable && (IsStatus(err, http.StatusConflict) || IsStatus(err, http.StatusGone))) {
			// A plain PUT refused as such (the image is not queued,
			// say) is final.
			return err
		}
		for {
			failures++
			if failures > retries || ctx.Err() != nil {
				return err
			}
			if u.OnRetry != nil {
				u.OnRetry(err, offset, pause)
			}
			select {
			case <-time.After(pause):
			case <-ctx.Done():
				return err
			}
			pause = min(2*pause, maxPause)
			kept, done, qerr := u.query(ctx)
			if done {
				return nil
			}
			if errors.Is(qerr, errNoResume) {
				resumable, offset = false, 0
				break
			}
			if qerr != nil {
				err = qerr
				if !retriable(qerr) {
					return qerr
				}
				continue // the server is still unreachable, or busy
			}
			if kept > offset || !resumable {
				failures = 0 // progress: the budget starts again
				pause = max(u.Backoff, time.Second)
			}
			resumable, offset = true, kept
			break
		}
	}
}

// retriable tells a failure another attempt may get past: the connection
// broke, the request timed out, the server is busy or unavailable, or the
// resume must start elsewhere (409, 410: the answer says where).
func retriable(err error) bool {
	var se *Error
	if !errors.As(err, &se) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	switch se.Status {
	case http.StatusRequestTimeout, http.StatusConflict, http.StatusGone, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// put sends the bytes from offset: a plain PUT of everything, or a
// continuation.
func (u *Upload) put(ctx context.Context, offset int64, resume bool) error {
	body := &counter{r: io.NewSectionReader(u.Source, offset, u.Size-offset), u: u, pos: offset}
	h := map[string]string{"Content-Type": "application/octet-stream"}
	if resume {
		h["Content-Range"] = "bytes " + strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(u.Size-1, 10) + "/" +
			strconv.FormatInt(u.Size, 10)
		if offset == u.Size {
			// Every byte is kept; the server finishes the upload when
			// asked (a server that did not would answer 308 again).
			if _, done, err := u.query(ctx); done || err != nil {
				return err
			}
			return &Error{Status: http.StatusConflict, Message: "the server keeps every byte but does not finish the upload"}
		}
	}
	resp, err := u.do(ctx, h, body, u.Size-offset)
	if err != nil {
		return err
	}
	// Closed after the switch: unexpected reads the server's reason.
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return nil
	case http.StatusPermanentRedirect:
		// The server kept the body but expects more: it must have lost
		// bytes on the way. Ask again.
		return &Error{Status: http.StatusConflict, Message: "the server expects more data"}
	}
	return unexpected(resp, u.URL)
}

// query asks how many bytes the server kept; done when it has them all.
func (u *Upload) query(ctx context.Context) (kept int64, done bool, err error) {
	h := map[string]string{"Content-Range": "bytes */" + strconv.FormatInt(u.Size, 10)}
	resp, err := u.do(ctx, h, nil, 0)
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent:
		return u.Size, true, nil
	case http.StatusPermanentRedirect:
		n, perr := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		if perr != nil || n < 0 || n > u.Size {
			return 0, false, fmt.Errorf("the server's progress answer has no usable Upload-Offset (%q)", resp.Header.Get("Upload-Offset"))
		}
		return n, false, nil
	case http.StatusConflict, http.StatusGone, http.StatusServiceUnavailable, http.StatusTooManyRequests:
		if v := resp.Header.Get("Upload-Offset"); v != "" && resp.StatusCode == http.StatusGone {
			return 0, false, nil // expired: start again at 0
		}
		return 0, false, unexpected(resp, u.URL)
	case http.StatusUnsupportedMediaType, http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return 0, false, errNoResume
	}
	return 0, false, unexpected(resp, u.URL)
}

// do sends one request with the client's token (renewed once on 401).
func (u *Upload) do(ctx context.Context, h map[string]string, body io.Reader, length int64) (*http.Response, error) {
	pc := u.Client.ProviderClient
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.URL, body)
		if err != nil {
			return nil, err
		}
		req.ContentLength = length
		if length == 0 {
			req.Body = http.NoBody
		}
		req.Header.Set("User-Agent", pc.UserAgent.Join())
		for k, v := range u.Header {
			req.Header.Set(k, v)
		}
		for k, v := range h {
			req.Header.Set(k, v)
		}
		token := pc.Token()
		for k, v := range pc.AuthenticatedHeaders() {
			req.Header.Set(k, v)
		}
		resp, err := pc.HTTPClient.Do(req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusUnauthorized || attempt > 0 || pc.ReauthFunc == nil || length > 0 {
			return resp, nil
		}
		resp.Body.Close()
		if err := pc.Reauthenticate(ctx, token); err != nil {
			return nil, err
		}
	}
}

func unexpected(resp *http.Response, url string) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Describe(gophercloud.ErrUnexpectedResponseCode{URL: url, Method: http.MethodPut,
		Expected: []int{http.StatusNoContent}, Actual: resp.StatusCode, Body: b, ResponseHeader: resp.Header})
}

// counter counts the bytes sent and feeds Progress the new ones.
type counter struct {
	r   io.Reader
	u   *Upload
	pos int64
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.u.Sent += int64(n)
	c.pos += int64(n)
	if c.u.Progress != nil && c.pos > c.u.high {
		fresh := min(int64(n), c.pos-c.u.high)
		// A progress display that fails is no reason to stop the upload.
		_, _ = c.u.Progress.Write(p[n-int(fresh) : n])
		c.u.high = c.pos
	}
	return n, err
}
