package blob

import (
	"context"
	"errors"
	"time"
)

// Resumer is an optional capability: drivers whose writers can stop part
// way, keep what they received, and go on later from where they stopped,
// in this process or in another one sharing the store (resumable uploads).
// The driver's state of a stopped writer is an opaque value the caller
// keeps (in the records store) and hands back.
type Resumer interface {
	// ResumableWriter starts a new blob at key, like Driver.Writer, whose
	// writer can also Checkpoint.
	ResumableWriter(ctx context.Context, key string) (ResumableWriter, error)
	// Resume continues the writer whose Checkpoint returned state; the
	// next byte written lands at the offset the checkpoint recorded (its
	// Size). ErrResumeState when state is not this driver's or what it
	// names is gone.
	Resume(ctx context.Context, key string, state []byte) (ResumableWriter, error)
	// Discard removes everything a checkpointed writer kept. Discarding
	// what is already gone is not an error.
	Discard(ctx context.Context, state []byte) error
}

// ResumableWriter is a Writer that can stop without committing and keep
// its bytes.
type ResumableWriter interface {
	Writer
	// Checkpoint makes the Size() bytes written so far durable and ends
	// the writer without making anything visible under its key (later
	// Writes, Commit and Checkpoint fail; Cancel is a no-op). The returned
	// state continues it (Resumer.Resume) or discards it
	// (Resumer.Discard). A failed Checkpoint has discarded the writer's
	// data.
	Checkpoint(ctx context.Context) (state []byte, err error)
}

// ErrResumeState is the error of a resume state that is malformed, of
// another driver, or names data that is no longer there: the upload has
// to start again.
var ErrResumeState = errors.New("blob: resume state not usable")

// KeepPartials is how long a driver's own sweep (Sweeper) keeps a
// checkpointed writer's data that looks abandoned: longer than any
// expiry the image service may be configured with, so the service's
// records decide, and the driver only clears what they lost track of.
const KeepPartials = 31 * 24 * time.Hour
