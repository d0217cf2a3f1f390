package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// upload creates an image and sends it the pattern of d.size bytes, then
// checks that the record carries the size, md5 and sha512 of what was
// sent. It returns the image id.
func upload(ctx context.Context, c *client, d digests, name string) (string, error) {
	id, _, err := c.createImage(ctx, map[string]any{"name": name, "disk_format": "raw",
		"container_format": "bare", "tags": []string{"bench-transfer"}})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, "PUT", c.base+"/v2/images/"+id+"/file", newPattern(d.size))
	if err != nil {
		return id, err
	}
	req.ContentLength = d.size
	for k, v := range c.id.Headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := c.http.Do(req)
	if err != nil {
		return id, fmt.Errorf("upload: %w", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return id, fmt.Errorf("upload: %w", &statusError{status: resp.StatusCode, body: string(body)})
	}
	var img imageRecord
	if _, err := c.do(ctx, "GET", "/v2/images/"+id, "", nil, http.StatusOK, &img); err != nil {
		return id, err
	}
	return id, verifyRecord(img, d)
}

// verifyRecord checks an image record against what was uploaded.
func verifyRecord(img imageRecord, d digests) error {
	switch {
	case img.Status != "active":
		return fmt.Errorf("image %s is %s after its upload, not active", img.ID, img.Status)
	case img.Size == nil || *img.Size != d.size:
		return fmt.Errorf("image %s: size %v, sent %d bytes", img.ID, deref(img.Size), d.size)
	case img.Checksum == nil || *img.Checksum != d.md5:
		return fmt.Errorf("image %s: checksum %q, sent md5 %s", img.ID, deref(img.Checksum), d.md5)
	case img.HashAlgo == nil || *img.HashAlgo != "sha512" || img.Hash == nil || *img.Hash != d.sha512:
		return fmt.Errorf("image %s: os_hash %v:%v, sent sha512 %s", img.ID, deref(img.HashAlgo), deref(img.Hash), d.sha512)
	}
	return nil
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// download reads an image's data and checks every byte against the
// pattern it was uploaded with: byte for byte, so the md5 and sha512 of
// what arrived are those of what was sent, without spending the client's
// CPU on hashing while the server is measured. A Content-MD5 header, when
// the server sends one, must be the uploaded md5.
func download(ctx context.Context, c *client, id string, d digests) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+"/v2/images/"+id+"/file", nil)
	if err != nil {
		return err
	}
	for k, v := range c.id.Headers {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("download: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("download: %w", &statusError{status: resp.StatusCode, body: string(body)})
	}
	if md5 := resp.Header.Get("Content-MD5"); md5 != "" && md5 != d.md5 {
		return fmt.Errorf("download of %s: Content-MD5 %s, uploaded %s", id, md5, d.md5)
	}
	if cl := resp.Header.Get("Content-Length"); cl != "" && cl != strconv.FormatInt(d.size, 10) {
		return fmt.Errorf("download of %s: Content-Length %s, uploaded %d", id, cl, d.size)
	}
	check := &patternChecker{}
	buf := make([]byte, 256<<10)
	if _, err := io.CopyBuffer(check, resp.Body, buf); err != nil {
		return fmt.Errorf("download of %s: %w", id, err)
	}
	if check.seen() != d.size {
		return fmt.Errorf("download of %s: got %d bytes, uploaded %d", id, check.seen(), d.size)
	}
	return nil
}
