package manager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/imageclient"
)

// How an image gets its data. With web-download offered (and --prefetch
// not always), the cloud fetches the URL itself; up to 1 + --stuck-retry
// attempts. When the cloud does not offer it, refuses the URL (its
// address filter) or the import fails, glint manage fetches the URL and
// streams it straight into a staged import (glance-direct, so the cloud's
// import plugins run as for web-download) or, without that, into a plain
// upload; no temporary file. The definition's checksum is verified
// either way. All attempts of one image share one deadline.

// importImage makes the image of spec and returns its id and method.
func (ap *Applier) importImage(ctx context.Context, spec *ImportSpec) (string, string, error) {
	s := ap.Import
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	log := ap.Log.With("image", spec.Name)
	scheme := ""
	if u, err := url.Parse(spec.URL); err == nil {
		scheme = u.Scheme
	}
	var lastErr error
	if s.Prefetch != "always" && scheme != "file" {
		if !ap.offers("web-download") {
			if s.Prefetch == "never" {
				return "", "", errors.New("the cloud does not offer web-download and --prefetch is never")
			}
			log.Info("the cloud does not offer web-download: fetching the image here")
		} else {
			wctx, wcancel := ctx, context.CancelFunc(func() {})
			if s.Prefetch == "on-stuck" {
				// Keep part of the budget for fetching it here, as the
				// tool keeps 15 minutes of its 30.
				deadline, _ := ctx.Deadline()
				reserve := min(15*time.Minute, s.Timeout/2)
				wctx, wcancel = context.WithDeadline(ctx, deadline.Add(-reserve))
			}
			for attempt := 0; attempt <= s.StuckRetry; attempt++ {
				if attempt > 0 {
					log.Info("retrying web-download", "attempt", attempt+1)
				}
				id, err := ap.webDownload(wctx, spec)
				if err == nil {
					wcancel()
					return id, "web-download", nil
				}
				lastErr = err
				log.Warn("web-download failed", "error", err)
				var refused *refusedError
				if errors.As(err, &refused) || wctx.Err() != nil {
					break
				}
			}
			wcancel()
			if s.Prefetch == "never" {
				return "", "", lastErr
			}
			log.Info("fetching the image here instead", "reason", lastErr)
		}
	}
	if scheme != "http" && scheme != "https" && scheme != "file" {
		return "", "", fmt.Errorf("%s URLs can only be imported by the cloud itself (web-download)", scheme)
	}
	for attempt := 0; attempt <= s.FetchRetries; attempt++ {
		if attempt > 0 {
			wait := time.Duration(1<<min(attempt-1, 5)) * time.Second
			log.Info("retrying the transfer", "attempt", attempt+1, "in", wait)
			select {
			case <-ctx.Done():
				return "", "", fmt.Errorf("%w (deadline of --import-timeout %s passed)", lastErr, s.Timeout)
			case <-time.After(wait):
			}
		}
		id, method, err := ap.streamed(ctx, spec)
		if err == nil {
			return id, method, nil
		}
		lastErr = err
		log.Warn("transfer failed", "error", err)
		var mismatch *ChecksumError
		if errors.As(err, &mismatch) || ctx.Err() != nil || errors.Is(err, errPermanent) {
			break
		}
	}
	if ctx.Err() != nil {
		return "", "", fmt.Errorf("%w (deadline of --import-timeout %s passed)", lastErr, s.Timeout)
	}
	return "", "", lastErr
}

// refusedError is an import request the cloud refused outright: trying
// the same again would not help.
type refusedError struct{ err error }

func (e *refusedError) Error() string { return "the cloud refused the import: " + e.err.Error() }
func (e *refusedError) Unwrap() error { return e.err }

// errPermanent marks failures a retry cannot fix.
var errPermanent = errors.New("not retried")

