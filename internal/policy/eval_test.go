package policy

import (
	"context"
	"errors"
	"testing"

	"github.com/glint-image/glint/internal/caller"
)

var (
	alice  = caller.Principal{UserID: "u-alice", ProjectID: "p-a", Roles: []string{"Member", "reader"}}
	reader = caller.Principal{UserID: "u-rita", ProjectID: "p-a", Roles: []string{"reader"}}
	bob    = caller.Principal{UserID: "u-bob", ProjectID: "p-b", Roles: []string{"member", "reader"}}
	root   = caller.Principal{UserID: "u-root", ProjectID: "p-admin", Roles: []string{"admin"}}
	nobody = caller.Principal{UserID: "u-none"}
)

func TestEvaluate(t *testing.T) {
	owned := Target{ImageID: "i1", Owner: "p-a", Visibility: "private", Extra: map[string]string{"os_distro": "debian", "protected": "False"}}
	shared := Target{ImageID: "i2", Owner: "p-a", Visibility: "shared", Member: "p-b", MemberStatus: "accepted"}
	rules := map[string]string{
		"default":          "",
		"context_is_admin": "role:admin",
		"owner":            "project_id:%(project_id)s",
		"admin_or_owner":   "is_admin:True or rule:owner",
	}
	cases := []struct {
		rule string
		p    caller.Principal
		t    Target
		want bool
	}{
		{"", nobody, Target{}, true},
		{"@", nobody, Target{}, true},
		{"!", root, owned, false},
		{"role:member", alice, owned, true}, // roles compare without case
		{"role:MEMBER", alice, owned, true},
		{"role:member", reader, owned, false},
		{"project_id:%(project_id)s", alice, owned, true},
		{"project_id:%(project_id)s", bob, owned, false},
		{"project_id:%(owner)s", alice, owned, true},
		{"tenant:%(owner)s", alice, owned, true},
		{"user_id:u-alice", alice, owned, true},
		{"user:%(user_id)s", alice, Target{Extra: map[string]string{"user_id": "u-alice"}}, true},
		{"project_id:%(project_id)s", nobody, Target{}, false}, // no project on either side never matches
		{"project_id:%(missing)s", alice, owned, false},
		{"not project_id:%(missing)s", alice, owned, true},
		{"is_admin:True", root, owned, true},
		{"is_admin:True", alice, owned, false},
		{"is_admin:False", alice, owned, true},
		{"roles:reader", reader, owned, true},
		{"'private':%(visibility)s", bob, owned, true},
		{"'public':%(visibility)s", bob, owned, false},
		{"\"debian\":%(os_distro)s", bob, owned, true},
		{"False:%(protected)s", bob, owned, true},
		{"project_id:%(member_id)s", bob, shared, true},
		{"project_id:%(member_id)s", alice, shared, false},
		{"'accepted':%(member_status)s", bob, shared, true},
		{"rule:admin_or_owner", alice, owned, true},
		{"rule:admin_or_owner", bob, owned, false},
		{"rule:admin_or_owner", root, owned, true},
		{"role:admin or role:member and project_id:%(project_id)s", bob, owned, false},
		{"role:admin or role:member and project_id:%(project_id)s", alice, owned, true},
		{"(role:admin or role:member) and project_id:%(project_id)s", root, owned, false},
		{"not role:admin and not role:member", reader, owned, true},
		{"user.name:x", alice, owned, false}, // credentials are flat
	}
	for _, c := range cases {
		set := map[string]check{}
		for name, text := range rules {
			set[name] = mustParse(t, name, text)
		}
		set["under_test"] = mustParse(t, "under_test", c.rule)
		a := &Authorizer{rules: set}
		e := &evaluation{rules: set, creds: a.credentials(c.p), target: c.t.attrs()}
		if got := e.rule("under_test"); got != c.want {
			t.Errorf("%q for %s on %+v: got %v, want %v", c.rule, c.p.UserID, c.t, got, c.want)
		}
	}
}

