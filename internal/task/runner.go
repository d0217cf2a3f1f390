package task

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/glint-image/glint/internal/requestid"
)

// Executor runs one claimed task to its end. It returns the task's result
// (success) or an error whose message is shown to the task's owner
// (failure). When ctx ends first (the runner stops, or lost its lease) the
// task is not finished: the executor leaves what it did resumable and
// returns; another runner takes the task over and calls Execute again,
// with Attempts one higher.
type Executor interface {
	Execute(ctx context.Context, t *Task, rep *Reporter) (map[string]any, error)
}

// RunnerOptions tune a Runner; zero values take the defaults.
type RunnerOptions struct {
	// Node names this runner in leases; unique per process.
	Node string
	// Workers bounds the tasks this runner executes at once (default 2).
	Workers int
	// Lease is how long a claim lasts without renewal (default 1 min);
	// it is renewed every third of it. A task whose runner dies is taken
	// over by another within about one lease.
	Lease time.Duration
	// Poll is how often the store is asked for work beyond the wake-ups
	// of tasks created here (default 5 s).
	Poll time.Duration
	// SoleRunner says no other runner shares the store (a single node):
	// at start every processing task is a crashed run's, and is taken
	// over at once instead of after its lease.
	SoleRunner bool
	// Now is the clock; tests inject one.
	Now func() time.Time
}

// Runner claims runnable tasks from a Store and executes them, at most
// Workers at a time, renewing their leases as they run.
type Runner struct {
	store Store
	log   *slog.Logger
	opts  RunnerOptions

	started time.Time
	wake    chan struct{}
	slots   chan struct{}
	cancel  context.CancelFunc
	running sync.WaitGroup // the loop and every task
}

