// Package tasktest is the conformance suite for task.Store: every
// implementation (SQLite, PostgreSQL) calls Run with a constructor for an
// empty store.
package tasktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/task"
)

// Run runs the suite. newStore returns a new, empty store closed when t
// ends.
func Run(t *testing.T, newStore func(t *testing.T) task.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s task.Store)
	}{
		{"CreateGet", testCreateGet},
		{"List", testList},
		{"ListPages", testListPages},
		{"ImageTasks", testImageTasks},
		{"ClaimOrder", testClaimOrder},
		{"ClaimConcurrent", testClaimConcurrent},
		{"Lease", testLease},
		{"Reservation", testReservation},
		{"Finish", testFinish},
		{"DeleteExpired", testDeleteExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

var base = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

func newTask(id string, created int) *task.Task {
	return &task.Task{
		ID: id, Type: task.TypeImageImport, Status: task.StatusPending, Owner: "owner",
		ImageID: "image-" + id, UserID: "user", RequestID: "req-" + id,
		Input:     map[string]any{"image_id": "image-" + id, "import_req": map[string]any{"method": map[string]any{"name": "glance-direct"}}},
		Context:   json.RawMessage(`{"roles":["member"]}`),
		CreatedAt: at(created), UpdatedAt: at(created),
	}
}

func create(t *testing.T, s task.Store, ts ...*task.Task) {
	t.Helper()
	for _, tk := range ts {
		if err := s.CreateTask(t.Context(), tk); err != nil {
			t.Fatalf("CreateTask(%s): %v", tk.ID, err)
		}
	}
}

func get(t *testing.T, s task.Store, id string) *task.Task {
	t.Helper()
	tk, err := s.GetTask(t.Context(), id)
	if err != nil {
		t.Fatalf("GetTask(%s): %v", id, err)
	}
	return tk
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: error %v, want %v", what, err, want)
	}
}

// same compares tasks field by field, with JSON contexts compared as
// values and times as instants.
func same(t *testing.T, what string, got, want *task.Task) {
	t.Helper()
	g, w := *got, *want
	var gc, wc any
	if err := errors.Join(json.Unmarshal(g.Context, &gc), json.Unmarshal(w.Context, &wc)); err != nil {
		t.Fatalf("%s: context %s or %s is not JSON: %v", what, g.Context, w.Context, err)
	}
	if !reflect.DeepEqual(gc, wc) {
		t.Errorf("%s: context %s, want %s", what, g.Context, w.Context)
	}
	g.Context, w.Context = nil, nil
	for _, p := range []struct{ g, w **time.Time }{{&g.ExpiresAt, &w.ExpiresAt}, {&g.LeaseUntil, &w.LeaseUntil}} {
		if (*p.g == nil) != (*p.w == nil) || (*p.g != nil && !(*p.g).Equal(**p.w)) {
			t.Errorf("%s: time %v, want %v", what, *p.g, *p.w)
		}
		*p.g, *p.w = nil, nil
	}
	if !g.CreatedAt.Equal(w.CreatedAt) || !g.UpdatedAt.Equal(w.UpdatedAt) {
		t.Errorf("%s: created %v updated %v, want %v %v", what, g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt)
	}
	g.CreatedAt, g.UpdatedAt, w.CreatedAt, w.UpdatedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, g, w)
	}
}

func testCreateGet(t *testing.T, s task.Store) {
	a := newTask("a", 1)
	create(t, s, a)
	same(t, "GetTask", get(t, s, "a"), a)
	wantErr(t, "CreateTask(again)", s.CreateTask(t.Context(), newTask("a", 2)), task.ErrDuplicate)
	_, err := s.GetTask(t.Context(), "missing")
	wantErr(t, "GetTask(missing)", err, task.ErrNotFound)

	// Empty input, null result, default context.
	b := &task.Task{ID: "b", Type: task.TypeImport, Status: task.StatusPending, CreatedAt: at(2), UpdatedAt: at(2)}
	create(t, s, b)
	got := get(t, s, "b")
	if got.Input != nil || got.Result != nil || string(got.Context) != "{}" {
		t.Errorf("empty task read back as input %v result %v context %s", got.Input, got.Result, got.Context)
	}
}

func ids(ts []*task.Task) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func list(t *testing.T, s task.Store, q task.ListQuery) []string {
	t.Helper()
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Now.IsZero() {
		q.Now = at(1000)
	}
	ts, err := s.ListTasks(t.Context(), q)
	if err != nil {
		t.Fatalf("ListTasks(%+v): %v", q, err)
	}
	return ids(ts)
}

func wantIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

func testList(t *testing.T, s task.Store) {
	a, b, c, d := newTask("a", 1), newTask("b", 2), newTask("c", 3), newTask("d", 4)
	b.Owner, c.Status, d.Type = "other", task.StatusSuccess, task.TypeImport
	c.ExpiresAt = ptr(at(2000))
	expired := newTask("e", 5)
	expired.Status, expired.ExpiresAt = task.StatusFailure, ptr(at(500))
	create(t, s, a, b, c, d, expired)

	wantIDs(t, "all", list(t, s, task.ListQuery{}), "d", "c", "b", "a")
	wantIDs(t, "before expiry", list(t, s, task.ListQuery{Now: at(499)}), "e", "d", "c", "b", "a")
	wantIDs(t, "owner", list(t, s, task.ListQuery{Owner: "owner"}), "d", "c", "a")
	wantIDs(t, "status", list(t, s, task.ListQuery{Status: task.StatusSuccess}), "c")
	wantIDs(t, "type", list(t, s, task.ListQuery{Type: task.TypeImport}), "d")
	wantIDs(t, "asc", list(t, s, task.ListQuery{SortAsc: true}), "a", "b", "c", "d")
	wantIDs(t, "by owner", list(t, s, task.ListQuery{SortKey: "owner", SortAsc: true}), "b", "a", "c", "d")
	wantIDs(t, "by id desc", list(t, s, task.ListQuery{SortKey: "id"}), "d", "c", "b", "a")
	wantIDs(t, "by status", list(t, s, task.ListQuery{SortKey: "status"}), "c", "d", "b", "a")
	// Unfinished tasks have no expiry and sort as the oldest.
	wantIDs(t, "by expires_at", list(t, s, task.ListQuery{SortKey: "expires_at"}), "c", "d", "b", "a")
	wantIDs(t, "by expires_at asc", list(t, s, task.ListQuery{SortKey: "expires_at", SortAsc: true}), "a", "b", "d", "c")
	wantIDs(t, "by expires_at after c", list(t, s, task.ListQuery{SortKey: "expires_at", Marker: "c"}), "d", "b", "a")

	_, err := s.ListTasks(t.Context(), task.ListQuery{SortKey: "input", Limit: 10, Now: at(1000)})
	wantErr(t, "unknown sort key", err, task.ErrBadQuery)
	for _, m := range []string{"missing", "b"} {
		_, err = s.ListTasks(t.Context(), task.ListQuery{Owner: "owner", Marker: m, Limit: 10, Now: at(1000)})
		wantErr(t, "marker "+m, err, task.ErrBadQuery)
	}
}

func testListPages(t *testing.T, s task.Store) {
	// Equal sort values everywhere, so the tie-breakers decide the order.
	for i := range 7 {
		tk := newTask(fmt.Sprintf("t%d", i), i%3)
		tk.Status = task.StatusProcessing
		create(t, s, tk)
	}
	for _, asc := range []bool{false, true} {
		for _, key := range []string{"created_at", "status", "id", "expires_at"} {
			var pages []string
			marker := ""
			for range 10 {
				page := list(t, s, task.ListQuery{SortKey: key, SortAsc: asc, Marker: marker, Limit: 3})
				pages = append(pages, page...)
				if len(page) < 3 {
					break
				}
				marker = page[len(page)-1]
			}
			whole := list(t, s, task.ListQuery{SortKey: key, SortAsc: asc})
			if len(whole) != 7 || !reflect.DeepEqual(pages, whole) {
				t.Errorf("sort %s asc=%v: pages %v, whole %v", key, asc, pages, whole)
			}
		}
	}
}

func testImageTasks(t *testing.T, s task.Store) {
	a, b, c := newTask("a", 2), newTask("b", 1), newTask("c", 3)
	b.ImageID, c.ImageID = "image-a", "image-a"
	c.Status, c.ExpiresAt = task.StatusSuccess, ptr(at(100))
	create(t, s, a, b, c, newTask("other", 0))
	got, err := s.ImageTasks(t.Context(), "image-a", at(50))
	if err != nil {
		t.Fatal(err)
	}
	wantIDs(t, "image tasks", ids(got), "b", "a", "c")
	got, _ = s.ImageTasks(t.Context(), "image-a", at(100))
	wantIDs(t, "image tasks after expiry", ids(got), "b", "a")
	got, _ = s.ImageTasks(t.Context(), "image-none", at(0))
	wantIDs(t, "no tasks", ids(got))
}