// webDownload is one attempt: create, import by URL, wait, verify.
func (ap *Applier) webDownload(ctx context.Context, spec *ImportSpec) (string, error) {
	id, err := ap.Client.Create(ctx, spec)
	if err != nil {
		return "", fmt.Errorf("creating the image: %w", err)
	}
	method := map[string]any{"uri": spec.URL}
	if spec.Checksum != "" {
		method["checksum"] = spec.Checksum // glint checks it; Glance ignores it
	}
	err = ap.Client.Import(ctx, id, "web-download", method)
	if err != nil {
		ap.discard(ctx, id, "web-download refused")
		if status := imageclient.StatusOf(err); status >= 400 && status < 500 {
			return "", &refusedError{err: err}
		}
		return "", err
	}
	rec, err := ap.waitActive(ctx, id)
	if err == nil {
		err = ap.verifyStored(ctx, rec, spec)
	}
	if err == nil {
		err = ap.settle(ctx, rec, spec)
	}
	if err != nil {
		ap.discard(ctx, id, err.Error())
		return "", err
	}
	return id, nil
}

// streamed is one attempt of fetching the data here and sending it on.
func (ap *Applier) streamed(ctx context.Context, spec *ImportSpec) (string, string, error) {
	body, size, err := ap.Fetch.Open(ctx, spec.URL)
	if err != nil {
		var status *statusError
		if errors.As(err, &status) && status.code >= 400 && status.code < 500 {
			err = fmt.Errorf("%w: %w", errPermanent, err)
		}
		return "", "", fmt.Errorf("fetching %s: %w", spec.URL, err)
	}
	defer body.Close()
	id, err := ap.Client.Create(ctx, spec)
	if err != nil {
		return "", "", fmt.Errorf("creating the image: %w", err)
	}
	v := newVerifier(body, spec.Checksum)
	method := "upload"
	if ap.offers("glance-direct") {
		method = "glance-direct"
		err = ap.Client.Send(ctx, id, "stage", v, size)
		if err == nil {
			err = ap.Client.Import(ctx, id, "glance-direct", nil)
		}
	} else {
		err = ap.Client.Send(ctx, id, "file", v, size)
	}
	if err != nil {
		var mismatch *ChecksumError
		if errors.As(v.err, &mismatch) {
			err = v.err // the transfer broke off because of it
		} else if v.err != nil && !errors.Is(err, v.err) {
			err = fmt.Errorf("%w (reading %s: %v)", err, spec.URL, v.err)
		}
		ap.discard(ctx, id, err.Error())
		return "", "", err
	}
	rec, err := ap.waitActive(ctx, id)
	if err == nil && method == "upload" {
		// A plain upload is stored as sent: the record must say so.
		if rec.Size != v.n || (rec.Checksum != "" && rec.Checksum != v.md5Hex()) {
			err = fmt.Errorf("the cloud stored %d bytes with md5 %s, %d bytes with md5 %s were sent",
				rec.Size, rec.Checksum, v.n, v.md5Hex())
		}
	}
	if err == nil {
		err = ap.settle(ctx, rec, spec)
	}
	if err != nil {
		ap.discard(ctx, id, err.Error())
		return "", "", err
	}
	return id, method, nil
}

// waitActive polls until the image is active, the import failed, or the
// context ends.
func (ap *Applier) waitActive(ctx context.Context, id string) (record, error) {
	interval := ap.Import.Poll
	if interval <= 0 {
		interval = 250 * time.Millisecond
	}
	started := time.Now()
	seenImporting := false
	errorsInRow := 0
	for {
		rec, err := ap.Client.Get(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return rec, fmt.Errorf("waiting for the import: %w", ctx.Err())
			}
			if errorsInRow++; errorsInRow >= 5 {
				return rec, fmt.Errorf("waiting for the import: %w", err)
			}
		} else {
			errorsInRow = 0
			if failed := rec.Properties["os_glance_failed_import"]; failed != "" {
				return rec, ap.importFailure(ctx, rec, "failed for store(s) "+failed)
			}
			switch rec.Status {
			case "active":
				return rec, nil
			case "killed", "deleted", "pending_delete":
				return rec, ap.importFailure(ctx, rec, "the image is "+rec.Status)
			case "queued", "uploading":
				// Glance returns a failed import to queued; an import that
				// never leaves queued (or, staged, uploading) did not
				// start. Its task says which.
				if t, ok := ap.Client.LastTask(ctx, id, rec.Properties["os_glance_import_task"]); ok && t.Status == "failure" {
					return rec, fmt.Errorf("import failed: %s", first(t.Message, "its task failed"))
				}
				if seenImporting {
					return rec, ap.importFailure(ctx, rec, "the image went back to "+rec.Status)
				}
				if time.Since(started) > ap.Import.StuckAfter {
					return rec, ap.importFailure(ctx, rec, errStuck.Error()+" (still "+rec.Status+" after "+
						ap.Import.StuckAfter.String()+")")
				}
			default:
				seenImporting = true
			}
		}
		select {
		case <-ctx.Done():
			return rec, fmt.Errorf("waiting for the import: %w", ctx.Err())
		case <-time.After(interval):
		}
		interval = min(interval*3/2, 5*time.Second)
	}
}

