package manager

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// cheapChecksum is the largest file a dry run downloads to check its
// checksum; larger ones are only probed.
const cheapChecksum = 64 << 20

// DryRunCheck tries, without changing anything, what the plan's imports
// will need from upstream, as the OSISM tool's dry run does: that every
// URL answers (HEAD, or a one-byte ranged GET for servers that refuse
// HEAD) and, for files up to 64 MiB, that the data matches its checksum.
// Each import action gets the outcome in Check, saying what was not
// checked; the count of imports that would fail is returned.
func (f *Fetcher) DryRunCheck(ctx context.Context, p *Plan) (failing int) {
	for i := range p.Actions {
		a := &p.Actions[i]
		if (a.Kind != KindImport && a.Kind != KindReplace) || a.Import == nil {
			continue
		}
		var ok bool
		a.Check, ok = f.dryRunImport(ctx, a.Import)
		if !ok {
			failing++
		}
	}
	return failing
}

func (f *Fetcher) dryRunImport(ctx context.Context, spec *ImportSpec) (string, bool) {
	size, err := f.Probe(ctx, spec.URL)
	if err != nil {
		return "dry run: the URL cannot be fetched: " + err.Error(), false
	}
	algo, want, _ := strings.Cut(spec.Checksum, ":")
	switch {
	case spec.Checksum == "":
		return "dry run: the URL answers; no checksum to check", true
	case size < 0:
		return fmt.Sprintf("dry run: the URL answers; %s not checked (size unknown)", algo), true
	case size > cheapChecksum:
		return fmt.Sprintf("dry run: the URL answers (%d MiB); %s not checked (more than %d MiB to fetch)",
			size>>20, algo, cheapChecksum>>20), true
	}
	h := newHash(algo)
	if h == nil {
		return fmt.Sprintf("dry run: the URL answers; %s is not a checksum algorithm glint knows", algo), false
	}
	body, _, err := f.Open(ctx, spec.URL)
	if err != nil {
		return "dry run: the URL answers a probe but the download fails: " + err.Error(), false
	}
	defer body.Close()
	if _, err := io.Copy(h, io.LimitReader(body, cheapChecksum+1)); err != nil {
		return "dry run: the URL answers but the download fails: " + err.Error(), false
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(want) {
		return (&ChecksumError{Algorithm: algo, Want: want, Got: got}).Error(), false
	}
	return fmt.Sprintf("dry run: the URL answers and the data matches its %s", algo), true
}

// Probe checks that url can be fetched, without fetching it, and
// returns its size (-1 when the server does not say).
func (f *Fetcher) Probe(ctx context.Context, rawURL string) (int64, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return -1, err
	}
	switch u.Scheme {
	case "file":
		p := u.Path
		if p == "" {
			p = u.Opaque
		}
		info, err := os.Stat(p)
		if err != nil {
			return -1, err
		}
		if !info.Mode().IsRegular() {
			return -1, fmt.Errorf("%s is not a regular file", p)
		}
		return info.Size(), nil
	case "http", "https":
	default:
		return -1, fmt.Errorf("cannot fetch %s URLs from here (only http, https and file)", u.Scheme)
	}
	resp, headErr := f.head(ctx, rawURL)
	if headErr == nil {
		return resp.ContentLength, nil
	}
	// Some servers refuse HEAD (405) or answer it wrongly: ask for the
	// first byte instead, as a download would start.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", rawURL, nil)
	if err != nil {
		return -1, err
	}
	req.Header.Set("Range", "bytes=0-0")
	got, err := f.client.Do(req)
	if err != nil {
		return -1, err
	}
	got.Body.Close()
	switch got.StatusCode {
	case http.StatusOK:
		return got.ContentLength, nil
	case http.StatusPartialContent:
		// Content-Range: bytes 0-0/<total>
		if _, total, ok := strings.Cut(got.Header.Get("Content-Range"), "/"); ok {
			if n, err := strconv.ParseInt(total, 10, 64); err == nil {
				return n, nil
			}
		}
		return -1, nil
	}
	return -1, &statusError{code: got.StatusCode, status: got.Status}
}
