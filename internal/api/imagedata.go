package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// uploadData handles PUT /v2/images/{id}/file. The body streams straight
// into the service: nothing is buffered beyond one chunk, and a peer that
// stops sending for IdleTimeout is cut off.
func (h *Handler) uploadData(w http.ResponseWriter, r *http.Request) error {
	store := ""
	if h.opts.MultiStore {
		store = r.Header.Get("X-Image-Meta-Store")
	}
	dr, err := rangedData(r)
	if err != nil {
		return err
	}
	if dr != nil {
		p, id := principal(r), r.PathValue("id")
		return h.resumeData(w, r, dr,
			func() (image.Progress, error) { return h.svc.UploadProgress(r.Context(), p, id) },
			func(body io.Reader, rng image.DataRange) (image.Progress, error) {
				return h.svc.ResumeUpload(r.Context(), p, id, store, body, rng)
			})
	}
	body, declared, release, err := h.dataBody(w, r)
	if err != nil {
		return err
	}
	defer release()
	if err := h.svc.Upload(r.Context(), principal(r), r.PathValue("id"), store, body, declared); err != nil {
		return stalledErr(body, err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// dataBody checks what every image data PUT (upload, stage) must carry,
// takes a transfer slot, and returns the body with its idle timeout and
// the declared size (-1 when chunked). release gives the slot back.
func (h *Handler) dataBody(w http.ResponseWriter, r *http.Request) (body io.Reader, declared int64, release func(), err error) {
	if err := checkDataType(r); err != nil {
		return nil, 0, nil, err
	}
	if declared, err = declaredSize(r); err != nil {
		return nil, 0, nil, err
	}
	if release, err = h.acquireTransfer(); err != nil {
		return nil, 0, nil, err
	}
	return &idleReader{r: r.Body, rc: http.NewResponseController(w), timeout: h.opts.IdleTimeout}, declared, release, nil
}

// checkDataType refuses image data that is not application/octet-stream.
// A progress query of a resumable upload carries no body, so it may omit
// the type.
func checkDataType(r *http.Request) error {
	contentType := r.Header.Get("Content-Type")
	if contentType == "" && r.ContentLength == 0 && r.Header.Get("Content-Range") != "" {
		return nil
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt != "application/octet-stream" {
		if contentType == "" {
			contentType = "None"
		}
		return unsupportedMediaType(contentType, nil)
	}
	return nil
}

// declaredSize is the size the client announced: x-openstack-image-size
// when sent (it must agree with Content-Length), else Content-Length, else
// -1 for a chunked body.
func declaredSize(r *http.Request) (int64, error) {
	size := r.ContentLength
	if s := r.Header.Get("X-Openstack-Image-Size"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return 0, badRequest("Invalid x-openstack-image-size header: " + s)
		}
		if size >= 0 && size != n {
			return 0, badRequest("The x-openstack-image-size header does not match the Content-Length of the request.")
		}
		size = n
	}
	return size, nil
}

// downloadData handles GET /v2/images/{id}/file, whole or one byte range.
func (h *Handler) downloadData(w http.ResponseWriter, r *http.Request) error {
	rng, err := parseRange(r)
	if err != nil {
		return err
	}
	release, err := h.acquireTransfer()
	if err != nil {
		return err
	}
	defer release()
	data, err := h.svc.Download(r.Context(), principal(r), r.PathValue("id"), rng)
	if err != nil {
		return err
	}
	if data.Body == nil {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	defer data.Body.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", "application/octet-stream")
	hdr.Set("Content-Length", itoa(data.Length))
	if data.Image.Checksum != "" {
		hdr.Set("Content-Md5", data.Image.Checksum)
	}
	status := http.StatusOK
	if data.Partial {
		status = http.StatusPartialContent
		hdr.Set("Content-Range", "bytes "+itoa(data.Offset)+"-"+itoa(data.Offset+data.Length-1)+"/"+itoa(*data.Image.Size))
	}
	w.WriteHeader(status)
	sent, err := h.sendBody(w, data.Body, data.Length)
	if h.opts.Events != nil {
		// Glance reports every download that began, short ones at ERROR.
		from := ""
		if data.Cached {
			from = clientHost(r.RemoteAddr)
		}
		h.opts.Events.ImageSent(context.WithoutCancel(r.Context()), data.Image, sent, principal(r), from)
	}
	return err
}

// clientHost is the host part of a request's RemoteAddr.
func clientHost(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// sendChunk is how much of a download goes out under one write deadline.
// A chunk of a file is one sendfile call; a client must take a chunk
// within the idle timeout (1 MiB in 2 minutes by default) or be cut off.
const sendChunk = 1 << 20

// sendBody copies n bytes of body to w a chunk at a time, extending the
// connection's write deadline before each, so a slow but moving download
// never times out and a stalled one does. The copy goes through w's
// ReadFrom, which hands a file to the kernel (sendfile) instead of
// copying it through user space.
func (h *Handler) sendBody(w http.ResponseWriter, body io.Reader, n int64) (sent int64, err error) {
	rc := http.NewResponseController(w)
	for n > 0 {
		_ = rc.SetWriteDeadline(time.Now().Add(h.opts.IdleTimeout))
		c, err := io.CopyN(w, body, min(n, sendChunk))
		n -= c
		sent += c
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// parseRange reads one "bytes=a-b", "bytes=a-" or "bytes=-n" range. Glance
// also honours a Content-Range request header for the same purpose.
func parseRange(r *http.Request) (*image.ByteRange, error) {
	spec := r.Header.Get("Range")
	if spec == "" {
		if cr := r.Header.Get("Content-Range"); cr != "" {
			spec = "bytes=" + strings.SplitN(strings.TrimPrefix(cr, "bytes "), "/", 2)[0]
		}
	}
	if spec == "" {
		return nil, nil
	}
	bad := &httpError{status: http.StatusRequestedRangeNotSatisfiable, explanation: "Requested range not satisfiable"}
	units, set, ok := strings.Cut(spec, "=")
	if !ok || strings.TrimSpace(units) != "bytes" || strings.Contains(set, ",") {
		return nil, bad
	}
	a, b, ok := strings.Cut(strings.TrimSpace(set), "-")
	if !ok {
		return nil, bad
	}
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			return nil, bad
		}
		return &image.ByteRange{Suffix: n}, nil
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil || start < 0 {
		return nil, bad
	}
	end := int64(-1)
	if b != "" {
		if end, err = strconv.ParseInt(b, 10, 64); err != nil || end < start {
			return nil, bad
		}
	}
	return &image.ByteRange{Start: start, End: end}, nil
}

// acquireTransfer takes one of the bounded transfer slots.
func (h *Handler) acquireTransfer() (func(), error) {
	select {
	case h.transfers <- struct{}{}:
		return func() { <-h.transfers }, nil
	default:
		return nil, &httpError{status: http.StatusServiceUnavailable,
			explanation: "Too many image transfers in progress; try again later.",
			header:      http.Header{"Retry-After": {"5"}}}
	}
}

// idleReader extends the connection's read deadline before every read, so
// a slow but moving upload never times out and a stalled one does.
type idleReader struct {
	r       io.Reader
	rc      *http.ResponseController
	timeout time.Duration
	// stalled is set once a read timed out. The timeout also cancels the
	// request's context, so a store writing in the background (S3) may
	// fail first with "context canceled"; stalledErr still answers 408.
	stalled atomic.Bool
}

func (i *idleReader) Read(p []byte) (int, error) {
	_ = i.rc.SetReadDeadline(time.Now().Add(i.timeout))
	n, err := i.r.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The domain words this as a stalled upload (408), not a broken one.
		i.stalled.Store(true)
		err = fmt.Errorf("%w: nothing received for %s", image.ErrTimeout, i.timeout)
	}
	return n, err
}

// stalledErr is err, or the stalled-upload error when the body stalled.
func stalledErr(body io.Reader, err error) error {
	if ir, ok := body.(*idleReader); ok && err != nil && ir.stalled.Load() && !errors.Is(err, image.ErrTimeout) {
		return &httpError{status: http.StatusRequestTimeout,
			explanation: "Upload stalled: the client sent no data for too long and was cut off."}
	}
	return err
}
