// Package identitytest is the conformance suite for identity.Store. Each
// implementation's test calls Run with a constructor for an empty store:
//
//	func TestIdentityStore(t *testing.T) {
//		identitytest.Run(t, func(t *testing.T) identity.Store {
//			s := openEmptyStore(t) // closed by t.Cleanup
//			return s
//		})
//	}
package identitytest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

// Run runs the whole suite. newStore must return a new, empty store and
// arrange for it to be closed when t ends.
func Run(t *testing.T, newStore func(t *testing.T) identity.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s identity.Store)
	}{
		{"Domains", testDomains},
		{"Projects", testProjects},
		{"ProjectConflicts", testProjectConflicts},
		{"Users", testUsers},
		{"UserConflicts", testUserConflicts},
		{"Roles", testRoles},
		{"Assignments", testAssignments},
		{"AssignmentMissingRefs", testAssignmentMissingRefs},
		{"AssignmentCascades", testAssignmentCascades},
		{"Revocations", testRevocations},
		{"LoginFailures", testLoginFailures},
		{"LoginFailuresConcurrent", testLoginFailuresConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

// seed creates the Default domain, which most records need.
func seed(t *testing.T, s identity.Store) {
	t.Helper()
	d := &identity.Domain{ID: identity.DefaultDomainID, Name: identity.DefaultDomainName,
		Description: "The default domain", Enabled: true}
	must(t, s.CreateDomain(t.Context(), d))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Errorf("%s: error %v, want %v", what, err, kind)
	}
}

func ids[T any](items []*T, id func(*T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, id(it))
	}
	return out
}

func wantIDs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func testDomains(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateDomain(ctx, &identity.Domain{ID: "d2", Name: "Other", Enabled: false}))

	d, err := s.GetDomain(ctx, identity.DefaultDomainID)
	must(t, err)
	want := identity.Domain{ID: "default", Name: "Default", Description: "The default domain", Enabled: true}
	if *d != want {
		t.Errorf("GetDomain = %+v, want %+v", *d, want)
	}
	d2, err := s.GetDomain(ctx, "d2")
	must(t, err)
	if d2.Enabled {
		t.Error("disabled domain read back enabled")
	}
	_, err = s.GetDomain(ctx, "nope")
	wantKind(t, "GetDomain(missing)", err, identity.ErrNotFound)

	all, err := s.ListDomains(ctx, identity.Filter{})
	must(t, err)
	wantIDs(t, "ListDomains()", ids(all, func(d *identity.Domain) string { return d.ID }), []string{"default", "d2"})
	byName, err := s.ListDomains(ctx, identity.Filter{Name: "Other"})
	must(t, err)
	wantIDs(t, "ListDomains(name=Other)", ids(byName, func(d *identity.Domain) string { return d.ID }), []string{"d2"})

	wantKind(t, "CreateDomain(same id)", s.CreateDomain(ctx, &identity.Domain{ID: "d2", Name: "x"}), identity.ErrConflict)
	wantKind(t, "CreateDomain(same name)", s.CreateDomain(ctx, &identity.Domain{ID: "d3", Name: "Other"}), identity.ErrConflict)
}

