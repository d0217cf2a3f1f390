package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/glint-image/glint/internal/blob"
)

// A resumable writer is a plain writer until it has to be more: its
// multipart upload starts with its first full part, or at its first
// checkpoint, so a blob that fits in one part and is never checkpointed
// (most image uploads) costs one PUT, as with Writer, instead of a
// multipart upload created and aborted around it. Its checkpoint is the
// list of parts already stored plus the bytes of the part being filled,
// which S3 cannot take as a part (every part but the last must hold
// 5 MiB); they go to a small tail object,
// <prefix>.resume/<marker>/<size>, where marker is derived from the
// upload ID. Object names starting with '.' are no blob's (blob.ValidKey),
// and Sweep keeps an upload that has a tail: it is a partial upload the
// image service tracks, not a crashed writer's.

var _ blob.Resumer = (*Driver)(nil)

type resumeState struct {
	Object   string               `json:"object"`
	UploadID string               `json:"upload_id"`
	Parts    []minio.CompletePart `json:"parts"`
	Size     int64                `json:"size"`
	// Tail is how many bytes the tail object holds (Size minus the parts).
	Tail int64 `json:"tail"`
}

// resumeDir is the prefix of an upload's tail objects.
func (d *Driver) resumeDir(uploadID string) string {
	sum := sha256.Sum256([]byte(uploadID))
	return d.prefix + ".resume/" + hex.EncodeToString(sum[:16]) + "/"
}

func (d *Driver) tailObject(uploadID string, size int64) string {
	return d.resumeDir(uploadID) + strconv.FormatInt(size, 10)
}

// ResumableWriter starts a writer for key that can checkpoint. It sends
// nothing yet (see above). Its part uploads run under ctx, so pass one
// that outlives a client's dropped connection (context.WithoutCancel): a
// checkpoint waits for the parts in flight.
func (d *Driver) ResumableWriter(ctx context.Context, key string) (blob.ResumableWriter, error) {
	w, err := d.Writer(ctx, key)
	if err != nil {
		return nil, err
	}
	return &resumable{writer: w.(*writer)}, nil
}

// Resume checks that the upload is still there, reads the tail back into
// the part buffer, and removes tails of earlier checkpoints.
func (d *Driver) Resume(ctx context.Context, key string, state []byte) (blob.ResumableWriter, error) {
	object, err := d.object(key)
	if err != nil {
		return nil, err
	}
	st, err := parseState(state)
	if err != nil || st.Object != object {
		return nil, fmt.Errorf("s3: resume %q: %w", key, blob.ErrResumeState)
	}
	if _, err := d.core.ListObjectParts(ctx, d.bucket, object, st.UploadID, 0, 1); err != nil {
		if errorCode(err) == "NoSuchUpload" {
			err = blob.ErrResumeState
		}
		return nil, d.wrap("resume", key, err)
	}
	tail, err := d.readTail(ctx, st)
	if err != nil {
		return nil, d.wrap("resume", key, err)
	}
	d.removeTails(ctx, st.UploadID, d.tailObject(st.UploadID, st.Size))
	w, err := d.Writer(ctx, key)
	if err != nil {
		return nil, err
	}
	sw := w.(*writer)
	sw.uploadID, sw.size, sw.sent = st.UploadID, st.Size, len(st.Parts)
	sw.uploaded = st.Parts
	sw.buf = append(d.getBuf(max(sw.partCap(), int64(len(tail)))), tail...)
	return &resumable{writer: sw, tails: true}, nil
}

func parseState(state []byte) (resumeState, error) {
	var st resumeState
	if err := json.Unmarshal(state, &st); err != nil {
		return st, err
	}
	for i, p := range st.Parts {
		if p.PartNumber < 1 || p.ETag == "" || i >= maxParts {
			return st, errors.New("bad part")
		}
	}
	if st.UploadID == "" || st.Tail < 0 || st.Size < st.Tail {
		return st, errors.New("bad sizes")
	}
	return st, nil
}

// readTail fetches the checkpoint's tail object, which must hold exactly
// the bytes the state says.
func (d *Driver) readTail(ctx context.Context, st resumeState) ([]byte, error) {
	obj, err := d.core.Client.GetObject(ctx, d.bucket, d.tailObject(st.UploadID, st.Size), minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer func() { _ = obj.Close() }() // only read
	tail, err := io.ReadAll(io.LimitReader(obj, st.Tail+1))
	if errorCode(err) == "NoSuchKey" || (err == nil && int64(len(tail)) != st.Tail) {
		return nil, fmt.Errorf("tail of upload %s: %w", st.UploadID, blob.ErrResumeState)
	}
	return tail, err
}

// removeTails deletes the upload's tail objects but keep (best effort: a
// tail left behind is a few MiB that Discard or the next Resume removes).
func (d *Driver) removeTails(ctx context.Context, uploadID, keep string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	for obj := range d.core.Client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: d.resumeDir(uploadID), Recursive: true}) {
		if obj.Err != nil {
			return
		}
		if obj.Key != keep {
			_ = d.core.RemoveObject(ctx, d.bucket, obj.Key, minio.RemoveObjectOptions{})
		}
	}
}

