package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore"
	"github.com/glint-image/glint/internal/task"
)

// Outbox is the part of the record store that keeps notifications:
// sqlstore's outbox table.
type Outbox interface {
	AppendOutbox(ctx context.Context, msgs ...sqlstore.OutboxMessage) error
}

// event is one notification a hook builds from the state a change left.
type event struct {
	eventType, priority string
	payload             any
}

// hook returns ctx under which the store's write adds the notifications
// that build returns, reading the state its change left, in its own
// transaction.
func (n *Notifier) hook(ctx context.Context, build func(ctx context.Context, tx *sqlstore.Tx) ([]event, error)) context.Context {
	return sqlstore.WithOutboxHook(ctx, func(ctx context.Context, tx *sqlstore.Tx) ([]sqlstore.OutboxMessage, error) {
		evs, err := build(ctx, tx)
		if err != nil {
			return nil, err
		}
		var out []sqlstore.OutboxMessage
		for _, e := range evs {
			m, ok, err := n.Message(e.eventType, e.priority, e.payload)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, m)
			}
		}
		if len(out) > 0 {
			// Poke after the commit would be exact; a relay woken a little
			// early finds nothing new and waits for its next tick.
			defer n.poke()
		}
		return out, nil
	})
}

// imageEvents builds events whose payloads are the image as the change
// left it, after the events first (whose payloads are already known).
func (n *Notifier) imageEvents(ctx context.Context, id string, first []event, types ...string) context.Context {
	if types = n.enabled(types); len(types) == 0 && len(first) == 0 {
		return ctx
	}
	return n.hook(ctx, func(ctx context.Context, tx *sqlstore.Tx) ([]event, error) {
		evs := append(make([]event, 0, len(first)+len(types)), first...)
		if len(types) == 0 {
			return evs, nil
		}
		img, err := tx.Image(ctx, id)
		if err != nil {
			return nil, err
		}
		for _, t := range types {
			var p any = imageOf(img)
			if t == "image.prepare" || t == "image.upload" {
				// Both carry the import's store lists.
				p = prepareOf(img)
			}
			evs = append(evs, event{t, Info, p})
		}
		return evs, nil
	})
}

// ImageStore is an image.Store whose changes write Glance's image and
// member notifications into the outbox, in their own transactions.
type ImageStore struct {
	image.Store
	n *Notifier
}

// WrapImages decorates st; st must be a sqlstore-based store (the hooks
// ride on its write transactions).
func (n *Notifier) WrapImages(st image.Store) *ImageStore { return &ImageStore{Store: st, n: n} }

func (s *ImageStore) CreateImage(ctx context.Context, img *image.Image) error {
	return s.Store.CreateImage(s.n.imageEvents(ctx, img.ID, nil, "image.create"), img)
}

func (s *ImageStore) SaveImage(ctx context.Context, img *image.Image, ifStatus image.Status, ifUpdatedAt time.Time) error {
	return s.Store.SaveImage(s.n.imageEvents(ctx, img.ID, nil, "image.update"), img, ifStatus, ifUpdatedAt)
}

func (s *ImageStore) SetStatus(ctx context.Context, id string, from, to image.Status, at time.Time) error {
	types := []string{"image.update"}
	if to == image.StatusSaving {
		// Data is about to be written: Glance's set_data sends
		// image.prepare after the image is saved in its new status. A
		// stage (uploading) sends none: Glance writes the staging
		// store directly, not through set_data.
		types = append(types, "image.prepare")
	}
	var failed []event
	if cause := image.FailureOf(ctx); cause != nil && from == image.StatusSaving && to == image.StatusQueued &&
		s.n.Enabled("image.upload") {
		// Glance's set_data sends this before the image is restored.
		failed = []event{{"image.upload", Error, uploadFailure(id, cause)}}
	}
	return s.Store.SetStatus(s.n.imageEvents(ctx, id, failed, types...), id, from, to, at)
}

// uploadFailure words a failed upload as Glance's set_data does in its
// ERROR image.upload, a text payload, from the message glint gives the
// client (never the internal cause behind it).
func uploadFailure(id string, cause error) string {
	var de *image.Error
	if !errors.As(cause, &de) {
		return fmt.Sprintf("Failed to upload image data for image %s due to internal error", id)
	}
	switch {
	case errors.Is(cause, image.ErrGone):
		return de.Msg // Glance's own wording already
	case errors.Is(cause, image.ErrForbidden):
		return fmt.Sprintf("Not allowed to upload image data for image %s: %s", id, de.Msg)
	case errors.Is(cause, image.ErrInvalid):
		return fmt.Sprintf("Cannot save data for image %s: %s", id, de.Msg)
	}
	return fmt.Sprintf("Failed to upload image data for image %s due to internal error: %s", id, de.Msg)
}