func testProjects(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateDomain(ctx, &identity.Domain{ID: "d2", Name: "Other", Enabled: true}))
	for _, p := range []*identity.Project{
		{ID: "p1", DomainID: "default", Name: "beta", Description: "b", Enabled: true},
		{ID: "p2", DomainID: "default", Name: "alpha", Enabled: false},
		{ID: "p3", DomainID: "d2", Name: "alpha", Enabled: true},
	} {
		must(t, s.CreateProject(ctx, p))
	}
	p, err := s.GetProject(ctx, "p1")
	must(t, err)
	if want := (identity.Project{ID: "p1", DomainID: "default", Name: "beta", Description: "b", Enabled: true}); *p != want {
		t.Errorf("GetProject = %+v, want %+v", *p, want)
	}
	_, err = s.GetProject(ctx, "nope")
	wantKind(t, "GetProject(missing)", err, identity.ErrNotFound)

	id := func(p *identity.Project) string { return p.ID }
	for _, tc := range []struct {
		f    identity.Filter
		want []string
	}{
		{identity.Filter{}, []string{"p2", "p3", "p1"}}, // by name, then id
		{identity.Filter{Name: "alpha"}, []string{"p2", "p3"}},
		{identity.Filter{DomainID: "default"}, []string{"p2", "p1"}},
		{identity.Filter{Name: "alpha", DomainID: "d2"}, []string{"p3"}},
		{identity.Filter{Name: "gamma"}, []string{}},
	} {
		got, err := s.ListProjects(ctx, tc.f)
		must(t, err)
		wantIDs(t, "ListProjects("+tc.f.Name+","+tc.f.DomainID+")", ids(got, id), tc.want)
	}

	p.Name, p.Description, p.Enabled = "beta2", "", false
	must(t, s.UpdateProject(ctx, p))
	got, err := s.GetProject(ctx, "p1")
	must(t, err)
	if *got != *p {
		t.Errorf("after UpdateProject: %+v, want %+v", *got, *p)
	}
	wantKind(t, "UpdateProject(missing)", s.UpdateProject(ctx, &identity.Project{ID: "nope", Name: "x"}), identity.ErrNotFound)

	must(t, s.DeleteProject(ctx, "p1"))
	_, err = s.GetProject(ctx, "p1")
	wantKind(t, "GetProject(deleted)", err, identity.ErrNotFound)
	wantKind(t, "DeleteProject(again)", s.DeleteProject(ctx, "p1"), identity.ErrNotFound)
}

func testProjectConflicts(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateProject(ctx, &identity.Project{ID: "p1", DomainID: "default", Name: "a", Enabled: true}))
	must(t, s.CreateProject(ctx, &identity.Project{ID: "p2", DomainID: "default", Name: "b", Enabled: true}))
	wantKind(t, "CreateProject(same name)",
		s.CreateProject(ctx, &identity.Project{ID: "p3", DomainID: "default", Name: "a"}), identity.ErrConflict)
	wantKind(t, "CreateProject(same id)",
		s.CreateProject(ctx, &identity.Project{ID: "p1", DomainID: "default", Name: "c"}), identity.ErrConflict)
	wantKind(t, "UpdateProject(rename onto another)",
		s.UpdateProject(ctx, &identity.Project{ID: "p2", DomainID: "default", Name: "a"}), identity.ErrConflict)
	err := s.CreateProject(ctx, &identity.Project{ID: "p4", DomainID: "nope", Name: "d"})
	if err == nil {
		t.Error("CreateProject in a missing domain succeeded")
	}
}

