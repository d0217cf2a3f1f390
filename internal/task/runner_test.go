package task_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/task"
)

// The runner is tested against the real SQLite task store; leases are
// short so that take-overs happen quickly, and every wait is for a
// condition, with a generous deadline.

func newStore(t *testing.T) task.Store {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func add(t *testing.T, s task.Store, id string) {
	t.Helper()
	now := time.Now().UTC()
	if err := s.CreateTask(t.Context(), &task.Task{ID: id, Type: task.TypeImageImport, Status: task.StatusPending,
		Owner: "p", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func status(t *testing.T, s task.Store, id string) *task.Task {
	t.Helper()
	tk, err := s.GetTask(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// execFunc adapts a function to task.Executor.
type execFunc func(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error)

func (f execFunc) Execute(ctx context.Context, t *task.Task, rep *task.Reporter) (map[string]any, error) {
	return f(ctx, t, rep)
}

func TestRunnerBoundedAndFinishes(t *testing.T) {
	s := newStore(t)
	var running, peak atomic.Int32
	release := make(chan struct{})
	exec := execFunc(func(ctx context.Context, tk *task.Task, rep *task.Reporter) (map[string]any, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		rep.Report("Copied 1 MiB", map[string]any{"bytes_done": 1 << 20})
		<-release
		if tk.ID == "t3" {
			return nil, errors.New("the download failed")
		}
		return map[string]any{"image_id": "img-" + tk.ID}, nil
	})
	r := task.NewRunner(s, quiet(), task.RunnerOptions{Node: "n1", Workers: 2, Lease: 300 * time.Millisecond, Poll: 20 * time.Millisecond})
	for i := range 5 {
		add(t, s, fmt.Sprintf("t%d", i))
	}
	r.Start(exec)
	defer r.Stop(context.Background())
	waitFor(t, "two tasks running", func() bool { return running.Load() == 2 })
	// Progress reaches the store with the lease renewals.
	waitFor(t, "progress saved", func() bool {
		for i := range 5 {
			if tk := status(t, s, fmt.Sprintf("t%d", i)); tk.Message == "Copied 1 MiB" && tk.Status == task.StatusProcessing {
				return true
			}
		}
		return false
	})
	close(release)
	for i := range 5 {
		id := fmt.Sprintf("t%d", i)
		waitFor(t, id+" finished", func() bool { return status(t, s, id).Status.Finished() })
		tk := status(t, s, id)
		switch {
		case id == "t3" && (tk.Status != task.StatusFailure || tk.Message != "the download failed"):
			t.Errorf("%s: %+v", id, tk)
		case id != "t3" && (tk.Status != task.StatusSuccess || tk.Result["image_id"] != "img-"+id || tk.ExpiresAt == nil || tk.Node != ""):
			t.Errorf("%s: %+v", id, tk)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak concurrency %d, want 2", p)
	}
}

// A runner stopped mid-task releases it; the next one resumes it at once.
func TestRunnerStopReleases(t *testing.T) {
	s := newStore(t)
	started := make(chan struct{}, 1)
	blocking := execFunc(func(ctx context.Context, tk *task.Task, rep *task.Reporter) (map[string]any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	})
	add(t, s, "a")
	r1 := task.NewRunner(s, quiet(), task.RunnerOptions{Node: "n1", Lease: time.Hour, Poll: 20 * time.Millisecond})
	r1.Start(blocking)
	<-started
	r1.Stop(context.Background())
	if tk := status(t, s, "a"); tk.Status != task.StatusProcessing || tk.Node != "" || tk.LeaseUntil != nil {
		t.Fatalf("after stop: %+v", tk)
	}
	var attempts atomic.Int32
	r2 := task.NewRunner(s, quiet(), task.RunnerOptions{Node: "n2", Lease: time.Hour, Poll: 20 * time.Millisecond})
	r2.Start(execFunc(func(ctx context.Context, tk *task.Task, rep *task.Reporter) (map[string]any, error) {
		attempts.Store(int32(tk.Attempts))
		return map[string]any{}, nil
	}))
	defer r2.Stop(context.Background())
	waitFor(t, "resumed task finished", func() bool { return status(t, s, "a").Status == task.StatusSuccess })
	if attempts.Load() != 2 {
		t.Errorf("resumed with attempts %d, want 2", attempts.Load())
	}
}

// A runner that died (it claimed and then never renewed) loses the task to
// another once the lease runs out; a sole runner takes it over at start.
func TestRunnerTakesOverDeadLeases(t *testing.T) {
	for _, sole := range []bool{false, true} {
		t.Run(fmt.Sprintf("sole=%v", sole), func(t *testing.T) {
			s := newStore(t)
			add(t, s, "a")
			now := time.Now().UTC()
			lease := 400 * time.Millisecond
			if sole {
				lease = time.Hour // only a sole runner may ignore it
			}
			if tk, err := s.ClaimTask(t.Context(), "dead", now, now.Add(lease), now); err != nil || tk == nil {
				t.Fatalf("claim by the dead node: %v %v", tk, err)
			}
			var mu sync.Mutex
			var by []string
			r := task.NewRunner(s, quiet(), task.RunnerOptions{Node: "live", Lease: time.Hour, Poll: 20 * time.Millisecond, SoleRunner: sole})
			r.Start(execFunc(func(ctx context.Context, tk *task.Task, rep *task.Reporter) (map[string]any, error) {
				mu.Lock()
				by = append(by, tk.Node)
				mu.Unlock()
				return map[string]any{}, nil
			}))
			defer r.Stop(context.Background())
			waitFor(t, "take-over", func() bool { return status(t, s, "a").Status == task.StatusSuccess })
			if tk := status(t, s, "a"); tk.Attempts != 2 || len(by) != 1 || by[0] != "live" {
				t.Fatalf("after take-over: %+v, executed by %v", tk, by)
			}
		})
	}
}

// A runner whose lease was taken over stops its own execution instead of
// running beside the new owner.
func TestRunnerStopsOnLostLease(t *testing.T) {
	s := newStore(t)
	add(t, s, "a")
	stopped := make(chan error, 1)
	r := task.NewRunner(s, quiet(), task.RunnerOptions{Node: "slow", Lease: 300 * time.Millisecond, Poll: time.Hour})
	r.Start(execFunc(func(ctx context.Context, tk *task.Task, rep *task.Reporter) (map[string]any, error) {
		// Simulate another node taking the task after a lost lease.
		now := time.Now().UTC()
		if err := s.ReleaseTask(context.Background(), tk.ID, "slow", now); err != nil {
			return nil, err
		}
		if got, err := s.ClaimTask(context.Background(), "thief", now, now.Add(time.Hour), now); err != nil || got == nil {
			return nil, fmt.Errorf("thief claim: %v", err)
		}
		<-ctx.Done()
		stopped <- ctx.Err()
		return nil, ctx.Err()
	}))
	defer r.Stop(context.Background())
	select {
	case err := <-stopped:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("execution ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("execution not cancelled after the lease was lost")
	}
	waitFor(t, "runner done", func() bool { return status(t, s, "a").Node == "thief" })
	if tk := status(t, s, "a"); tk.Status != task.StatusProcessing {
		t.Fatalf("the old runner finished a task it no longer held: %+v", tk)
	}
}
