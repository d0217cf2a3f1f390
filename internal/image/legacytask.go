package image

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/task"
)

// Legacy tasks (POST /v2/tasks, type import) are Glance's deprecated way
// to import: the task creates an image from input.image_properties and
// fills it from input.import_from. Glint runs them on the same leased
// runner as the import API and through the same steps as web-download:
// the SSRF-safe fetcher, the import plugins, the format inspector, the
// stores. A failure deletes the image the task made, as Glance's revert
// does.

// TaskRequest is a decoded POST /v2/tasks.
type TaskRequest struct {
	Type      string
	Input     map[string]any
	RequestID string
}

// legacyContext is what a legacy task keeps of its caller and the id of
// the image it makes, chosen when the task is created so that a resumed
// run finds the image an interrupted one made.
type legacyContext struct {
	importContext
	ImageID string `json:"image_id"`
}

// CreateTask records a task for the runner (201 when it returns). Only
// type import runs; api_image_import tasks come from the import API, so
// one created here fails at once, as Glance's does without its input.
func (s *importer) CreateTask(ctx context.Context, p caller.Principal, req TaskRequest) (*task.Task, error) {
	if err := s.taskAccess(ctx, p, "add_task"); err != nil {
		return nil, err
	}
	if !s.imports() {
		return nil, newError(ErrInvalid, "Tasks are not available: the import API is not configured")
	}
	now := s.now()
	t := &task.Task{ID: uuid.NewString(), Type: req.Type, Status: task.StatusPending, Owner: p.ProjectID,
		UserID: p.UserID, RequestID: req.RequestID, Input: req.Input, CreatedAt: now, UpdatedAt: now}
	switch req.Type {
	case task.TypeImport:
		if err := s.checkLegacySource(req.Input); err != nil {
			return nil, err
		}
		lc := legacyContext{importContext{UserID: p.UserID, ProjectID: p.ProjectID, Roles: p.Roles}, uuid.NewString()}
		raw, err := json.Marshal(lc)
		if err != nil {
			return nil, err
		}
		t.Context, t.ImageID = raw, lc.ImageID
	case task.TypeImageImport:
		// Recorded already failed: nothing may run it.
		msg := "Input to api_image_import task is empty."
		if len(req.Input) > 0 {
			msg = "api_image_import tasks are created by POST /v2/images/{image_id}/import."
		}
		exp := now.Add(task.TimeToLive)
		t.Status, t.Message, t.ExpiresAt = task.StatusFailure, msg, &exp
	default:
		return nil, newError(ErrInvalid, "Invalid type value: %s", req.Type)
	}
	if err := s.opts.Import.Tasks.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	if wake := s.opts.Import.Wake; wake != nil && t.Status == task.StatusPending {
		wake()
	}
	return t, nil
}

// checkLegacySource applies Glance's request-time checks on
// input.import_from (scripts/utils.py validate_location_uri and the
// OSSN-0105 filter), with glint's fetcher rules as the filter.
func (s *importer) checkLegacySource(input map[string]any) error {
	from, _ := input["import_from"].(string)
	if from == "" {
		return newError(ErrInvalid, "Invalid location: None")
	}
	u, err := url.Parse(from)
	scheme := ""
	if err == nil {
		scheme = strings.ToLower(u.Scheme)
	}
	switch scheme {
	case "file", "filesystem":
		return newError(ErrInvalid, "File based imports are not allowed. Please use a non-local source of image data.")
	case "http", "https":
	default:
		return newError(ErrInvalid, "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http', 'https']")
	}
	if err := s.opts.Import.Fetcher.Check(from); err != nil {
		return newError(ErrInvalid, "URI for legacy import task does not pass filtering: %s", from)
	}
	return nil
}

