package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// remoteEndpoint is the Image API URL of another region for
// glance-download. Glance takes it from the caller's service catalog;
// glint from its configuration, so that a user cannot point an import at
// an endpoint of their choosing.
func (s *importer) remoteEndpoint(region, iface string) (string, error) {
	for name, eps := range s.opts.Import.Regions {
		if strings.EqualFold(name, region) {
			if url := eps[iface]; url != "" {
				return strings.TrimRight(url, "/"), nil
			}
		}
	}
	return "", fmt.Errorf("No image service endpoint in region %s with interface %s is configured for glance-download", region, iface)
}

// maxRemoteRecord bounds the JSON of a remote image record.
const maxRemoteRecord = 1 << 20

// glanceDownload fetches an image from another region's Image API into
// staging: its record first (which must be active; its formats and the
// configured properties carry over), then its data, which must have the
// record's size and checksums.
func (j *importJob) glanceDownload(ctx context.Context, src *source) error {
	tok, ok := j.s.importTokens.Load(j.t.ID)
	if !ok {
		return errors.New("the import was interrupted and glance-download cannot resume: it needs the caller's token, which glint keeps in memory only; import the image again")
	}
	base, err := j.s.remoteEndpoint(j.glanceRegion, j.glanceInterface)
	if err != nil {
		return err
	}
	how := Fetch{API: true, Token: tok.(string)}
	url := base + "/v2/images/" + j.glanceImage
	body, _, err := j.s.opts.Import.Fetcher.Open(ctx, url, how)
	if err != nil {
		return fmt.Errorf("Remote image %s could not be read in region %s: %w", j.glanceImage, j.glanceRegion, err)
	}
	raw, err := io.ReadAll(io.LimitReader(body, maxRemoteRecord))
	body.Close()
	if err != nil {
		return fmt.Errorf("reading %s: %w", url, err)
	}
	var remote map[string]any
	if err := json.Unmarshal(raw, &remote); err != nil {
		return fmt.Errorf("the image record at %s is not JSON", url)
	}
	if st, _ := remote["status"].(string); st != "active" {
		return fmt.Errorf("Source image status should be active instead of %v", remote["status"])
	}
	size, ok := remote["size"].(float64)
	if !ok || size < 0 {
		return fmt.Errorf("Size attribute of remote image %s could not be determined.", j.glanceImage)
	}
	if v, ok := remote["disk_format"].(string); ok {
		src.disk = v
	}
	if v, ok := remote["container_format"].(string); ok {
		src.container = v
	}
	for k, v := range remote {
		str, isStr := v.(string)
		if !isStr || strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		for _, prefix := range j.s.opts.Import.DownloadProperties {
			if strings.HasPrefix(k, prefix) {
				src.props[k] = str
			}
		}
	}
	sum := ""
	if algo, _ := remote["os_hash_algo"].(string); algo != "" {
		if v, _ := remote["os_hash_value"].(string); v != "" {
			sum = algo + ":" + v
		}
	} else if v, _ := remote["checksum"].(string); v != "" {
		sum = "md5:" + v
	}
	n, err := j.download(ctx, url+"/file", how, int64(size), sum)
	if err != nil {
		return err
	}
	src.size = n
	return nil
}
