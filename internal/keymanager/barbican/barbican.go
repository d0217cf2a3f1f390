// Package barbican fetches secrets from an existing Barbican with the
// caller's token, as castellan's Barbican key manager does for Glance: the
// key manager the signature verifier uses when glint is configured with
// key_manager: barbican.
package barbican

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/keymanager"
)

// maxBody bounds what is read of any answer: secrets are small (Barbican
// refuses more than 20000 bytes by default).
const maxBody = 1 << 20

// Client reads secrets from one Barbican endpoint.
type Client struct {
	base string // ends in /v1
	hc   *http.Client
}

// New returns a client of the Barbican at endpoint (with or without its
// /v1 suffix). hc nil means a client with a 30 s timeout.
func New(endpoint string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("barbican: %q is not an http(s) URL", endpoint)
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base := strings.TrimSuffix(strings.TrimRight(endpoint, "/"), "/v1")
	return &Client{base: base + "/v1", hc: hc}, nil
}

// Fetch returns a secret with its payload, read with the token of the
// caller in ctx (caller.WithToken); p is not used: Barbican decides from
// the token.
func (c *Client) Fetch(ctx context.Context, _ caller.Principal, id string) (*keymanager.Secret, error) {
	tok := caller.TokenFromContext(ctx)
	if tok == "" {
		return nil, errors.New("barbican: no token of the caller to fetch the secret with")
	}
	if _, err := url.PathUnescape(id); err != nil || strings.ContainsAny(id, "/?#") || id == "" {
		return nil, fmt.Errorf("barbican: %q is not a secret id", id)
	}
	var meta struct {
		SecretType   string            `json:"secret_type"`
		Name         string            `json:"name"`
		ContentTypes map[string]string `json:"content_types"`
	}
	body, _, err := c.get(ctx, tok, "/secrets/"+url.PathEscape(id), "application/json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("barbican: secret %s: %w", id, err)
	}
	ct := meta.ContentTypes["default"]
	if ct == "" {
		return nil, fmt.Errorf("barbican: secret %s has no payload", id)
	}
	payload, _, err := c.get(ctx, tok, "/secrets/"+url.PathEscape(id)+"/payload", ct)
	if err != nil {
		return nil, err
	}
	return &keymanager.Secret{ID: id, Name: meta.Name, Type: meta.SecretType, ContentType: ct, Payload: payload}, nil
}

func (c *Client) get(ctx context.Context, tok, path, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("X-Auth-Token", tok)
	req.Header.Set("Accept", accept)
	resp, err := c.hc.Do(req)
	if err != nil {
		// Not reached, refused, timed out: Barbican may answer later.
		return nil, "", fmt.Errorf("barbican: GET %s: %w: %w", path, keymanager.ErrUnavailable, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, "", fmt.Errorf("barbican: reading %s: %w: %w", path, keymanager.ErrUnavailable, err)
	}
	if len(body) > maxBody {
		return nil, "", fmt.Errorf("barbican: the answer to %s passes %d bytes", path, maxBody)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusOK:
		return body, resp.Header.Get("Content-Type"), nil
	case code == http.StatusNotFound:
		return nil, "", fmt.Errorf("barbican: GET %s: %w", path, keymanager.ErrNotFound)
	case code == http.StatusForbidden:
		return nil, "", fmt.Errorf("barbican: GET %s: %w: %.200s", path, keymanager.ErrForbidden, body)
	case code >= 500 || code == http.StatusTooManyRequests:
		// Down, overloaded or rate limited: an answer about Barbican,
		// not about the secret.
		err := fmt.Errorf("barbican: GET %s: %w: %s: %.200s", path, keymanager.ErrUnavailable, resp.Status, body)
		if after := retryAfter(resp.Header.Get("Retry-After"), time.Now()); after > 0 {
			return nil, "", &retryError{err: err, after: after}
		}
		return nil, "", err
	}
	return nil, "", fmt.Errorf("barbican: GET %s: %s: %.200s", path, resp.Status, body)
}

// retryError is an unavailable answer that said how long to wait. Its
// RetryAfter method is what image.RetryAfter looks for, so the wait
// reaches the client of glint's own 503.
type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string             { return e.err.Error() }
func (e *retryError) Unwrap() error             { return e.err }
func (e *retryError) RetryAfter() time.Duration { return e.after }

// retryAfter reads a Retry-After header, seconds or an HTTP date (RFC
// 9110 10.2.3); 0 when it is absent, malformed or already past.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(h, 10, 32); err == nil {
		return time.Duration(max(secs, 0)) * time.Second
	}
	if at, err := http.ParseTime(h); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}
