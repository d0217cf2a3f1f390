package image

import (
	"context"
	"errors"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/task"
)

// The tasks API (GET /v2/tasks, /v2/tasks/{id}) is gated, as in Glance,
// by tasks_api_access (admins by default) and then get_tasks / get_task;
// callers other than admins see their own project's tasks only. An
// image's tasks (GET /v2/images/{id}/tasks) need only get_image, so the
// owner of an image can follow its import.

// Task returns one task.
func (s *importer) Task(ctx context.Context, p caller.Principal, id string) (*task.Task, error) {
	if err := s.taskAccess(ctx, p, "get_task"); err != nil {
		return nil, err
	}
	if !s.imports() {
		return nil, taskNotFound(id)
	}
	t, err := s.opts.Import.Tasks.GetTask(ctx, id)
	if errors.Is(err, task.ErrNotFound) || (err == nil && !taskVisible(p, t)) || (err == nil && expired(t, s.now())) {
		return nil, taskNotFound(id)
	}
	return t, err
}

func taskNotFound(id string) error {
	return newError(ErrNotFound, "Task with the given ID %s could not be found", id)
}

// Tasks returns a page of tasks; more is set when the page is full.
func (s *importer) Tasks(ctx context.Context, p caller.Principal, q task.ListQuery) (tasks []*task.Task, more bool, err error) {
	if err := s.taskAccess(ctx, p, "get_tasks"); err != nil {
		return nil, false, err
	}
	if !s.imports() {
		return []*task.Task{}, false, nil
	}
	q.Owner, q.Now = "", s.now()
	if !p.IsAdmin() {
		q.Owner = p.ProjectID
	}
	q.Limit = min(q.Limit, MaxLimit)
	tasks, err = s.opts.Import.Tasks.ListTasks(ctx, q)
	if errors.Is(err, task.ErrBadQuery) {
		return nil, false, newError(ErrInvalid, "%s", err.Error())
	}
	return tasks, err == nil && q.Limit > 0 && len(tasks) == q.Limit, err
}

// ImageTasks returns the tasks of an image the caller may see.
func (s *importer) ImageTasks(ctx context.Context, p caller.Principal, id string) ([]*task.Task, error) {
	if _, err := s.visible(ctx, p, id, false); err != nil {
		return nil, err
	}
	if !s.imports() {
		return []*task.Task{}, nil
	}
	all, err := s.opts.Import.Tasks.ImageTasks(ctx, id, s.now())
	if err != nil {
		return nil, err
	}
	out := []*task.Task{}
	for _, t := range all {
		if taskVisible(p, t) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (s *importer) taskAccess(ctx context.Context, p caller.Principal, rule string) error {
	t := policy.Target{Owner: p.ProjectID}
	if err := s.allow(ctx, p, "tasks_api_access", t); err != nil {
		return err
	}
	return s.allow(ctx, p, rule, t)
}

// taskVisible is Glance's _is_task_visible: admins see every task, others
// their project's.
func taskVisible(p caller.Principal, t *task.Task) bool {
	return p.IsAdmin() || (t.Owner != "" && t.Owner == p.ProjectID)
}

func expired(t *task.Task, now time.Time) bool { return t.ExpiresAt != nil && !t.ExpiresAt.After(now) }
