package identitytest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

// seedGraph creates two users, two projects and two roles.
func seedGraph(t *testing.T, s identity.Store) {
	t.Helper()
	seed(t, s)
	ctx := t.Context()
	for _, id := range []string{"u1", "u2"} {
		must(t, s.CreateUser(ctx, &identity.User{ID: id, DomainID: "default", Name: "user-" + id, Enabled: true}))
	}
	for _, id := range []string{"p1", "p2"} {
		must(t, s.CreateProject(ctx, &identity.Project{ID: id, DomainID: "default", Name: "project-" + id, Enabled: true}))
	}
	for _, id := range []string{"r1", "r2"} {
		must(t, s.CreateRole(ctx, &identity.Role{ID: id, Name: "role-" + id}))
	}
}

func proj(u, p, r string) identity.Assignment {
	return identity.Assignment{UserID: u, ProjectID: p, RoleID: r}
}

func sys(u, r string) identity.Assignment {
	return identity.Assignment{UserID: u, System: true, RoleID: r}
}

func wantAssignments(t *testing.T, s identity.Store, f identity.AssignmentFilter, want ...identity.Assignment) {
	t.Helper()
	got, err := s.ListAssignments(t.Context(), f)
	must(t, err)
	if want == nil {
		want = []identity.Assignment{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("ListAssignments(%+v) =\n %v\nwant\n %v", f, got, want)
	}
}

func testAssignments(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seedGraph(t, s)
	for _, a := range []identity.Assignment{
		proj("u1", "p1", "r1"), proj("u1", "p1", "r2"), proj("u1", "p2", "r1"),
		proj("u2", "p1", "r1"), sys("u1", "r2"),
	} {
		must(t, s.AddAssignment(ctx, a))
	}
	// Adding again is not an error and does not duplicate.
	must(t, s.AddAssignment(ctx, proj("u1", "p1", "r1")))
	must(t, s.AddAssignment(ctx, sys("u1", "r2")))

	// Project assignments first (user, project, role order), then system.
	wantAssignments(t, s, identity.AssignmentFilter{},
		proj("u1", "p1", "r1"), proj("u1", "p1", "r2"), proj("u1", "p2", "r1"), proj("u2", "p1", "r1"), sys("u1", "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u1"},
		proj("u1", "p1", "r1"), proj("u1", "p1", "r2"), proj("u1", "p2", "r1"), sys("u1", "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{ProjectID: "p1"},
		proj("u1", "p1", "r1"), proj("u1", "p1", "r2"), proj("u2", "p1", "r1"))
	wantAssignments(t, s, identity.AssignmentFilter{RoleID: "r2"}, proj("u1", "p1", "r2"), sys("u1", "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u1", SystemOnly: true}, sys("u1", "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u1", ProjectOnly: true, RoleID: "r2"}, proj("u1", "p1", "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u2", ProjectID: "p2"})

	must(t, s.RemoveAssignment(ctx, proj("u1", "p1", "r2")))
	must(t, s.RemoveAssignment(ctx, sys("u1", "r2")))
	wantKind(t, "RemoveAssignment(again)", s.RemoveAssignment(ctx, proj("u1", "p1", "r2")), identity.ErrNotFound)
	wantKind(t, "RemoveAssignment(system again)", s.RemoveAssignment(ctx, sys("u1", "r2")), identity.ErrNotFound)
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u1"}, proj("u1", "p1", "r1"), proj("u1", "p2", "r1"))
}

func testAssignmentMissingRefs(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seedGraph(t, s)
	for _, a := range []identity.Assignment{
		proj("nope", "p1", "r1"), proj("u1", "nope", "r1"), proj("u1", "p1", "nope"),
		sys("nope", "r1"), sys("u1", "nope"),
	} {
		wantKind(t, fmt.Sprintf("AddAssignment(%v)", a), s.AddAssignment(ctx, a), identity.ErrNotFound)
	}
	wantAssignments(t, s, identity.AssignmentFilter{})
}

// testAssignmentCascades: deleting a user, project or role takes its
// assignments (and a user's login failures) with it.
func testAssignmentCascades(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seedGraph(t, s)
	for _, a := range []identity.Assignment{
		proj("u1", "p1", "r1"), proj("u1", "p2", "r2"), proj("u2", "p1", "r1"), proj("u2", "p2", "r1"),
		sys("u1", "r1"), sys("u2", "r2"),
	} {
		must(t, s.AddAssignment(ctx, a))
	}
	now := time.Now()
	_, err := s.AddLoginFailure(ctx, "u2", now, now.Add(-time.Hour))
	must(t, err)

	must(t, s.DeleteProject(ctx, "p1"))
	wantAssignments(t, s, identity.AssignmentFilter{},
		proj("u1", "p2", "r2"), proj("u2", "p2", "r1"), sys("u1", "r1"), sys("u2", "r2"))
	must(t, s.DeleteRole(ctx, "r2"))
	wantAssignments(t, s, identity.AssignmentFilter{}, proj("u2", "p2", "r1"), sys("u1", "r1"))
	must(t, s.DeleteUser(ctx, "u2"))
	wantAssignments(t, s, identity.AssignmentFilter{}, sys("u1", "r1"))

	f, err := s.LoginFailures(ctx, "u2")
	must(t, err)
	if f.Count != 0 {
		t.Errorf("login failures of a deleted user: %+v", f)
	}
	// A new user with the same id starts clean.
	must(t, s.CreateUser(ctx, &identity.User{ID: "u2", DomainID: "default", Name: "again"}))
	wantAssignments(t, s, identity.AssignmentFilter{UserID: "u2"})
}

func testRevocations(t *testing.T, s identity.Store) {
	ctx := t.Context()
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	must(t, s.RevokeToken(ctx, "a1", base.Add(time.Hour)))
	must(t, s.RevokeToken(ctx, "a2", base.Add(2*time.Hour)))
	// Revoking again with an earlier expiry keeps the later one.
	must(t, s.RevokeToken(ctx, "a1", base.Add(30*time.Minute)))

	check := func(id string, want bool) {
		t.Helper()
		got, err := s.IsTokenRevoked(ctx, id)
		must(t, err)
		if got != want {
			t.Errorf("IsTokenRevoked(%s) = %v, want %v", id, got, want)
		}
	}
	check("a1", true)
	check("a2", true)
	check("a3", false)

	must(t, s.PurgeRevocations(ctx, base.Add(45*time.Minute)))
	check("a1", true) // expires at +1h, not before +45m
	must(t, s.PurgeRevocations(ctx, base.Add(90*time.Minute)))
	check("a1", false)
	check("a2", true)
}

func testLoginFailures(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seedGraph(t, s)
	f, err := s.LoginFailures(ctx, "u1")
	must(t, err)
	if f.Count != 0 || !f.LastAt.IsZero() {
		t.Errorf("LoginFailures(no record) = %+v, want zero", f)
	}
	window := 15 * time.Minute
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(at time.Time, wantCount int) {
		t.Helper()
		f, err := s.AddLoginFailure(ctx, "u1", at, at.Add(-window))
		must(t, err)
		if f.Count != wantCount || !f.LastAt.Equal(at) {
			t.Errorf("AddLoginFailure(%s) = %+v, want count %d at %s", at, f, wantCount, at)
		}
	}
	add(t0, 1)
	add(t0.Add(time.Minute), 2)
	add(t0.Add(10*time.Minute), 3)
	// The last failure is more than the window ago: counting restarts.
	add(t0.Add(30*time.Minute), 1)
	add(t0.Add(31*time.Minute), 2)

	f, err = s.LoginFailures(ctx, "u1")
	must(t, err)
	if f.Count != 2 || !f.LastAt.Equal(t0.Add(31*time.Minute)) {
		t.Errorf("LoginFailures = %+v", f)
	}
	other, err := s.LoginFailures(ctx, "u2")
	must(t, err)
	if other.Count != 0 {
		t.Errorf("another user's failures = %+v", other)
	}
	must(t, s.ClearLoginFailures(ctx, "u1"))
	must(t, s.ClearLoginFailures(ctx, "u1")) // nothing to clear is fine
	f, err = s.LoginFailures(ctx, "u1")
	must(t, err)
	if f.Count != 0 {
		t.Errorf("after ClearLoginFailures: %+v", f)
	}
	_, err = s.AddLoginFailure(ctx, "nope", t0, t0.Add(-window))
	wantKind(t, "AddLoginFailure(missing user)", err, identity.ErrNotFound)
}

// testLoginFailuresConcurrent: failures recorded at once (as on several
// nodes) are all counted.
func testLoginFailuresConcurrent(t *testing.T, s identity.Store) {
	seedGraph(t, s)
	const n = 16
	now := time.Now().UTC().Truncate(time.Microsecond)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.AddLoginFailure(t.Context(), "u1", now, now.Add(-time.Hour))
		})
	}
	wg.Wait()
	for _, err := range errs {
		must(t, err)
	}
	f, err := s.LoginFailures(t.Context(), "u1")
	must(t, err)
	if f.Count != n {
		t.Errorf("after %d concurrent failures the count is %d", n, f.Count)
	}
}
