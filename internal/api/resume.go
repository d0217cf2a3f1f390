package api

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// Resumable uploads, on the Content-Range continuation of object stores'
// resumable uploads (Google Cloud Storage's; see docs/resumable-uploads.md).
// A PUT of image data (/file or /stage) carrying a Content-Range header is
// part of a resumable upload; one without is Glance's plain PUT,
// unchanged, except that if its body breaks off the bytes received are
// kept.
//
//	PUT  Content-Range: bytes */*  (or */T), empty body
//	     → 308 with Upload-Offset: N (and Range: bytes=0-N-1 when N > 0):
//	       N bytes are kept, send the rest from byte N (when all of them
//	       are kept, the query finishes the upload: 204);
//	       204 when the data is complete; 409 (Retry-After) while another
//	       PUT of it is running.
//	PUT  Content-Range: bytes N-M/T  (or N-M/* when T is not known yet),
//	     Content-Length: M-N+1
//	     → 204 when the image is complete, 308 as above when more is
//	       expected; 409 with Upload-Offset when N is not the kept data's
//	       end; 410 with Upload-Offset: 0 when the kept data expired.

// dataRange is a parsed Content-Range of a data PUT: query when it asks
// for the progress only (bytes */T).
type dataRange struct {
	query      bool
	start, end int64 // inclusive
	total      int64 // -1 for '*'
}

// parseDataRange reads the Content-Range of a data PUT; nil when absent.
func parseDataRange(r *http.Request) (*dataRange, error) {
	cr := r.Header.Get("Content-Range")
	if cr == "" {
		return nil, nil
	}
	bad := badRequest("Invalid Content-Range header for a resumable upload: " + cr +
		" (want \"bytes */TOTAL\" to ask for the progress, or \"bytes FIRST-LAST/TOTAL\"; TOTAL may be *)")
	spec, ok := strings.CutPrefix(strings.TrimSpace(cr), "bytes ")
	if !ok {
		return nil, bad
	}
	span, total, ok := strings.Cut(spec, "/")
	if !ok {
		return nil, bad
	}
	dr := &dataRange{total: -1}
	if total != "*" {
		n, err := strconv.ParseInt(total, 10, 64)
		if err != nil || n < 0 {
			return nil, bad
		}
		dr.total = n
	}
	if span == "*" {
		if r.ContentLength > 0 {
			return nil, badRequest("A progress query (Content-Range: bytes */...) carries no body.")
		}
		dr.query = true
		return dr, nil
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return nil, bad
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || start < 0 || end < start || (dr.total >= 0 && end >= dr.total) {
		return nil, bad
	}
	if r.ContentLength != end-start+1 {
		return nil, badRequest("The Content-Length of a resumed upload must be the length of its Content-Range.")
	}
	dr.start, dr.end = start, end
	return dr, nil
}

// rangedData is the Content-Range of a data PUT (upload or stage), nil
// for a whole upload without one. A ranged part must be image data too,
// so its type is checked here; a whole upload's is checked by dataBody.
func rangedData(r *http.Request) (*dataRange, error) {
	dr, err := parseDataRange(r)
	if dr == nil || err != nil {
		return dr, err
	}
	if err := checkDataType(r); err != nil {
		return nil, err
	}
	return dr, nil
}

// resumeData serves a data PUT that carries a Content-Range. progress and
// resume are the service's calls for the upload or the stage.
func (h *Handler) resumeData(w http.ResponseWriter, r *http.Request, dr *dataRange,
	progress func() (image.Progress, error), resume func(body io.Reader, rng image.DataRange) (image.Progress, error)) error {
	var pr image.Progress
	var err error
	if dr.query {
		pr, err = progress()
		if err == nil && pr.Busy {
			return &httpError{status: http.StatusConflict,
				explanation: "An upload of this image's data is in progress; ask again when it has ended.",
				header:      http.Header{"Retry-After": {"2"}}}
		}
		if err == nil && !pr.Done && pr.Total >= 0 && pr.Received == pr.Total {
			// Every byte is kept but the PUT that brought the last ones
			// ended before it could finish (its client went away): the
			// query finishes it, as object stores' "bytes */TOTAL" does.
			pr, err = resume(http.NoBody, image.DataRange{Start: pr.Received, Total: pr.Total})
		}
	} else {
		var release func()
		if release, err = h.acquireTransfer(); err != nil {
			return err
		}
		defer release()
		body := &idleReader{r: r.Body, rc: http.NewResponseController(w), timeout: h.opts.IdleTimeout}
		pr, err = resume(body, image.DataRange{Start: dr.start, Total: dr.total})
		err = stalledErr(body, err)
	}
	var oe *image.OffsetError
	if errors.As(err, &oe) {
		// A copy: asHTTPError may return a shared error value. Its own
		// header (a 503's Retry-After) stays beside the offset.
		he := *asHTTPError(oe.Err)
		header := offsetHeader(oe.Offset, time.Time{})
		for k, v := range he.header {
			header[k] = v
		}
		he.header = header
		return &he
	}
	if err != nil {
		return err
	}
	for k, v := range offsetHeader(pr.Received, pr.ExpiresAt) {
		w.Header()[k] = v
	}
	if pr.Done {
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	// 308 is what object stores answer to an incomplete resumable upload
	// ("Resume Incomplete"); there is no Location, so no client follows
	// it as a redirect.
	w.WriteHeader(http.StatusPermanentRedirect)
	return nil
}

// offsetHeader tells where a resumed upload continues: Upload-Offset (as
// tus names it) and, when bytes are kept, the Range they cover (as object
// stores answer).
func offsetHeader(n int64, expires time.Time) http.Header {
	h := http.Header{"Upload-Offset": {strconv.FormatInt(n, 10)}}
	if n > 0 {
		h.Set("Range", "bytes=0-"+strconv.FormatInt(n-1, 10))
	}
	if !expires.IsZero() {
		h.Set("Upload-Expires", expires.UTC().Format(http.TimeFormat))
	}
	return h
}
