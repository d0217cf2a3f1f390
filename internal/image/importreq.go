package image

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/task"
)

// ImportRequest is a decoded POST /v2/images/{id}/import.
type ImportRequest struct {
	// Body is the request body as sent; the task records it as
	// input.import_req, as Glance does.
	Body   map[string]any
	Method string
	// web-download: the URI, and optionally the checksum the download
	// must match ("sha256:<hex>", also md5, sha1, sha512; a glint
	// extension, ignored by Glance).
	URI, Checksum string
	// glance-download.
	GlanceImageID, GlanceRegion, GlanceServiceInterface string
	// Stores is the body's "stores" (nil when absent); HeaderStore is
	// X-Image-Meta-Store ("" when absent).
	Stores               []string
	HeaderStore          string
	AllStores            bool
	AllStoresMustSucceed bool
	// Token is the caller's token, which glance-download passes to the
	// other region. It is kept in memory only, never in the task.
	Token     string
	RequestID string
}

// importContext is what a task needs to know of the caller; it is kept
// in the task (never shown).
type importContext struct {
	UserID    string   `json:"user_id"`
	ProjectID string   `json:"project_id"`
	Roles     []string `json:"roles"`
}

// Import starts an import (202 when it returns nil): it checks the
// request as Glance does, takes the image's import lock, records the task,
// moves the image to importing and leaves the work to a task runner.
func (s *importer) Import(ctx context.Context, p caller.Principal, id string, req ImportRequest) error {
	if !s.methodEnabled(req.Method) {
		return newError(ErrInvalid, "Unknown import method name '%s'.", req.Method)
	}
	owner := p.ProjectID
	if err := s.enforce(ctx, owner, map[string]int64{QuotaImageSizeTotal: 0}); err != nil {
		return err
	}
	img, err := s.visible(ctx, p, id, false)
	if err != nil {
		return err
	}
	if err := checkImportable(img, &req); err != nil {
		return err
	}
	rule := "modify_image"
	if req.Method == MethodCopyImage {
		rule = "copy_image"
	}
	if err := s.authorize(ctx, p, rule, img); err != nil {
		return err
	}
	stolen, err := s.checkImportLock(ctx, img)
	if err != nil {
		return err
	}
	stores, err := s.importStores(img, &req)
	if err != nil || len(stores) == 0 {
		// copy-image with all_stores to an image every store has already:
		// nothing to do, and Glance answers 202.
		return err
	}
	if !req.AllStoresMustSucceed && !s.multiStore() {
		return newError(ErrInvalid, "All_stores_must_succeed can only be set with enabled_backends %s", pyStr(req.URI))
	}
	if req.Method == MethodWebDownload {
		if err := s.opts.Import.Fetcher.Check(req.URI); err != nil {
			return newError(ErrInvalid, "URI for web-download does not pass filtering: %s", req.URI)
		}
	}
	// glance-download's region, interface and remote image are checked
	// by the task, as in Glance: the request is accepted (202) and a bad
	// one fails the task with the reason, the image back in queued.
	t, err := s.newImportTask(p, img, req, stores)
	if err != nil {
		return err
	}
	if err := s.store.LockImport(ctx, id, t.ID, s.now()); err != nil {
		if errors.Is(err, ErrNotFound) {
			return notFoundImage(id)
		}
		return err
	}
	if req.Method == MethodGlanceDownload {
		s.importTokens.Store(t.ID, req.Token)
	}
	if err := s.beginImport(ctx, img, t, req, stores, stolen); err != nil {
		s.importTokens.Delete(t.ID)
		return err
	}
	if wake := s.opts.Import.Wake; wake != nil {
		wake()
	}
	return nil
}