func mustParse(t *testing.T, name, text string) check {
	t.Helper()
	c, err := parseRule(name, text)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestIsAdminFollowsContextIsAdmin(t *testing.T) {
	a := newFromText(t, `context_is_admin: "role:cloud_admin"`)
	if a.IsAdmin(root) {
		t.Fatal("role admin still admin after context_is_admin changed")
	}
	op := caller.Principal{ProjectID: "p-x", Roles: []string{"cloud_admin"}}
	if !a.IsAdmin(op) {
		t.Fatal("cloud_admin is not admin")
	}
	// The legacy ownership guard asks is_admin, so it follows too.
	if err := a.Allow(context.Background(), op, "modify_image", Target{Owner: "p-a"}); err != nil {
		t.Fatalf("cloud_admin modify: %v", err)
	}
	if err := a.Allow(context.Background(), root, "modify_image", Target{Owner: "p-a"}); err == nil {
		t.Fatal("role admin may still modify others' images")
	}
}

func TestUnknownActionDenied(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"", "get_imag", "default", "context_is_admin", "glint:legacy_image_owner"} {
		err := a.Allow(context.Background(), root, action, Target{})
		var d *Denied
		if !errors.As(err, &d) || !errors.Is(err, ErrDenied) || d.Action != action {
			t.Errorf("%q: want a denial, got %v", action, err)
		}
	}
}

func TestMessages(t *testing.T) {
	legacy, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := New(Options{NewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	img := Target{ImageID: "i1", Owner: "p-a", Visibility: "shared"}
	cases := []struct {
		a      *Authorizer
		p      caller.Principal
		action string
		t      Target
		want   string
	}{
		{legacy, alice, "publicize_image", img, "You are not authorized to complete publicize_image action."},
		{legacy, bob, "modify_image", img, "You do not own this image"},
		{legacy, bob, "delete_image", img, "You do not own this image"},
		{legacy, bob, "add_image", Target{Owner: "p-a"}, "You are not permitted to create images owned by 'p-a'."},
		{fresh, bob, "add_image", Target{Owner: "p-a"}, "You are not permitted to create images owned by 'p-a'"},
		{legacy, bob, "add_member", img, "Not allowed to create members for image i1."},
		{legacy, alice, "modify_member", img, "Not allowed to update members for image i1."},
		{fresh, alice, "modify_member", img, "Not allowed to update members for image i1."},
		{legacy, bob, "delete_member", img, "Not allowed to delete members for image i1."},
		{fresh, bob, "get_members", Target{ImageID: "i1", Owner: "p-a"}, "Not allowed to list members for image i1: You are not authorized to complete get_members action."},
		{fresh, reader, "modify_image", img, "You are not authorized to complete modify_image action."},
	}
	for _, c := range cases {
		err := c.a.Allow(context.Background(), c.p, c.action, c.t)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s by %s: got %v, want %q", c.action, c.p.UserID, err, c.want)
		}
	}
}

// The target of context_is_admin is the caller's own string credentials
// (Glance passes the request context's values): a rule may compare them
// with each other, is_admin reads "False" there, and roles, a list, is no
// target attribute. Later checks then see is_admin "True".
func TestIsAdminTargetIsCredentials(t *testing.T) {
	p := caller.Principal{UserID: "u1", ProjectID: "u1", Roles: []string{"member"}}
	cases := []struct {
		rule string
		want bool
	}{
		{`context_is_admin: "user_id:%(project_id)s"`, true},
		{`context_is_admin: "project_id:%(tenant)s and user:%(user_id)s"`, true},
		{`context_is_admin: "'False':%(is_admin)s"`, true},
		{`context_is_admin: "'member':%(roles)s"`, false},
		{`context_is_admin: "user_id:%(owner)s"`, false},
	}
	for _, c := range cases {
		a := newFromText(t, c.rule)
		if got := a.IsAdmin(p); got != c.want {
			t.Errorf("%s: IsAdmin %v, want %v", c.rule, got, c.want)
		}
	}
	other := caller.Principal{UserID: "u1", ProjectID: "p2", Roles: []string{"member"}}
	if newFromText(t, `context_is_admin: "user_id:%(project_id)s"`).IsAdmin(other) {
		t.Error("user u1 of project p2 is admin by user_id:%(project_id)s")
	}
	a := newFromText(t, `context_is_admin: "user_id:%(project_id)s"`+"\n"+`get_image: "is_admin:True"`)
	if err := a.Allow(context.Background(), p, "get_image", Target{}); err != nil {
		t.Errorf("an admin by context_is_admin is refused is_admin:True: %v", err)
	}
	if err := a.Allow(context.Background(), other, "get_image", Target{}); err == nil {
		t.Error("a caller who is no admin passes is_admin:True")
	}
}