// NewRunner returns a runner; Start sets it going.
func NewRunner(store Store, log *slog.Logger, opts RunnerOptions) *Runner {
	if opts.Workers <= 0 {
		opts.Workers = 2
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Poll <= 0 {
		opts.Poll = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Runner{store: store, log: log, opts: opts,
		wake: make(chan struct{}, 1), slots: make(chan struct{}, opts.Workers)}
}

// Node is the name this runner leases tasks under.
func (r *Runner) Node() string { return r.opts.Node }

// Lease is how long its claims and reservations last unrenewed.
func (r *Runner) Lease() time.Duration { return r.opts.Lease }

func (r *Runner) now() time.Time { return r.opts.Now().UTC() }

// Wake tells the runner a task was created, so it looks for work now
// rather than at the next poll.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the claim loop until Stop.
func (r *Runner) Start(exec Executor) {
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.started = r.now()
	r.running.Add(1)
	go func() {
		defer r.running.Done()
		r.loop(ctx, exec)
	}()
}

// Stop ends the loop and interrupts the running tasks, which release
// their leases for the next runner, and waits for them until ctx ends.
func (r *Runner) Stop(ctx context.Context) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	done := make(chan struct{})
	go func() { r.running.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		r.log.Warn("tasks still running at shutdown; their leases will expire")
	}
}

// expiredSweep is how often finished tasks past their expiry are removed.
const expiredSweep = 10 * time.Minute

func (r *Runner) loop(ctx context.Context, exec Executor) {
	poll := time.NewTicker(r.opts.Poll)
	defer poll.Stop()
	lastSweep := time.Time{}
	for {
		// Tasks reserved for this runner stay reserved while it lives.
		if err := r.store.RenewReservations(ctx, r.opts.Node, r.now().Add(r.opts.Lease)); err != nil && ctx.Err() == nil {
			r.log.Warn("renewing task reservations", "err", err)
		}
		r.claimAll(ctx, exec)
		if now := r.now(); now.Sub(lastSweep) >= expiredSweep {
			lastSweep = now
			if n, err := r.store.DeleteExpiredTasks(ctx, now); err != nil && ctx.Err() == nil {
				r.log.Warn("removing expired tasks", "err", err)
			} else if n > 0 {
				r.log.Info("removed expired tasks", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-poll.C:
		}
	}
}

// claimAll claims tasks while there are free workers and runnable tasks.
func (r *Runner) claimAll(ctx context.Context, exec Executor) {
	for {
		select {
		case r.slots <- struct{}{}:
		default:
			return // all workers busy; a finishing task wakes the loop
		}
		now := r.now()
		expiredBefore := now
		if b := r.started.Add(r.opts.Lease); r.opts.SoleRunner && b.After(now) {
			// A lease that ends before start+Lease was taken before this
			// runner started, by a process that is gone: the sole runner
			// takes it over without waiting. Its own leases all end later.
			expiredBefore = b
		}
		t, err := r.store.ClaimTask(ctx, r.opts.Node, expiredBefore, now.Add(r.opts.Lease), now)
		if err != nil || t == nil {
			<-r.slots
			if err != nil && ctx.Err() == nil {
				r.log.Warn("claiming a task", "err", err)
			}
			return
		}
		r.running.Add(1)
		go func() {
			defer r.running.Done()
			defer func() { <-r.slots; r.Wake() }()
			r.run(ctx, exec, t)
		}()
	}
}

// run executes one claimed task under a renewed lease.
func (r *Runner) run(parent context.Context, exec Executor, t *Task) {
	// The task's lines and the calls it makes (web-download,
	// glance-download) carry the id of the request that created it.
	ctx, cancel := context.WithCancel(requestid.With(parent, t.RequestID))
	defer cancel()
	log := r.log.With("task_id", t.ID, "image_id", t.ImageID, "attempt", t.Attempts, "request_id", t.RequestID)
	rep := &Reporter{}
	rep.set(Progress{Message: t.Message, Result: t.Result})
	lost := make(chan struct{})
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		r.renew(ctx, cancel, t, rep, log, lost)
	}()
	log.Info("task started", "type", t.Type)
	result, err := exec.Execute(ctx, t, rep)
	cancel()
	<-renewed

	// Finishing and releasing must happen even when the runner is being
	// stopped.
	end, endCancel := context.WithTimeout(context.WithoutCancel(parent), 30*time.Second)
	defer endCancel()
	f := Final{Status: StatusSuccess, Result: result, ExpiresAt: r.now().Add(TimeToLive)}
	if err != nil {
		select {
		case <-lost:
			log.Warn("task lease lost; another runner has it", "err", err)
			return
		default:
		}
		if parent.Err() != nil {
			if rerr := r.store.ReleaseTask(end, t.ID, r.opts.Node, r.now()); rerr != nil {
				log.Warn("releasing an interrupted task", "err", rerr)
			}
			log.Info("task interrupted by shutdown; left for the next runner")
			return
		}
		f = Final{Status: StatusFailure, Message: err.Error(), ExpiresAt: r.now().Add(TimeToLive)}
	}
	if ferr := r.store.FinishTask(end, t.ID, r.opts.Node, f, r.now()); ferr != nil {
		log.Error("recording the end of a task", "err", ferr)
		return
	}
	log.Info("task finished", "status", f.Status, "message", f.Message)
}

// renew extends the lease every third of it and saves the latest
// progress. When the lease is lost, or cannot be renewed before it runs
// out (the store unreachable), the task is cancelled: better to stop than
// to run beside the runner that takes it over.
func (r *Runner) renew(ctx context.Context, cancel context.CancelFunc, t *Task, rep *Reporter, log *slog.Logger, lost chan struct{}) {
	tick := time.NewTicker(r.opts.Lease / 3)
	defer tick.Stop()
	validUntil := r.now().Add(r.opts.Lease)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		now := r.now()
		err := r.store.RenewTask(ctx, t.ID, r.opts.Node, now.Add(r.opts.Lease), rep.get(), now)
		switch {
		case err == nil:
			validUntil = now.Add(r.opts.Lease)
		case errors.Is(err, ErrConflict), errors.Is(err, ErrNotFound):
			close(lost)
			cancel()
			return
		case ctx.Err() != nil:
			return
		default:
			log.Warn("renewing a task lease", "err", err)
			if r.now().Add(r.opts.Lease / 3).After(validUntil) {
				log.Error("task lease about to run out; stopping the task", "err", err)
				close(lost)
				cancel()
				return
			}
		}
	}
}

// Reporter carries a running task's progress to its lease renewals.
type Reporter struct {
	mu sync.Mutex
	p  Progress
}

// Report replaces the task's progress; it is saved with the next lease
// renewal.
func (rep *Reporter) Report(message string, result map[string]any) {
	rep.set(Progress{Message: message, Result: result})
}

func (rep *Reporter) set(p Progress) {
	rep.mu.Lock()
	rep.p = p
	rep.mu.Unlock()
}

func (rep *Reporter) get() Progress {
	rep.mu.Lock()
	defer rep.mu.Unlock()
	return rep.p
}