// checkImportable applies Glance's preconditions on the image's status
// and formats, and the glance-download parameters.
func checkImportable(img *Image, req *ImportRequest) error {
	m := req.Method
	switch {
	case img.Status == StatusActive && m != MethodCopyImage:
		return newError(ErrConflict, "Image with status active cannot be target for import")
	case img.Status != StatusActive && m == MethodCopyImage:
		return newError(ErrConflict, "Only images with status active can be targeted for copying")
	case img.Status != StatusQueued && (m == MethodWebDownload || m == MethodGlanceDownload):
		return newError(ErrConflict, "Image needs to be in 'queued' state to use '%s' method", m)
	case img.Status != StatusUploading && m == MethodGlanceDirect:
		return newError(ErrConflict, "Image needs to be staged before 'glance-direct' method can be used")
	case img.ContainerFormat == nil:
		return newError(ErrConflict, "'container_format' needs to be set before import")
	case img.DiskFormat == nil:
		return newError(ErrConflict, "'disk_format' needs to be set before import")
	}
	if m != MethodGlanceDownload {
		return nil
	}
	switch {
	case req.GlanceRegion == "":
		return newError(ErrInvalid, "'glance_region' needs to be set for glance-download import method")
	case req.GlanceImageID == "":
		return newError(ErrInvalid, "'glance_image_id' needs to be set for glance-download import method")
	}
	if _, err := uuid.Parse(req.GlanceImageID); err != nil {
		return newError(ErrInvalid, "Remote image id does not look like a UUID: %s", req.GlanceImageID)
	}
	if req.GlanceServiceInterface == "" {
		req.GlanceServiceInterface = "public"
		if method, ok := req.Body["method"].(map[string]any); ok {
			method["glance_service_interface"] = "public"
		}
	}
	return nil
}

// checkImportLock decides about an image that holds an import lock.
// Glance waits an hour (two for a pending task) before it lets a new
// import steal a lock; glint knows better: its runners resume or fail
// every task, so a lock is stale exactly when its task is gone or
// finished, and busting it never waits. It returns the task whose lock was
// stolen (nil when there was none, or it was missing).
func (s *importer) checkImportLock(ctx context.Context, img *Image) (*task.Task, error) {
	holder, locked := img.Properties[ImportLock]
	if !locked {
		return nil, nil
	}
	t, err := s.opts.Import.Tasks.GetTask(ctx, holder)
	switch {
	case errors.Is(err, task.ErrNotFound):
		t = nil
	case err != nil:
		return nil, err
	case !t.Status.Finished():
		return nil, newError(ErrConflict, "Image has active task")
	}
	err = s.store.UpdateImport(ctx, img.ID, holder, ImportUpdate{DelProps: []string{ImportLock}}, s.now())
	if errors.Is(err, ErrConflict) {
		return nil, newError(ErrConflict, "Image has active task")
	}
	if err != nil {
		return nil, err
	}
	delete(img.Properties, ImportLock)
	s.log.WarnContext(ctx, "removed a stale import lock", "image_id", img.ID, "task_id", holder)
	return t, nil
}

// importStores resolves the target stores, as Glance's
// get_stores_from_request. Without multi-store it is the one store.
func (s *importer) importStores(img *Image, req *ImportRequest) ([]string, error) {
	if !s.multiStore() {
		// Glance ignores stores and all_stores without enabled_backends;
		// its one store is None, which holds any active image.
		if req.Method == MethodCopyImage {
			return nil, newError(ErrInvalid, "Image is already present at store 'None'")
		}
		return []string{s.stores.Default}, nil
	}
	var stores []string
	switch {
	case req.AllStores:
		if req.Stores != nil || req.HeaderStore != "" {
			return nil, newError(ErrInvalid, "All_stores parameter can't be used with x-image-meta-store header or stores parameter")
		}
		stores = s.stores.Writable()
	case req.Stores != nil:
		if req.HeaderStore != "" {
			return nil, newError(ErrInvalid, "Stores parameter and x-image-meta-store header can't be both specified")
		}
		stores = slices.Clone(req.Stores)
	case req.HeaderStore != "":
		stores = []string{req.HeaderStore}
	default:
		stores = []string{s.stores.Default}
	}
	for _, st := range stores {
		if _, ok := s.stores.Drivers[st]; !ok {
			// glance_store's UnknownScheme, which Glance returns as 409.
			return nil, newError(ErrConflict, "Unknown scheme '%s' found in URI", st)
		}
		if blob.IsReadOnly(s.stores.Drivers[st]) {
			return nil, newError(ErrGone, "Error in store configuration. Adding images to store is disabled.")
		}
	}
	stores = slices.Compact(stores)
	if req.Method != MethodCopyImage {
		return stores, nil
	}
	have := img.StoreIDs()
	if req.AllStores {
		return slices.DeleteFunc(stores, func(st string) bool { return slices.Contains(have, st) }), nil
	}
	for _, st := range stores {
		if slices.Contains(have, st) {
			return nil, newError(ErrInvalid, "Image is already present at store '%s'", st)
		}
	}
	return stores, nil
}

