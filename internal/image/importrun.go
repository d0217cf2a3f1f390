package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"

	"github.com/glint-image/glint/internal/task"
)

// Execute runs one import task to its end (it is the task.Executor of the
// import tasks). The steps are Glance's flow: get the data into staging
// (web-download, glance-download) or find it there (glance-direct), run
// the import plugins, write the data into each target store and activate
// the image, then drop the lock. Every step is safe to repeat, so a task
// interrupted by a crash or a shutdown is simply run again by the next
// runner; a failure undoes the import: the image returns to queued (or,
// for copy-image, loses the copies this task made) and the lock goes.
func (s *importer) Execute(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error) {
	if t.Type == task.TypeImport {
		return s.executeLegacy(ctx, t, rep)
	}
	j, err := s.newJob(t, rep)
	if err != nil {
		return nil, err
	}
	defer j.cleanupLocal()
	img, err := j.image(ctx)
	if err != nil {
		return nil, err
	}
	if img.Properties[ImportLock] != t.ID {
		if t.Attempts > 1 && j.alreadyDone(img) {
			// The last run finished the import and died before it could
			// say so.
			return j.result(), nil
		}
		return nil, errors.New("Task was aborted externally")
	}
	if t.Attempts > s.opts.Import.MaxAttempts {
		return nil, j.fail(ctx, fmt.Errorf("the import was interrupted %d times; glint gave up on it", t.Attempts-1))
	}
	src, err := j.acquire(ctx, img)
	if err != nil {
		return nil, j.fail(ctx, err)
	}
	if src, err = j.prepare(ctx, img, src); err != nil {
		return nil, j.fail(ctx, err)
	}
	if err := j.toStores(ctx, img, src); err != nil {
		return nil, j.fail(ctx, err)
	}
	if err := j.complete(ctx); err != nil {
		return nil, j.fail(ctx, err)
	}
	return j.result(), nil
}

// importJob is one run of an import task.
type importJob struct {
	s      *importer
	t      *task.Task
	rep    *task.Reporter
	log    *slog.Logger
	id     string
	method string
	// From the request.
	uri, checksum             string
	glanceImage, glanceRegion string
	glanceInterface           string
	stores                    []string
	mustSucceed               bool
	caller                    importContext
	// written are the locations this run committed data to; recorded
	// the ones it added to the image record.
	written, recorded []string
	failed            []string
	// sig checks the data of a signed image (nil: not signed).
	sig     SignatureCheck
	workDir string
}

func (s *importer) newJob(t *task.Task, rep *task.Reporter) (*importJob, error) {
	j := &importJob{s: s, t: t, rep: rep, id: t.ImageID, mustSucceed: true,
		log: s.log.With("task_id", t.ID, "image_id", t.ImageID)}
	if err := json.Unmarshal(t.Context, &j.caller); err != nil {
		return nil, fmt.Errorf("the import task is malformed: %v", err)
	}
	req, _ := t.Input["import_req"].(map[string]any)
	method, _ := req["method"].(map[string]any)
	str := func(m map[string]any, k string) string { v, _ := m[k].(string); return v }
	j.method, j.uri, j.checksum = str(method, "name"), str(method, "uri"), str(method, "checksum")
	j.glanceImage, j.glanceRegion, j.glanceInterface = str(method, "glance_image_id"), str(method, "glance_region"), str(method, "glance_service_interface")
	if v, ok := req["all_stores_must_succeed"].(bool); ok {
		j.mustSucceed = v
	}
	j.stores = taskStores(t)
	if !s.multiStore() {
		j.stores = []string{s.stores.Default}
	}
	if j.method == "" || len(j.stores) == 0 {
		return nil, errors.New("the import task is malformed: no method or no stores")
	}
	return j, nil
}

var errDeleted = errors.New("Image has been deleted, aborting import.")

// image reads the image; a deleted one ends the task.
func (j *importJob) image(ctx context.Context) (*Image, error) {
	img, err := j.s.store.GetImage(ctx, j.id)
	if errors.Is(err, ErrNotFound) || (err == nil && img.IsDeleted()) {
		j.s.removeStaged(context.WithoutCancel(ctx), j.id)
		return nil, errDeleted
	}
	return img, err
}

// alreadyDone tells whether the image already shows this import's end.
func (j *importJob) alreadyDone(img *Image) bool {
	if j.method != MethodCopyImage {
		return img.Status == StatusActive
	}
	for _, st := range j.stores {
		if img.locationIn(st) == "" {
			return false
		}
	}
	return true
}

func (j *importJob) result() map[string]any { return map[string]any{"image_id": j.id} }

// update writes one step to the image under this task's lock.
func (j *importJob) update(ctx context.Context, u ImportUpdate) error {
	return importUpdateError(j.s.store.UpdateImport(ctx, j.id, j.t.ID, u, j.s.now()))
}

// importUpdateError words the failure of an import step's write.
func importUpdateError(err error) error {
	switch {
	case errors.Is(err, ErrNotFound):
		return errDeleted
	case errors.Is(err, ErrConflict):
		return errLockLost
	}
	return err
}

