package bench

// The benchmark speaks raw HTTP rather than through internal/imageclient,
// glint's one Image API client: it drives Glance too, with trusted
// headers instead of tokens, and measures the wire, so it controls every
// request and reads no more of an answer than it must.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Identity is how the benchmark presents itself: a token, or the
// trusted headers a keystone-less server believes (glint's
// --auth trusted-headers, Glance's trusted-auth paste flavor).
type Identity struct {
	Headers http.Header
}

// TrustedIdentity is a caller of project with the given roles, in the
// headers both glint and Glance's trusted-auth flavor read.
func TrustedIdentity(project, user string, roles ...string) Identity {
	h := http.Header{}
	h.Set("X-Identity-Status", "Confirmed") // Glance's ContextMiddleware wants it
	h.Set("X-Project-Id", project)
	h.Set("X-Tenant-Id", project)
	h.Set("X-User-Id", user)
	h.Set("X-Roles", strings.Join(roles, ","))
	return Identity{Headers: h}
}

// TokenIdentity presents a Keystone token.
func TokenIdentity(token string) Identity {
	h := http.Header{}
	h.Set("X-Auth-Token", token)
	return Identity{Headers: h}
}

// client talks to one Image API endpoint as one identity.
type client struct {
	base string // endpoint without trailing slash, e.g. http://127.0.0.1:9292
	id   Identity
	http *http.Client
}

func newClient(base string, id Identity, conns int) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		// Large buffers: the transfers are GiB-sized.
		WriteBufferSize: 256 << 10,
		ReadBufferSize:  256 << 10,
	}
	return &client{base: strings.TrimRight(base, "/"), id: id, http: &http.Client{Transport: tr}}
}

func (c *client) close() { c.http.CloseIdleConnections() }

// statusError is an answer the workload did not expect.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, strings.TrimSpace(e.body))
}

// do sends one request and decodes a JSON answer into out (when not nil),
// failing on any status but want. The body is always drained so the
// connection is reused.
func (c *client) do(ctx context.Context, method, path, contentType string, body io.Reader, want int, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	for k, v := range c.id.Headers {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
		return resp.StatusCode, &statusError{status: resp.StatusCode, body: string(b)}
	}
	if out != nil {
		err = json.NewDecoder(resp.Body).Decode(out)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused
	return resp.StatusCode, err
}

// jsonBody encodes v for a request body.
func jsonBody(v any) io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own maps and slices are encoded
	}
	return bytes.NewReader(b)
}

// imageRecord is the part of an image the benchmark reads.
type imageRecord struct {
	ID       string  `json:"id"`
	Status   string  `json:"status"`
	Size     *int64  `json:"size"`
	Checksum *string `json:"checksum"`
	HashAlgo *string `json:"os_hash_algo"`
	Hash     *string `json:"os_hash_value"`
}

type imagePage struct {
	Images []imageRecord `json:"images"`
	Next   string        `json:"next"`
}

const patchType = "application/openstack-images-v2.1-json-patch"

// createImage makes one queued image and returns its id.
func (c *client) createImage(ctx context.Context, attrs map[string]any) (string, int, error) {
	var img imageRecord
	status, err := c.do(ctx, "POST", "/v2/images", "application/json", jsonBody(attrs), http.StatusCreated, &img)
	return img.ID, status, err
}

func (c *client) deleteImage(ctx context.Context, id string) error {
	_, err := c.do(ctx, "DELETE", "/v2/images/"+id, "", nil, http.StatusNoContent, nil)
	return err
}

// waitReady polls GET / until the server answers or the deadline passes,
// and returns when it first answered.
func waitReady(ctx context.Context, base string, deadline time.Duration) (time.Time, error) {
	hc := &http.Client{Timeout: time.Second}
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, "GET", strings.TrimRight(base, "/")+"/versions", nil)
		if resp, err := hc.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return time.Now(), nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("%s did not answer within %s", base, deadline)
		case <-time.After(2 * time.Millisecond):
		}
	}
}
