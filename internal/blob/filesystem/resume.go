package filesystem

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// A resumable writer starts in a temp file like any writer, so a process
// that crashes before its first checkpoint leaves what Sweep removes at
// the next start. Its checkpoint moves the file to partialDir (beside
// tmp, so Commit is still a rename within one filesystem), which Sweep
// leaves alone while it is younger than blob.KeepPartials: a checkpointed
// upload outlives the process that took it.

var _ blob.Resumer = (*Driver)(nil)

// partialDir is root/tmp-partial (root/.glint-tmp-partial for a flat
// store: a dot name no key can take).
func (d *Driver) partialDir() string { return d.tmp + "-partial" }

// resumeState is what a checkpoint hands back: the partial file's name
// in partialDir and how many of its bytes count.
type resumeState struct {
	File string `json:"file"`
	Size int64  `json:"size"`
}

// ResumableWriter starts a blob in a file of partialDir.
func (d *Driver) ResumableWriter(ctx context.Context, key string) (blob.ResumableWriter, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.tmp, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("filesystem: writer %q: %w", key, err)
	}
	return &resumable{writer: newWriter(d, key, path, f)}, nil
}

// Resume reopens the partial file and cuts it to the checkpoint's size:
// bytes a crashed process wrote after its last checkpoint are not part of
// the upload.
func (d *Driver) Resume(ctx context.Context, key string, state []byte) (blob.ResumableWriter, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	st, name, err := d.parseState(state)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("filesystem: resume %q: %s is gone: %w", key, st.File, blob.ErrResumeState)
	}
	if err != nil {
		return nil, fmt.Errorf("filesystem: resume %q: %w", key, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < st.Size {
		err = fmt.Errorf("%s holds %d bytes, the checkpoint %d: %w", st.File, fi.Size(), st.Size, blob.ErrResumeState)
	}
	if err == nil {
		err = f.Truncate(st.Size)
	}
	if err == nil {
		_, err = f.Seek(st.Size, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("filesystem: resume %q: %w", key, err)
	}
	w := newWriter(d, key, path, f)
	w.size, w.queued, w.waited = st.Size, st.Size, st.Size
	return &resumable{writer: w}, nil
}

// Discard removes a checkpointed writer's file.
func (d *Driver) Discard(ctx context.Context, state []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	_, name, err := d.parseState(state)
	if err != nil {
		return err
	}
	if err := os.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("filesystem: discard: %w", err)
	}
	return nil
}

func (d *Driver) parseState(state []byte) (resumeState, string, error) {
	var st resumeState
	if err := json.Unmarshal(state, &st); err != nil || st.Size < 0 ||
		!strings.HasPrefix(st.File, "partial-") || filepath.Base(st.File) != st.File {
		return st, "", fmt.Errorf("filesystem: %w", blob.ErrResumeState)
	}
	return st, filepath.Join(d.partialDir(), st.File), nil
}

// sweepPartials removes partial files untouched for blob.KeepPartials:
// their records were lost (a crash between a checkpoint and its record),
// or the image service that tracked them is long gone.
func (d *Driver) sweepPartials(ctx context.Context) error {
	entries, err := os.ReadDir(d.partialDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		fi, err := e.Info()
		if err != nil || time.Since(fi.ModTime()) < blob.KeepPartials {
			continue
		}
		if err := os.Remove(filepath.Join(d.partialDir(), e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// resumable is a writer whose file can be kept instead of committed.
type resumable struct {
	*writer
}

// Checkpoint flushes and syncs the file and closes it, keeping it. The
// file is cut (or extended) to exactly Size bytes, so the state and the
// file agree whatever the writer did with the bytes it buffered.
func (r *resumable) Checkpoint(ctx context.Context) ([]byte, error) {
	w := r.writer
	if w.done {
		return nil, errClosed
	}
	w.done = true
	err := ctx.Err()
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.f.Truncate(w.size)
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	name := w.f.Name()
	if err == nil && filepath.Dir(name) != w.d.partialDir() {
		name, err = w.d.keep(name)
	}
	if err != nil {
		os.Remove(w.f.Name())
		return nil, fmt.Errorf("filesystem: checkpoint %q: %w", w.key, err)
	}
	return json.Marshal(resumeState{File: filepath.Base(name), Size: w.size})
}

// keep moves a checkpointed temp file into partialDir and returns its new
// name there.
func (d *Driver) keep(tmp string) (string, error) {
	if err := os.MkdirAll(d.partialDir(), 0o700); err != nil {
		return "", err
	}
	name := filepath.Join(d.partialDir(), "partial-"+strings.TrimPrefix(filepath.Base(tmp), "upload-"))
	if err := os.Rename(tmp, name); err != nil {
		return "", err
	}
	return name, nil
}