var errLockLost = errors.New("Task was aborted externally")

// complete drops the lock and the progress properties.
func (j *importJob) complete(ctx context.Context) error {
	if err := j.update(ctx, ImportUpdate{DelProps: []string{ImportLock, propBytesDone, propBytesTotal}}); err != nil {
		return err
	}
	j.s.removeStaged(ctx, j.id)
	j.forgetToken()
	j.log.InfoContext(ctx, "image imported", "method", j.method, "stores", j.stores, "failed", j.failed)
	return nil
}

// fail undoes the import and returns the failure to record on the task.
// When ctx has ended (shutdown, lost lease) nothing is undone: the task
// is left for the next runner, which resumes it.
func (j *importJob) fail(ctx context.Context, cause error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	j.forgetToken()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if errors.Is(cause, errDeleted) {
		j.discard(ctx, j.written)
		j.s.removeStaged(ctx, j.id)
		return cause
	}
	img, err := j.s.store.GetImage(ctx, j.id)
	if errors.Is(err, ErrNotFound) || (err == nil && img.IsDeleted()) {
		// Deleted while the import ran: whatever step failed failed
		// because of that, so the deletion is the outcome to report.
		j.discard(ctx, j.written)
		j.s.removeStaged(ctx, j.id)
		return errDeleted
	}
	if err != nil {
		j.discard(ctx, j.written)
		j.s.removeStaged(ctx, j.id)
		return cause
	}
	if img.Properties[ImportLock] != j.t.ID {
		// Another import (or recovery) has the image now: what it holds
		// is its own, the locations this run recorded included (recovery
		// released them if it dropped them); only copies never recorded
		// go.
		j.discard(ctx, slices.DeleteFunc(slices.Clone(j.written), func(l string) bool { return slices.Contains(j.recorded, l) }))
		return errLockLost
	}
	// None of the task's stores gets the data: they leave the importing
	// list for the failed one (Glance's reverts end the same way).
	var named []string
	if j.s.multiStore() {
		named = j.stores
	}
	importing := storeList(img.Properties[propImportingStores])
	importing = slices.DeleteFunc(importing, func(st string) bool { return slices.Contains(named, st) })
	failed := append(storeList(img.Properties[propFailedStores]), named...)
	u := ImportUpdate{DelProps: []string{ImportLock, propBytesDone, propBytesTotal},
		SetProps: map[string]string{propImportingStores: joinStores(importing), propFailedStores: joinStores(failed)}}
	drop := j.written
	if j.method == MethodCopyImage {
		u.RemoveLocations = j.recorded
		// Shared data the copies took references to is released too.
		drop = append(slices.Clone(drop), j.recorded...)
	} else {
		// Back to queued: the image holds no data, whatever this or an
		// earlier run stored.
		u.IfStatus, u.Status = []Status{StatusImporting}, StatusQueued
		drop = append(slices.Clone(drop), img.Locations()...)
	}
	if err := j.s.store.UpdateImport(ctx, j.id, j.t.ID, u, j.s.now()); errors.Is(err, ErrNotFound) {
		// Deleted between the read above and this write.
		j.discard(ctx, drop)
		j.s.removeStaged(ctx, j.id)
		return errDeleted
	} else if err != nil {
		j.log.ErrorContext(ctx, "undoing a failed import", "err", err)
		if !errors.Is(err, ErrConflict) {
			// The record could not be changed: keep the data it may point
			// at; the task stays unfinished and is retried.
			return fmt.Errorf("undoing the failed import: %w", err)
		}
	}
	j.discard(ctx, drop)
	j.s.removeStaged(ctx, j.id)
	j.log.WarnContext(ctx, "image import failed", "method", j.method, "reason", cause.Error())
	return cause
}

// discard drops the image's hold on data this import wrote or recorded:
// its own copies go, and so does shared data it was the last user of;
// shared data other images still refer to stays.
func (j *importJob) discard(ctx context.Context, locs []string) {
	seen := map[string]bool{}
	for _, loc := range locs {
		if !seen[loc] {
			seen[loc] = true
			j.s.releaseData(ctx, j.id, loc)
		}
	}
}

// workPath returns the task's private local directory, made on first use.
func (j *importJob) workPath() (string, error) {
	if j.workDir != "" {
		return j.workDir, nil
	}
	if j.s.opts.Import.WorkDir == "" {
		return "", errors.New("no import work directory is configured")
	}
	dir := filepath.Join(j.s.opts.Import.WorkDir, j.t.ID)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	j.workDir = dir
	return dir, nil
}

func (j *importJob) cleanupLocal() {
	if j.workDir != "" {
		if err := os.RemoveAll(j.workDir); err != nil {
			j.log.Error("removing the import work directory", "dir", j.workDir, "err", err)
		}
	}
}

func (j *importJob) forgetToken() { j.s.importTokens.Delete(j.t.ID) }