// importFailure explains a failed import, with its task's message when
// the cloud has one.
func (ap *Applier) importFailure(ctx context.Context, rec record, what string) error {
	if t, ok := ap.Client.LastTask(ctx, rec.ID, rec.Properties["os_glance_import_task"]); ok && t.Message != "" {
		return fmt.Errorf("import failed: %s: %s", what, t.Message)
	}
	return fmt.Errorf("import failed: %s", what)
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// verifyStored checks an image the cloud fetched against the checksum.
// When the cloud stored the bytes it fetched, their hash is compared:
// the cloud's own when it used the same algorithm, else by reading the
// data back. When it changed them (decompression or conversion plugins:
// another disk_format or size), the stored bytes cannot match an
// upstream checksum, so the upstream file is read here and hashed
// instead. glint also verifies the download itself when given the
// checksum (a glint extension of web-download that Glance ignores).
func (ap *Applier) verifyStored(ctx context.Context, rec record, spec *ImportSpec) error {
	algo, want, ok := strings.Cut(spec.Checksum, ":")
	if !ok {
		return nil
	}
	changed := rec.DiskFormat != spec.DiskFormat
	if !changed {
		if size := ap.Fetch.Size(ctx, spec.URL); size >= 0 && size != rec.Size {
			changed = true
		}
	}
	var body io.ReadCloser
	var err error
	switch {
	case changed:
		ap.Log.Info("the cloud changed the data on import: verifying the upstream file here", "image", spec.Name,
			"disk_format", rec.DiskFormat, "size", rec.Size)
		body, _, err = ap.Fetch.Open(ctx, spec.URL)
	case algo == "md5" && rec.Checksum != "":
		return compareDigest(algo, want, rec.Checksum)
	case rec.HashAlgo == algo && rec.HashValue != "":
		return compareDigest(algo, want, rec.HashValue)
	default:
		body, err = ap.Client.Download(ctx, rec.ID)
	}
	if err != nil {
		return fmt.Errorf("reading the data to verify its %s: %w", algo, err)
	}
	defer body.Close()
	_, err = io.Copy(io.Discard, newVerifier(body, spec.Checksum))
	return err
}

func compareDigest(algo, want, got string) error {
	if !strings.EqualFold(want, got) {
		return &ChecksumError{Algorithm: algo, Want: strings.ToLower(want), Got: strings.ToLower(got)}
	}
	return nil
}

// settle finishes a new image once its data is in: min_disk raised to
// its size, the status, and last the visibility, so nobody sees it
// before it is complete.
func (ap *Applier) settle(ctx context.Context, rec record, spec *ImportSpec) error {
	d := &Definition{MinDisk: spec.MinDisk}
	if need := minDisk(d, rec.Size); need != rec.MinDisk {
		if err := ap.Client.Patch(ctx, rec.ID, []patchOp{{Op: "replace", Path: "/min_disk", Value: need}}); err != nil {
			return fmt.Errorf("setting min_disk: %w", err)
		}
	}
	if spec.Status == "deactivated" {
		if err := ap.Client.Action(ctx, rec.ID, "deactivate"); err != nil {
			return fmt.Errorf("deactivating: %w", err)
		}
	}
	if spec.Visibility != "" && spec.Visibility != rec.Visibility {
		if err := ap.Client.Patch(ctx, rec.ID, []patchOp{{Op: "replace", Path: "/visibility", Value: spec.Visibility}}); err != nil {
			return fmt.Errorf("publishing (visibility %s): %w", spec.Visibility, err)
		}
	}
	return nil
}