func claim(t *testing.T, s task.Store, node string, now, until int) *task.Task {
	t.Helper()
	tk, err := s.ClaimTask(t.Context(), node, at(now), at(until), at(now))
	if err != nil {
		t.Fatalf("ClaimTask: %v", err)
	}
	return tk
}

func testClaimOrder(t *testing.T, s task.Store) {
	if tk := claim(t, s, "n1", 10, 20); tk != nil {
		t.Fatalf("claimed %s from an empty store", tk.ID)
	}
	done := newTask("done", 0)
	done.Status = task.StatusSuccess
	create(t, s, newTask("second", 2), newTask("first", 1), done)
	got := claim(t, s, "n1", 10, 20)
	if got == nil || got.ID != "first" || got.Status != task.StatusProcessing || got.Node != "n1" ||
		got.Attempts != 1 || got.LeaseUntil == nil || !got.LeaseUntil.Equal(at(20)) || !got.UpdatedAt.Equal(at(10)) {
		t.Fatalf("first claim: %+v", got)
	}
	if got := claim(t, s, "n2", 11, 21); got == nil || got.ID != "second" {
		t.Fatalf("second claim: %+v", got)
	}
	if got := claim(t, s, "n2", 12, 22); got != nil {
		t.Fatalf("claimed %s while all are leased", got.ID)
	}
	// The lease of n1 runs out at 20: from then on "first" is n3's.
	if got := claim(t, s, "n3", 20, 30); got != nil {
		t.Fatalf("claimed %s at the very end of a lease", got.ID)
	}
	got = claim(t, s, "n3", 21, 31)
	if got == nil || got.ID != "first" || got.Node != "n3" || got.Attempts != 2 {
		t.Fatalf("claim after the lease ran out: %+v", got)
	}
	// A runner that knows every lease is stale (the only node, just
	// restarted) claims with a later cut-off than its clock.
	got, err := s.ClaimTask(t.Context(), "n4", at(1000), at(60), at(22))
	if err != nil || got == nil || got.ID != "first" || !got.UpdatedAt.Equal(at(22)) || !got.LeaseUntil.Equal(at(60)) {
		t.Fatalf("claim with a later cut-off: %+v %v", got, err)
	}
}