// multiStore reports whether stores are named in the API (Glance's
// enabled_backends).
func (s *importer) multiStore() bool { return s.stores.Named }

// newImportTask builds the pending task of an import. Its input is
// Glance's: the image id, the request body and the target stores (null
// for the one store of a single-store deployment).
func (s *importer) newImportTask(p caller.Principal, img *Image, req ImportRequest, stores []string) (*task.Task, error) {
	backend := make([]any, len(stores))
	for i, st := range stores {
		backend[i] = st
		if !s.multiStore() {
			backend[i] = nil
		}
	}
	body := req.Body
	if body == nil {
		body = map[string]any{}
	}
	ictx, err := json.Marshal(importContext{UserID: p.UserID, ProjectID: p.ProjectID, Roles: p.Roles})
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &task.Task{
		ID: uuid.NewString(), Type: task.TypeImageImport, Status: task.StatusPending,
		Owner: p.ProjectID, ImageID: img.ID, UserID: p.UserID, RequestID: req.RequestID,
		Input:     map[string]any{"image_id": img.ID, "import_req": body, "backend": backend},
		Context:   ictx,
		CreatedAt: now, UpdatedAt: now,
	}
	if req.Method == MethodGlanceDownload && s.opts.Import.Node != "" {
		// Only this node holds the caller's token.
		until := now.Add(s.opts.Import.Lease)
		t.Node, t.LeaseUntil = s.opts.Import.Node, &until
	}
	return t, nil
}

// Import progress properties, on the image while an import runs.
const (
	propImportingStores = "os_glance_importing_to_stores"
	propFailedStores    = "os_glance_failed_import"
	propStageHost       = "os_glance_stage_host"
	// Glint's: the bytes of the current import step done and in all ("" when
	// unknown), for clients that show progress.
	propBytesDone  = "os_glance_import_bytes_done"
	propBytesTotal = "os_glance_import_bytes_total"
)

