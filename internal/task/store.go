package task

import (
	"context"
	"time"
)

// Store keeps tasks. internal/task/tasktest is the conformance suite
// every implementation runs. Times are stored in UTC with microseconds.
type Store interface {
	// CreateTask inserts t; an id already used is ErrDuplicate. A pending
	// task created with Node and LeaseUntil set is reserved for that
	// runner: no other may claim it until the reservation ends (it needs
	// something only that process holds).
	CreateTask(ctx context.Context, t *Task) error

	// GetTask returns a task, expired or not, or ErrNotFound.
	GetTask(ctx context.Context, id string) (*Task, error)

	// ListTasks returns a page of the tasks q selects, never expired ones
	// (ExpiresAt at or before q.Now). An unknown marker, or one that q
	// does not select, is ErrBadQuery.
	ListTasks(ctx context.Context, q ListQuery) ([]*Task, error)

	// ImageTasks returns the unexpired tasks of one image, oldest first.
	ImageTasks(ctx context.Context, imageID string, now time.Time) ([]*Task, error)

	// ClaimTask leases the oldest runnable task to node until leaseUntil
	// and returns it (status processing, Attempts incremented, updated_at
	// at), or nil when there is none. Runnable: pending and not reserved
	// for another node (or its reservation ended before expiredBefore),
	// or processing with a lease that ended before expiredBefore or was
	// released. Of concurrent claims of one task exactly one succeeds.
	ClaimTask(ctx context.Context, node string, expiredBefore, leaseUntil, at time.Time) (*Task, error)

	// RenewReservations extends, to until, the reservations of the
	// pending tasks reserved for node.
	RenewReservations(ctx context.Context, node string, until time.Time) error

	// RenewTask extends node's lease on a processing task and records its
	// progress (Message, Result of p). ErrConflict if node no longer
	// holds the lease.
	RenewTask(ctx context.Context, id, node string, leaseUntil time.Time, p Progress, at time.Time) error

	// ReleaseTask ends node's lease without finishing the task, so any
	// runner may claim it at once. ErrConflict if node does not hold it.
	ReleaseTask(ctx context.Context, id, node string, at time.Time) error

	// FinishTask moves a task to success or failure with its result and
	// message, sets ExpiresAt and drops the lease. With node set, only
	// while node holds the lease of the processing task (ErrConflict
	// otherwise); with node "", a task that is not finished yet (a
	// pending task failed before it ran, or one taken from a dead node).
	FinishTask(ctx context.Context, id, node string, f Final, at time.Time) error

	// DeleteExpiredTasks removes the tasks that expired at or before now
	// and returns how many.
	DeleteExpiredTasks(ctx context.Context, now time.Time) (int, error)
}

// Progress is what a running task reports.
type Progress struct {
	Message string
	Result  map[string]any
}

// Final is how a task ended.
type Final struct {
	Status    Status // StatusSuccess or StatusFailure
	Result    map[string]any
	Message   string
	ExpiresAt time.Time
}

// ListQuery describes a page of tasks.
type ListQuery struct {
	// Owner restricts the list to one project's tasks; "" lists all
	// (admins).
	Owner string
	// Status and Type filter when set.
	Status Status
	Type   string
	// SortKey is one of SortKeys (default created_at); ties go by
	// created_at and id in the same direction.
	SortKey string
	SortAsc bool
	Marker  string
	Limit   int
	// Now decides what has expired.
	Now time.Time
}

// SortKeys are the columns a list may be sorted by.
var SortKeys = []string{"created_at", "updated_at", "expires_at", "id", "type", "status", "owner", "image_id", "user_id", "request_id"}