func testClaimConcurrent(t *testing.T, s task.Store) {
	const tasks, claimers = 12, 6
	for i := range tasks {
		create(t, s, newTask(fmt.Sprintf("t%02d", i), i))
	}
	var mu sync.Mutex
	seen := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	for c := range claimers {
		node := fmt.Sprintf("n%d", c)
		wg.Go(func() {
			for {
				tk, err := s.ClaimTask(t.Context(), node, at(10), at(100), at(10))
				if err != nil {
					errs <- err
					return
				}
				if tk == nil {
					return
				}
				mu.Lock()
				if prev, ok := seen[tk.ID]; ok {
					errs <- fmt.Errorf("%s claimed by %s and %s", tk.ID, prev, node)
				}
				seen[tk.ID] = node
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != tasks {
		t.Errorf("%d of %d tasks claimed", len(seen), tasks)
	}
}

func testLease(t *testing.T, s task.Store) {
	create(t, s, newTask("a", 1))
	claim(t, s, "n1", 10, 20)
	p := task.Progress{Message: "Copied 12 MiB", Result: map[string]any{"bytes_done": float64(12 << 20)}}
	if err := s.RenewTask(t.Context(), "a", "n1", at(40), p, at(15)); err != nil {
		t.Fatalf("RenewTask: %v", err)
	}
	got := get(t, s, "a")
	if got.Message != p.Message || !reflect.DeepEqual(got.Result, p.Result) || !got.LeaseUntil.Equal(at(40)) || !got.UpdatedAt.Equal(at(15)) {
		t.Fatalf("after renew: %+v", got)
	}
	// Renewed: not claimable at 30 any more.
	if tk := claim(t, s, "n2", 30, 50); tk != nil {
		t.Fatal("claimed a renewed task")
	}
	wantErr(t, "RenewTask(other node)", s.RenewTask(t.Context(), "a", "n2", at(60), p, at(16)), task.ErrConflict)
	wantErr(t, "RenewTask(missing)", s.RenewTask(t.Context(), "missing", "n1", at(60), p, at(16)), task.ErrNotFound)
	wantErr(t, "ReleaseTask(other node)", s.ReleaseTask(t.Context(), "a", "n2", at(16)), task.ErrConflict)

	// Released: claimable at once, by anyone.
	if err := s.ReleaseTask(t.Context(), "a", "n1", at(17)); err != nil {
		t.Fatalf("ReleaseTask: %v", err)
	}
	got = claim(t, s, "n2", 18, 50)
	if got == nil || got.Node != "n2" || got.Attempts != 2 || got.Message != p.Message {
		t.Fatalf("claim after release: %+v", got)
	}
	wantErr(t, "RenewTask(old node)", s.RenewTask(t.Context(), "a", "n1", at(60), p, at(19)), task.ErrConflict)
}

func testFinish(t *testing.T, s task.Store) {
	create(t, s, newTask("a", 1), newTask("b", 2), newTask("c", 3))
	claim(t, s, "n1", 10, 20)
	ok := task.Final{Status: task.StatusSuccess, Result: map[string]any{"image_id": "image-a"}, ExpiresAt: at(100)}
	wantErr(t, "FinishTask(other node)", s.FinishTask(t.Context(), "a", "n2", ok, at(12)), task.ErrConflict)
	if err := s.FinishTask(t.Context(), "a", "n1", ok, at(12)); err != nil {
		t.Fatalf("FinishTask: %v", err)
	}
	want := newTask("a", 1)
	want.Status, want.Result, want.ExpiresAt, want.UpdatedAt, want.Attempts = task.StatusSuccess, ok.Result, ptr(at(100)), at(12), 1
	same(t, "after FinishTask", get(t, s, "a"), want)
	wantErr(t, "FinishTask(finished)", s.FinishTask(t.Context(), "a", "n1", ok, at(13)), task.ErrConflict)
	wantErr(t, "FinishTask(finished, no node)", s.FinishTask(t.Context(), "a", "", ok, at(13)), task.ErrConflict)
	if tk := claim(t, s, "n1", 200, 300); tk == nil || tk.ID != "b" {
		t.Fatalf("a finished task was claimable: %+v", tk)
	}

	// Without a node: a pending task (c), or one whose runner is gone (b).
	fail := task.Final{Status: task.StatusFailure, Message: "Expired lock preempted", ExpiresAt: at(400)}
	for _, id := range []string{"c", "b"} {
		if err := s.FinishTask(t.Context(), id, "", fail, at(210)); err != nil {
			t.Fatalf("FinishTask(%s, no node): %v", id, err)
		}
		if got := get(t, s, id); got.Status != task.StatusFailure || got.Message != fail.Message || got.Result != nil || got.Node != "" || got.LeaseUntil != nil {
			t.Fatalf("after failing %s: %+v", id, got)
		}
	}
	wantErr(t, "FinishTask(missing)", s.FinishTask(t.Context(), "missing", "", fail, at(13)), task.ErrNotFound)
}

func testDeleteExpired(t *testing.T, s task.Store) {
	a, b, c := newTask("a", 1), newTask("b", 2), newTask("c", 3)
	a.Status, a.ExpiresAt = task.StatusSuccess, ptr(at(10))
	b.Status, b.ExpiresAt = task.StatusFailure, ptr(at(20))
	create(t, s, a, b, c)
	n, err := s.DeleteExpiredTasks(t.Context(), at(10))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredTasks: %d %v", n, err)
	}
	_, err = s.GetTask(t.Context(), "a")
	wantErr(t, "GetTask(deleted)", err, task.ErrNotFound)
	get(t, s, "b")
	get(t, s, "c")
}

func testReservation(t *testing.T, s task.Store) {
	r := newTask("reserved", 1)
	r.Node, r.LeaseUntil = "origin", ptr(at(20))
	create(t, s, r)
	if tk := claim(t, s, "other", 10, 100); tk != nil {
		t.Fatalf("another node claimed a reserved task: %+v", tk)
	}
	if err := s.RenewReservations(t.Context(), "origin", at(40)); err != nil {
		t.Fatal(err)
	}
	if tk := claim(t, s, "other", 30, 100); tk != nil {
		t.Fatalf("another node claimed a renewed reservation: %+v", tk)
	}
	if tk := claim(t, s, "origin", 31, 100); tk == nil || tk.ID != "reserved" || tk.Node != "origin" {
		t.Fatalf("the origin's claim: %+v", tk)
	}
	// A reservation whose node stopped renewing it is anyone's.
	r2 := newTask("orphan", 2)
	r2.Node, r2.LeaseUntil = "dead", ptr(at(50))
	create(t, s, r2)
	if tk := claim(t, s, "other", 40, 100); tk != nil {
		t.Fatalf("claimed %s before the reservation ended", tk.ID)
	}
	if tk := claim(t, s, "other", 51, 100); tk == nil || tk.ID != "orphan" {
		t.Fatalf("claim after the reservation ended: %+v", tk)
	}
}
