// Package task owns Glance's tasks: the records clients read at /v2/tasks
// and /v2/images/{id}/tasks, the Store seam they live behind, and the
// Runner that executes them in the background.
//
// Tasks are leased, not owned: a runner claims a pending task (or one
// whose runner stopped renewing its lease) for a while, renews the lease
// as it works, and finishes it. A node that dies mid-task simply stops
// renewing; any node sharing the store then takes the task over, so work
// survives crashes and spreads over several nodes. What a task does is the
// Executor's business (internal/image runs the imports).
package task

import (
	"encoding/json"
	"errors"
	"time"
)

// Status is a task's state, with Glance's names.
type Status string

const (
	StatusPending    Status = "pending"
	StatusProcessing Status = "processing"
	StatusSuccess    Status = "success"
	StatusFailure    Status = "failure"
)

// Statuses lists the states in Glance's order.
var Statuses = []Status{StatusPending, StatusProcessing, StatusSuccess, StatusFailure}

// Finished reports whether s is a final state.
func (s Status) Finished() bool { return s == StatusSuccess || s == StatusFailure }

// Task types glint knows (Glance's task schema enum). Glint creates only
// api_image_import tasks.
const (
	TypeImport         = "import"
	TypeImageImport    = "api_image_import"
	TypeLocationImport = "location_import"
)

// Types lists the task types.
var Types = []string{TypeImport, TypeImageImport, TypeLocationImport}

// TimeToLive is how long a finished task stays visible (Glance's
// task_time_to_live, 48 hours).
const TimeToLive = 48 * time.Hour

// Task is one task record.
type Task struct {
	ID        string
	Type      string
	Status    Status
	Owner     string // project
	ImageID   string
	UserID    string
	RequestID string
	// Input and Result are JSON objects shown to clients; a nil Result is
	// null.
	Input   map[string]any
	Result  map[string]any
	Message string
	// ExpiresAt is set when the task finishes.
	ExpiresAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time

	// What only the runner sees.

	// Context is the executor's own JSON (on whose behalf the task runs).
	Context json.RawMessage
	// Node is the runner holding the lease, until LeaseUntil.
	Node       string
	LeaseUntil *time.Time
	// Attempts counts the claims: more than one means a runner died (or
	// stopped) while it worked on the task.
	Attempts int
}

// Errors of the Store contract.
var (
	ErrNotFound  = errors.New("task not found")
	ErrDuplicate = errors.New("task already exists")
	// ErrConflict: the caller's lease on the task is gone (expired and
	// taken by another runner, or the task finished).
	ErrConflict = errors.New("task lease lost")
	// ErrBadQuery: a list query names an unknown sort key or marker.
	ErrBadQuery = errors.New("bad task query")
)