// beginImport records the task, marks the image as being imported (with
// the lock already held) and checks the quotas the method uses; on a
// refusal it undoes all of it.
func (s *importer) beginImport(ctx context.Context, img *Image, t *task.Task, req ImportRequest, stores []string, stolen *task.Task) error {
	u := ImportUpdate{SetProps: map[string]string{}, DelProps: []string{propStageHost, propBytesDone, propBytesTotal}}
	importing := storeList(img.Properties[propImportingStores])
	failed := storeList(img.Properties[propFailedStores])
	if stolen != nil {
		// The stolen lock's task may have left its stores in the lists.
		old := taskStores(stolen)
		importing = slices.DeleteFunc(importing, func(st string) bool { return slices.Contains(old, st) })
		failed = slices.DeleteFunc(failed, func(st string) bool { return slices.Contains(old, st) })
	}
	named := stores
	if !s.multiStore() {
		named = nil // Glance's stores are [None]: the lists stay empty
	}
	u.SetProps[propImportingStores] = joinStores(append(importing, named...))
	u.SetProps[propFailedStores] = joinStores(slices.DeleteFunc(failed, func(st string) bool { return slices.Contains(named, st) }))
	if req.Method != MethodCopyImage {
		u.IfStatus, u.Status = []Status{img.Status}, StatusImporting
	}
	if err := s.opts.Import.Tasks.CreateTask(ctx, t); err != nil {
		s.dropLock(ctx, img.ID, t.ID)
		return err
	}
	if err := s.store.UpdateImport(ctx, img.ID, t.ID, u, s.now()); err != nil {
		s.failPending(ctx, t, "Image changed while the import was starting")
		s.dropLock(ctx, img.ID, t.ID)
		if errors.Is(err, ErrNotFound) {
			return notFoundImage(img.ID)
		}
		return err
	}
	if err := s.importQuota(ctx, img, req.Method); err != nil {
		undo := ImportUpdate{SetProps: map[string]string{propImportingStores: img.Properties[propImportingStores]},
			DelProps: []string{ImportLock}}
		if req.Method != MethodCopyImage {
			undo.Status = img.Status
		}
		if uerr := s.store.UpdateImport(ctx, img.ID, t.ID, undo, s.now()); uerr != nil {
			s.log.ErrorContext(ctx, "undoing an import refused by quota", "image_id", img.ID, "err", uerr)
		}
		s.failPending(ctx, t, err.Error())
		return err
	}
	return nil
}

// importQuota checks what Glance's import flow checks once the image is
// marked: a glance-direct import counts the staged size against
// image_size_total, the others use staging space and an upload slot.
func (s *importer) importQuota(ctx context.Context, img *Image, method string) error {
	owner := ""
	if img.Owner != nil {
		owner = *img.Owner
	}
	unlock, err := s.lockProject(ctx, owner)
	if err != nil {
		return err
	}
	defer unlock()
	var size int64
	if img.Size != nil {
		size = *img.Size / mib
	}
	if method == MethodGlanceDirect {
		return s.enforce(ctx, owner, map[string]int64{QuotaImageSizeTotal: size})
	}
	return s.enforce(ctx, owner, map[string]int64{QuotaImageStageTotal: size, QuotaImageCountUploading: 1})
}

// failPending fails a task that never ran.
func (s *importer) failPending(ctx context.Context, t *task.Task, msg string) {
	ctx = context.WithoutCancel(ctx)
	f := task.Final{Status: task.StatusFailure, Message: msg, ExpiresAt: s.now().Add(task.TimeToLive)}
	if err := s.opts.Import.Tasks.FinishTask(ctx, t.ID, "", f, s.now()); err != nil {
		s.log.ErrorContext(ctx, "failing an import task", "task_id", t.ID, "err", err)
	}
}

// dropLock releases taskID's import lock, if it still holds it.
func (s *importer) dropLock(ctx context.Context, id, taskID string) {
	err := s.store.UpdateImport(context.WithoutCancel(ctx), id, taskID, ImportUpdate{DelProps: []string{ImportLock}}, s.now())
	if err != nil && !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
		s.log.ErrorContext(ctx, "dropping an import lock", "image_id", id, "task_id", taskID, "err", err)
	}
}

// storeList splits a comma-separated store list property.
func storeList(v string) []string {
	var out []string
	for _, st := range strings.Split(v, ",") {
		if st != "" {
			out = append(out, st)
		}
	}
	return out
}

// joinStores writes a store list property as Glance does: sorted, unique.
func joinStores(stores []string) string {
	stores = slices.Clone(stores)
	slices.Sort(stores)
	return strings.Join(slices.Compact(stores), ",")
}

// taskStores are the target stores of an import task (its input.backend).
func taskStores(t *task.Task) []string {
	var out []string
	if list, ok := t.Input["backend"].([]any); ok {
		for _, v := range list {
			if st, ok := v.(string); ok {
				out = append(out, st)
			}
		}
	}
	return out
}

// pyStr renders a string as Python's %s does for an optional value.
func pyStr(s string) string {
	if s == "" {
		return "None"
	}
	return s
}