// Discard aborts the multipart upload and removes its tails.
func (d *Driver) Discard(ctx context.Context, state []byte) error {
	st, err := parseState(state)
	if err != nil {
		return fmt.Errorf("s3: discard: %w", blob.ErrResumeState)
	}
	if err := d.abortUpload(ctx, st.Object, st.UploadID, false); err != nil {
		return fmt.Errorf("s3: discard upload %s: %w", st.UploadID, err)
	}
	d.removeTails(ctx, st.UploadID, "")
	return nil
}

// keepPartial tells Sweep to leave an upload alone: it has a checkpoint
// (a tail object) and is younger than blob.KeepPartials.
func (d *Driver) keepPartial(ctx context.Context, up minio.ObjectMultipartInfo) bool {
	if time.Since(up.Initiated) > blob.KeepPartials {
		return false
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for obj := range d.core.Client.ListObjects(ctx, d.bucket, minio.ListObjectsOptions{Prefix: d.resumeDir(up.UploadID), Recursive: true, MaxKeys: 1}) {
		return obj.Err == nil
	}
	return false
}

// resumable is a writer whose multipart upload can be kept.
type resumable struct {
	*writer
	// tails: the upload may have tail objects (it was resumed), which
	// Commit and Cancel remove. A writer never checkpointed has none, so
	// they need not list them.
	tails bool
}

// Commit completes the upload; a blob that never filled a part is sent
// as one PUT, and a resumed upload that had no part yet is aborted.
// Tails go either way.
func (r *resumable) Commit(ctx context.Context) error {
	w := r.writer
	uploadID := w.uploadID
	if !w.done && w.sent == 0 && uploadID != "" {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
		_ = w.d.abortUpload(ctx, w.object, uploadID, false) // an upload left behind is Sweep's
		cancel()
		w.uploadID = ""
	}
	err := w.Commit(ctx)
	if r.tails {
		w.d.removeTails(ctx, uploadID, "")
	}
	return err
}

// Cancel aborts the upload, if one was started, and removes its tails.
func (r *resumable) Cancel(ctx context.Context) error {
	w := r.writer
	if w.done {
		return nil
	}
	uploadID := w.uploadID
	err := w.Cancel(ctx)
	if r.tails {
		w.d.removeTails(ctx, uploadID, "")
	}
	return err
}

// Checkpoint waits for the parts in flight and stores the part being
// filled as the tail object.
func (r *resumable) Checkpoint(ctx context.Context) ([]byte, error) {
	w := r.writer
	if w.done {
		return nil, errClosed
	}
	state, err := r.checkpoint(ctx)
	if err != nil {
		w.done = false
		_ = r.Cancel(ctx)
		return nil, w.d.wrap("checkpoint", w.key, err)
	}
	return state, nil
}

func (r *resumable) checkpoint(ctx context.Context) ([]byte, error) {
	w := r.writer
	w.done = true
	stop := context.AfterFunc(ctx, func() { w.cancel(context.Cause(ctx)) })
	err := w.parts.Wait()
	stop()
	if err == nil {
		err = w.err
	}
	if err != nil {
		return nil, err
	}
	w.cancel(errClosed)
	// A fresh group, so Cancel's abort can wait on it.
	w.parts = new(errgroup.Group)
	if w.uploadID == "" {
		// No part was full yet: the upload starts now, to name the tail
		// and to keep it from Sweep.
		id, err := w.d.core.NewMultipartUpload(ctx, w.d.bucket, w.object, putOptions())
		if err != nil {
			return nil, err
		}
		w.uploadID = id
	}
	r.tails = true // a failed tail write may still have stored it
	st := resumeState{Object: w.object, UploadID: w.uploadID, Parts: w.uploaded, Size: w.size, Tail: int64(len(w.buf))}
	if _, err := w.d.core.PutObject(ctx, w.d.bucket, w.d.tailObject(w.uploadID, w.size), bytes.NewReader(w.buf),
		int64(len(w.buf)), "", "", putOptions()); err != nil {
		return nil, err
	}
	if w.buf != nil {
		w.d.putBuf(w.buf)
		w.buf = nil
	}
	return json.Marshal(st)
}