// executeLegacy runs a legacy import task: make the image (once), take
// its import lock, then the web-download steps of Execute.
func (s *importer) executeLegacy(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error) {
	var lc legacyContext
	if err := json.Unmarshal(t.Context, &lc); err != nil || lc.ImageID == "" {
		return nil, errors.New("the import task is malformed")
	}
	from, props, err := legacyInput(t.Input)
	if err != nil {
		return nil, err
	}
	if t.Attempts > s.opts.Import.MaxAttempts {
		return nil, s.dropLegacyImage(ctx, t, lc.ImageID, fmt.Errorf("the import was interrupted %d times; glint gave up on it", t.Attempts-1))
	}
	img, err := s.legacyImage(ctx, t, lc, props)
	if err != nil {
		return nil, err
	}
	j := &importJob{s: s, t: t, rep: rep, id: img.ID, method: MethodWebDownload, uri: from, mustSucceed: true,
		caller: lc.importContext, stores: []string{s.stores.Default},
		log: s.log.With("task_id", t.ID, "image_id", img.ID)}
	if img.Status == StatusActive {
		// An earlier run finished and died before it could say so.
		return j.result(), nil
	}
	defer j.cleanupLocal()
	if img, err = j.image(ctx); err != nil {
		return nil, err
	}
	src, err := j.acquire(ctx, img)
	if err == nil {
		src, err = j.prepare(ctx, img, src)
	}
	if err == nil {
		err = j.toStores(ctx, img, src)
	}
	if err == nil {
		err = j.complete(ctx)
	}
	if err != nil {
		return nil, s.dropLegacyImage(ctx, t, img.ID, j.fail(ctx, err))
	}
	return j.result(), nil
}

// legacyInput reads the three keys Glance's unpack_task_input requires.
func legacyInput(in map[string]any) (from string, props map[string]any, err error) {
	for _, k := range []string{"import_from", "import_from_format", "image_properties"} {
		if _, ok := in[k]; !ok {
			return "", nil, fmt.Errorf("Input does not contain '%s' field", k)
		}
	}
	from, _ = in["import_from"].(string)
	format, _ := in["import_from_format"].(string)
	props, ok := in["image_properties"].(map[string]any)
	if !ok {
		return "", nil, errors.New("Input field 'image_properties' must be an object")
	}
	props = cloneAttrs(props)
	// Glance's set_base_image_properties: formats default to what the
	// source is said to be (qcow2 when unsaid) in a bare container.
	if _, ok := props["disk_format"]; !ok {
		if format == "" {
			format = "qcow2"
		}
		props["disk_format"] = format
	}
	if _, ok := props["container_format"]; !ok {
		props["container_format"] = "bare"
	}
	return from, props, nil
}

func cloneAttrs(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// legacyImage returns the task's image, creating it on the first run and
// taking its import lock for the task. A failure here fails the task.
func (s *importer) legacyImage(ctx context.Context, t *task.Task, lc legacyContext, props map[string]any) (*Image, error) {
	img, err := s.store.GetImage(ctx, lc.ImageID)
	if errors.Is(err, ErrNotFound) {
		attrs := cloneAttrs(props)
		attrs["id"] = lc.ImageID
		p := caller.Principal{UserID: lc.UserID, ProjectID: lc.ProjectID, Roles: lc.Roles}
		if img, err = s.Create(ctx, p, attrs); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, err
	}
	if img.IsDeleted() {
		return nil, errDeleted
	}
	if img.Status == StatusActive || img.Properties[ImportLock] == t.ID {
		return img, nil
	}
	if err := s.store.LockImport(ctx, img.ID, t.ID, s.now()); err != nil {
		return nil, err
	}
	u := ImportUpdate{IfStatus: []Status{StatusQueued}, Status: StatusImporting}
	if err := s.store.UpdateImport(ctx, img.ID, t.ID, u, s.now()); err != nil {
		s.dropLock(ctx, img.ID, t.ID)
		return nil, fmt.Errorf("Image %s changed while the import was starting", img.ID)
	}
	if err := s.importQuota(ctx, img, MethodWebDownload); err != nil {
		return nil, s.dropLegacyImage(ctx, t, img.ID, err)
	}
	return s.store.GetImage(ctx, img.ID)
}

// dropLegacyImage deletes the image of a failed legacy import (Glance's
// revert deletes it too) and returns cause. An interrupted run (ctx
// ended) keeps it for the next.
func (s *importer) dropLegacyImage(ctx context.Context, t *task.Task, id string, cause error) error {
	if ctx.Err() != nil {
		return cause
	}
	ctx = context.WithoutCancel(ctx)
	prior, err := s.store.DeleteImage(ctx, id, s.now())
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		s.log.ErrorContext(ctx, "deleting the image of a failed legacy import", "task_id", t.ID, "image_id", id, "err", err)
	default:
		s.removeData(ctx, prior)
		s.removeStaged(ctx, id)
	}
	return cause
}