func (s *ImageStore) FinishUpload(ctx context.Context, id string, r image.UploadResult, at time.Time) error {
	return s.Store.FinishUpload(s.n.imageEvents(ctx, id, nil, "image.upload", "image.activate"), id, r, at)
}

func (s *ImageStore) DeleteImage(ctx context.Context, id string, at time.Time) (*image.Image, error) {
	return s.Store.DeleteImage(s.n.imageEvents(ctx, id, nil, "image.delete"), id, at)
}

func (s *ImageStore) AddTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.Store.AddTag(s.n.imageEvents(ctx, id, nil, "image.update"), id, tag, at)
}

func (s *ImageStore) RemoveTag(ctx context.Context, id, tag string, at time.Time) error {
	return s.Store.RemoveTag(s.n.imageEvents(ctx, id, nil, "image.update"), id, tag, at)
}

func (s *ImageStore) LockImport(ctx context.Context, id, taskID string, at time.Time) error {
	return s.Store.LockImport(s.n.imageEvents(ctx, id, nil, "image.update"), id, taskID, at)
}

func (s *ImageStore) UpdateImport(ctx context.Context, id, taskID string, u image.ImportUpdate, at time.Time) error {
	return s.Store.UpdateImport(s.n.imageEvents(ctx, id, nil, importEvents(u)...), id, taskID, u, at)
}

// ImportShared sends what UpdateImport sends: sharing data changes
// nothing a notification's reader sees.
func (s *ImageStore) ImportShared(ctx context.Context, id, taskID string, u image.ImportUpdate, r image.UploadResult, at time.Time) (string, error) {
	return s.Store.ImportShared(s.n.imageEvents(ctx, id, nil, importEvents(u)...), id, taskID, u, r, at)
}

// importEvents are the notifications of an import step.
func importEvents(u image.ImportUpdate) []string {
	switch u.Status {
	case image.StatusImporting:
		// The data is about to be written to the stores.
		return []string{"image.update", "image.prepare"}
	case image.StatusActive:
		return []string{"image.upload", "image.activate"}
	}
	return []string{"image.update"}
}

func (s *ImageStore) AddMember(ctx context.Context, m *image.Member) error {
	return s.Store.AddMember(s.n.memberEvent(ctx, m.ImageID, m.MemberID, "image.member.create", nil), m)
}

func (s *ImageStore) UpdateMember(ctx context.Context, m *image.Member) error {
	return s.Store.UpdateMember(s.n.memberEvent(ctx, m.ImageID, m.MemberID, "image.member.update", nil), m)
}

func (s *ImageStore) DeleteMember(ctx context.Context, imageID, memberID string) error {
	if !s.n.Enabled("image.member.delete") {
		return s.Store.DeleteMember(ctx, imageID, memberID)
	}
	// The row is gone after the change: its payload is read before.
	m, err := s.Store.GetMember(ctx, imageID, memberID)
	if err != nil {
		return err
	}
	now := time.Now()
	ctx = s.n.hook(ctx, func(context.Context, *sqlstore.Tx) ([]event, error) {
		return []event{{"image.member.delete", Info, memberOf(m, &now)}}, nil
	})
	return s.Store.DeleteMember(ctx, imageID, memberID)
}

// memberEvent reads the member as the change left it.
func (n *Notifier) memberEvent(ctx context.Context, imageID, memberID, eventType string, deleted *time.Time) context.Context {
	if !n.Enabled(eventType) {
		return ctx
	}
	return n.hook(ctx, func(ctx context.Context, tx *sqlstore.Tx) ([]event, error) {
		m, err := tx.Member(ctx, imageID, memberID)
		if err != nil {
			return nil, err
		}
		return []event{{eventType, Info, memberOf(m, deleted)}}, nil
	})
}

// TaskStore is a task.Store whose changes write Glance's task
// notifications. Finished import tasks are also counted by method and
// outcome.
type TaskStore struct {
	task.Store
	n        *Notifier
	finished func(method, outcome string)
}

// WrapTasks decorates st (a sqlstore-based store). finished, when set,
// counts finished tasks.
func (n *Notifier) WrapTasks(st task.Store, finished func(method, outcome string)) *TaskStore {
	return &TaskStore{Store: st, n: n, finished: finished}
}

