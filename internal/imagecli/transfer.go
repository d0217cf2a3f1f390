package imagecli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/schollz/progressbar/v3"

	"github.com/glint-image/glint/internal/imageclient"
)

// progress returns a writer that advances a progress bar on stderr by the
// bytes written to it, or io.Discard when stderr is not a terminal: pipes
// and CI logs stay clean. size < 0 shows a spinner.
func (a *app) progress(size int64, description string) (io.Writer, func()) {
	if a.terminal == nil || !a.terminal(a.errw) {
		return io.Discard, func() {}
	}
	bar := progressbar.NewOptions64(size,
		progressbar.OptionSetWriter(a.errw),
		progressbar.OptionSetDescription(description),
		progressbar.OptionShowBytes(true),
		progressbar.OptionShowTotalBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionSpinnerType(14),
		progressbar.OptionFullWidth(),
		progressbar.OptionSetRenderBlankState(true),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(a.errw) }),
	)
	return bar, func() {
		if !bar.IsFinished() {
			// An aborted transfer: end the bar's line so the error
			// message starts on a line of its own.
			bar.Exit()
			fmt.Fprintln(a.errw)
		}
	}
}

// putFile sends a file to url (an image's file or stage), resuming after
// dropped connections (imageclient.Upload); data that is not a regular
// file (a pipe) cannot be read again and goes in one plain PUT.
func (a *app) putFile(ctx context.Context, c *gophercloud.ServiceClient, url string, data *os.File, size int64, store string, bar io.Writer) error {
	if size < 0 {
		return putData(ctx, c, url, io.TeeReader(data, bar), size, store)
	}
	up := &imageclient.Upload{Client: c, URL: url, Source: data, Size: size, Progress: bar,
		Backoff: a.retryPause, OnRetry: func(err error, kept int64, pause time.Duration) {
			fmt.Fprintf(a.errw, "upload interrupted (%v); resuming in %s\n", err, pause.Round(time.Millisecond))
		}}
	if store != "" {
		up.Header = map[string]string{"X-Image-Meta-Store": store}
	}
	return up.Run(ctx)
}

// putData streams body to url with PUT: image data or staged data. size
// (when >= 0) is sent as Content-Length so the server can refuse an
// oversized image before any byte is sent.
func putData(ctx context.Context, c *gophercloud.ServiceClient, url string, body io.Reader, size int64, store string) error {
	headers := map[string]string{"Content-Type": "application/octet-stream"}
	if size >= 0 {
		headers["Content-Length"] = strconv.FormatInt(size, 10)
	}
	if store != "" {
		headers["X-Image-Meta-Store"] = store
	}
	resp, err := c.Put(ctx, url, body, nil, &gophercloud.RequestOpts{MoreHeaders: headers, OkCodes: []int{204}})
	_, _, err = gophercloud.ParseResponse(resp, err)
	return imageclient.Describe(err)
}
