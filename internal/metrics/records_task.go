package metrics

import (
	"context"
	"time"

	"github.com/glint-image/glint/internal/task"
)

// The task.Store methods of Records: each times one call.

func (rec *Records) CreateTask(ctx context.Context, t *task.Task) error {
	defer rec.observe("CreateTask", time.Now())
	return rec.tasks.CreateTask(ctx, t)
}

func (rec *Records) GetTask(ctx context.Context, id string) (*task.Task, error) {
	defer rec.observe("GetTask", time.Now())
	return rec.tasks.GetTask(ctx, id)
}

func (rec *Records) ListTasks(ctx context.Context, q task.ListQuery) ([]*task.Task, error) {
	defer rec.observe("ListTasks", time.Now())
	return rec.tasks.ListTasks(ctx, q)
}

func (rec *Records) ImageTasks(ctx context.Context, imageID string, now time.Time) ([]*task.Task, error) {
	defer rec.observe("ImageTasks", time.Now())
	return rec.tasks.ImageTasks(ctx, imageID, now)
}

func (rec *Records) ClaimTask(ctx context.Context, node string, expiredBefore time.Time, leaseUntil time.Time, at time.Time) (*task.Task, error) {
	defer rec.observe("ClaimTask", time.Now())
	return rec.tasks.ClaimTask(ctx, node, expiredBefore, leaseUntil, at)
}

func (rec *Records) RenewReservations(ctx context.Context, node string, until time.Time) error {
	defer rec.observe("RenewReservations", time.Now())
	return rec.tasks.RenewReservations(ctx, node, until)
}

func (rec *Records) RenewTask(ctx context.Context, id string, node string, leaseUntil time.Time, p task.Progress, at time.Time) error {
	defer rec.observe("RenewTask", time.Now())
	return rec.tasks.RenewTask(ctx, id, node, leaseUntil, p, at)
}

func (rec *Records) ReleaseTask(ctx context.Context, id string, node string, at time.Time) error {
	defer rec.observe("ReleaseTask", time.Now())
	return rec.tasks.ReleaseTask(ctx, id, node, at)
}

func (rec *Records) FinishTask(ctx context.Context, id string, node string, f task.Final, at time.Time) error {
	defer rec.observe("FinishTask", time.Now())
	return rec.tasks.FinishTask(ctx, id, node, f, at)
}

func (rec *Records) DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error) {
	defer rec.observe("DeleteExpiredTasks", time.Now())
	return rec.tasks.DeleteExpiredTasks(ctx, now)
}