func (n *Notifier) taskEvents(ctx context.Context, id string, after func(*task.Task), types ...string) context.Context {
	if types = n.enabled(types); len(types) == 0 && after == nil {
		return ctx
	}
	return n.hook(ctx, func(ctx context.Context, tx *sqlstore.Tx) ([]event, error) {
		t, err := tx.Task(ctx, id)
		if err != nil {
			return nil, err
		}
		if after != nil {
			after(t)
		}
		now := n.now()
		evs := make([]event, 0, len(types))
		for _, typ := range types {
			evs = append(evs, event{typ, Info, taskOf(t, now)})
		}
		return evs, nil
	})
}

func (s *TaskStore) CreateTask(ctx context.Context, t *task.Task) error {
	return s.Store.CreateTask(s.n.taskEvents(ctx, t.ID, nil, "task.create"), t)
}

// ClaimTask writes task.processing in the claim's own transaction, as
// Glance sends it when a task begins processing. A task taken over from a
// dead runner (a second attempt) was announced already.
func (s *TaskStore) ClaimTask(ctx context.Context, node string, expiredBefore, leaseUntil, at time.Time) (*task.Task, error) {
	if s.n.Enabled("task.processing") {
		ctx = s.n.hook(ctx, func(_ context.Context, tx *sqlstore.Tx) ([]event, error) {
			t := tx.ClaimedTask()
			if t == nil || t.Attempts > 1 {
				return nil, nil
			}
			return []event{{"task.processing", Info, taskOf(t, s.n.now())}}, nil
		})
	}
	return s.Store.ClaimTask(ctx, node, expiredBefore, leaseUntil, at)
}

func (s *TaskStore) FinishTask(ctx context.Context, id, node string, f task.Final, at time.Time) error {
	var method string
	ended := "task.success"
	if f.Status == task.StatusFailure {
		ended = "task.failure"
	}
	// Glance sends task.run after run() returns, after the outcome.
	ctx = s.n.taskEvents(ctx, id, func(t *task.Task) { method = importMethod(t) }, ended, "task.run")
	err := s.Store.FinishTask(ctx, id, node, f, at)
	if err == nil && s.finished != nil {
		s.finished(method, string(f.Status))
	}
	return err
}

// importMethod is the import method a task ran, a bounded label.
func importMethod(t *task.Task) string {
	req, _ := t.Input["import_req"].(map[string]any)
	m, _ := req["method"].(map[string]any)
	switch name, _ := m["name"].(string); name {
	case "glance-direct", "web-download", "copy-image", "glance-download":
		return name
	}
	return "other"
}

// enabled keeps the event types that are sent.
func (n *Notifier) enabled(types []string) []string {
	out := types[:0:0]
	for _, t := range types {
		if n.Enabled(t) {
			out = append(out, t)
		}
	}
	return out
}

// Events answers the API's download reports with image.send.
type Events struct {
	n   *Notifier
	out Outbox
	log *slog.Logger
}

// Events returns the API's Events, writing to out.
func (n *Notifier) Events(out Outbox, log *slog.Logger) *Events {
	return &Events{n: n, out: out, log: log}
}

// ImageSent writes image.send: INFO when the whole image went out, ERROR
// when the download ended short, as Glance does. from, the client's
// address, is set when the image cache served the download; Glance's
// cache middleware adds it as destination_ip.
func (e *Events) ImageSent(ctx context.Context, img *image.Image, sent int64, to caller.Principal, from string) {
	priority := Info
	if img.Size == nil || sent != *img.Size {
		priority = Error
	}
	m, ok, err := e.n.Message("image.send", priority, sendPayload{BytesSent: sent, ImageID: img.ID, OwnerID: img.Owner,
		ReceiverTenantID: to.ProjectID, ReceiverUserID: to.UserID, DestinationIP: from})
	if err == nil && ok {
		err = e.out.AppendOutbox(ctx, m)
		e.n.poke()
	}
	if err != nil {
		e.log.ErrorContext(ctx, "notifications: image.send not written", "err", err, "image_id", img.ID)
	}
}

// FinishShared sends what FinishUpload sends: sharing data changes
// nothing a notification's reader sees.
func (s *ImageStore) FinishShared(ctx context.Context, id string, r image.UploadResult, at time.Time) (string, error) {
	return s.Store.FinishShared(s.n.imageEvents(ctx, id, nil, "image.upload", "image.activate"), id, r, at)
}