func testUsers(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seed(t, s)
	cut := time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC)
	u := &identity.User{ID: "u1", DomainID: "default", Name: "alice", PasswordHash: "$2a$10$hash",
		Enabled: true, DefaultProjectID: "p9", Description: "d", Email: "a@example.com", TokensNotBefore: cut}
	must(t, s.CreateUser(ctx, u))
	must(t, s.CreateUser(ctx, &identity.User{ID: "u2", DomainID: "default", Name: "bob"}))

	got, err := s.GetUser(ctx, "u1")
	must(t, err)
	if !got.TokensNotBefore.Equal(cut) {
		t.Errorf("TokensNotBefore = %s, want %s", got.TokensNotBefore, cut)
	}
	got.TokensNotBefore = cut
	if *got != *u {
		t.Errorf("GetUser = %+v, want %+v", *got, *u)
	}
	bob, err := s.GetUser(ctx, "u2")
	must(t, err)
	if !bob.TokensNotBefore.IsZero() || bob.Enabled || bob.PasswordHash != "" {
		t.Errorf("GetUser(bob) = %+v, want zero cut-off, disabled, no hash", *bob)
	}
	_, err = s.GetUser(ctx, "nope")
	wantKind(t, "GetUser(missing)", err, identity.ErrNotFound)

	id := func(u *identity.User) string { return u.ID }
	all, err := s.ListUsers(ctx, identity.Filter{DomainID: "default"})
	must(t, err)
	wantIDs(t, "ListUsers(domain)", ids(all, id), []string{"u1", "u2"})
	byName, err := s.ListUsers(ctx, identity.Filter{Name: "bob", DomainID: "default"})
	must(t, err)
	wantIDs(t, "ListUsers(name=bob)", ids(byName, id), []string{"u2"})

	u.Name, u.PasswordHash, u.Enabled, u.TokensNotBefore = "alice2", "$2a$10$other", false, time.Time{}
	must(t, s.UpdateUser(ctx, u))
	got, err = s.GetUser(ctx, "u1")
	must(t, err)
	if *got != *u {
		t.Errorf("after UpdateUser: %+v, want %+v", *got, *u)
	}
	wantKind(t, "UpdateUser(missing)", s.UpdateUser(ctx, &identity.User{ID: "nope", Name: "x"}), identity.ErrNotFound)

	must(t, s.DeleteUser(ctx, "u2"))
	_, err = s.GetUser(ctx, "u2")
	wantKind(t, "GetUser(deleted)", err, identity.ErrNotFound)
	wantKind(t, "DeleteUser(again)", s.DeleteUser(ctx, "u2"), identity.ErrNotFound)
}

func testUserConflicts(t *testing.T, s identity.Store) {
	ctx := t.Context()
	seed(t, s)
	must(t, s.CreateDomain(ctx, &identity.Domain{ID: "d2", Name: "Other", Enabled: true}))
	must(t, s.CreateUser(ctx, &identity.User{ID: "u1", DomainID: "default", Name: "alice"}))
	must(t, s.CreateUser(ctx, &identity.User{ID: "u2", DomainID: "d2", Name: "alice"}))
	must(t, s.CreateUser(ctx, &identity.User{ID: "u3", DomainID: "default", Name: "bob"}))
	wantKind(t, "CreateUser(same name)",
		s.CreateUser(ctx, &identity.User{ID: "u4", DomainID: "default", Name: "alice"}), identity.ErrConflict)
	wantKind(t, "CreateUser(same id)",
		s.CreateUser(ctx, &identity.User{ID: "u1", DomainID: "default", Name: "carol"}), identity.ErrConflict)
	wantKind(t, "UpdateUser(rename onto another)",
		s.UpdateUser(ctx, &identity.User{ID: "u3", DomainID: "default", Name: "alice"}), identity.ErrConflict)
}

func testRoles(t *testing.T, s identity.Store) {
	ctx := t.Context()
	for _, r := range []*identity.Role{{ID: "r1", Name: "reader"}, {ID: "r2", Name: "admin", Description: "all"}} {
		must(t, s.CreateRole(ctx, r))
	}
	r, err := s.GetRole(ctx, "r2")
	must(t, err)
	if *r != (identity.Role{ID: "r2", Name: "admin", Description: "all"}) {
		t.Errorf("GetRole = %+v", *r)
	}
	_, err = s.GetRole(ctx, "nope")
	wantKind(t, "GetRole(missing)", err, identity.ErrNotFound)
	id := func(r *identity.Role) string { return r.ID }
	all, err := s.ListRoles(ctx, identity.Filter{})
	must(t, err)
	wantIDs(t, "ListRoles()", ids(all, id), []string{"r2", "r1"})
	byName, err := s.ListRoles(ctx, identity.Filter{Name: "reader"})
	must(t, err)
	wantIDs(t, "ListRoles(name=reader)", ids(byName, id), []string{"r1"})
	wantKind(t, "CreateRole(same name)", s.CreateRole(ctx, &identity.Role{ID: "r3", Name: "reader"}), identity.ErrConflict)
	must(t, s.DeleteRole(ctx, "r1"))
	wantKind(t, "DeleteRole(again)", s.DeleteRole(ctx, "r1"), identity.ErrNotFound)
}
