package policy

import (
	"context"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/caller"
)

// callers in the order the expectation strings use: owner-project member,
// owner-project reader, other-project member, admin of another project.
var callers = []caller.Principal{alice, reader, bob, root}

// targetFor is an image owned by p-a as the image service describes it to
// caller p: member_id is the caller's project on a shared image it does
// not own.
func targetFor(p caller.Principal, vis string) Target {
	t := Target{ImageID: "img", Owner: "p-a", Visibility: vis, Status: "active"}
	if vis == "shared" && p.ProjectID != "p-a" {
		t.Member, t.MemberStatus = p.ProjectID, "accepted"
	}
	return t
}

// TestDefaultSets runs each action for each caller kind under both default
// sets. An expectation is one letter per caller (alice, reader, bob,
// root): Y allowed, N denied.
func TestDefaultSets(t *testing.T) {
	type row struct {
		action, vis, legacy, fresh string
	}
	rows := []row{
		// Zed: rule:default everywhere; new: reader of the owner project,
		// or anyone the image is shared/public/community to.
		{"get_image", "private", "YYYY", "YYNY"},
		{"get_image", "shared", "YYYY", "YYYY"},
		{"get_image", "public", "YYYY", "YYYY"},
		{"get_images", "", "YYYY", "YYYY"}, // target is the caller's own project
		// Zed: check_admin_or_same_owner; new: member of the proposed owner.
		{"add_image", "private", "YYNY", "YNNY"},
		// Zed: check_is_image_mutable (owner or admin, any role);
		// new: ADMIN_OR_PROJECT_MEMBER.
		{"modify_image", "public", "YYNY", "YNNY"},
		{"delete_image", "shared", "YYNY", "YNNY"},
		{"upload_image", "private", "YYNY", "YNNY"},
		{"deactivate", "public", "YYNY", "YNNY"},
		{"reactivate", "public", "YYNY", "YNNY"},
		{"set_image_location", "private", "YYNY", "YNNY"},
		// Glance 2024.2's service API: the service role (none of these
		// callers has it); a member of the owning project may add.
		{"service_api", "", "NNNN", "NNNN"},
		{"fetch_image_location", "private", "NNNN", "NNNN"},
		{"add_image_location", "private", "YNNN", "YNNN"},
		{"add_member", "shared", "YYNY", "YNNY"},
		{"delete_member", "shared", "YYNY", "YNNY"},
		// role:admin in both sets.
		{"publicize_image", "private", "NNNY", "NNNY"},
		{"copy_image", "public", "NNNY", "NNNY"},
		// Zed: rule:default, ownership enforced by modify_image.
		{"communitize_image", "private", "YYYY", "YNNY"},
		{"communitize_image", "public", "YYYY", "YNNY"},
		// Zed: role:admin or rule:default, then the ownership check.
		{"delete_image_location", "private", "YYNY", "NNNY"},
		{"get_image_location", "public", "YYYY", "YYNY"},
		// new: role member and the image reachable.
		{"download_image", "private", "YYYY", "YNNY"},
		{"download_image", "shared", "YYYY", "YNYY"},
		{"download_image", "public", "YYYY", "YNYY"},
		// new: reader of the owner project or the member project.
		{"get_members", "private", "YYYY", "YYNY"},
		{"get_members", "shared", "YYYY", "YYYY"},
		{"get_member", "shared", "YYYY", "YYYY"},
		// Zed: the owner may not answer for a member; new: only the member.
		{"modify_member", "shared", "NNYY", "NNYY"},
		{"modify_member", "private", "NNYY", "NNNY"},
		// Tasks and discovery are the same in both sets.
		{"get_task", "", "YYYY", "YYYY"},
		{"get_tasks", "", "YYYY", "YYYY"},
		{"add_task", "", "YYYY", "YYYY"},
		{"modify_task", "", "YYYY", "YYYY"},
		{"tasks_api_access", "", "NNNY", "NNNY"},
		{"stores_info_detail", "", "NNNY", "NNNY"},
		{"manage_image_cache", "", "NNNY", "NNNY"},
		{"cache_image", "", "NNNY", "NNNY"},
		{"cache_list", "", "NNNY", "NNNY"},
		{"cache_delete", "", "NNNY", "NNNY"},
		{"cache_prune", "", "NNNY", "NNNY"},
		{"get_metadef_namespaces", "private", "YYYY", "YYNY"},
	}
	for _, name := range sortedKeys(actions) {
		if !strings.Contains(name, "metadef") {
			continue
		}
		if strings.HasPrefix(name, "get_") || strings.HasPrefix(name, "list_") {
			if name != "get_metadef_namespaces" {
				rows = append(rows, row{name, "private", "YYYY", "YYNY"}, row{name, "public", "YYYY", "YYYY"})
			}
			continue
		}
		rows = append(rows, row{name, "public", "NNNY", "NNNY"})
	}

	legacy, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := New(Options{NewDefaults: true})
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, r := range rows {
		covered[r.action] = true
		for i, p := range callers {
			tgt := targetFor(p, r.vis)
			if r.vis == "" {
				tgt = Target{Owner: p.ProjectID}
			}
			for _, m := range []struct {
				name string
				a    *Authorizer
				want byte
			}{{"legacy", legacy, r.legacy[i]}, {"new", fresh, r.fresh[i]}} {
				got := m.a.Allow(context.Background(), p, r.action, tgt) == nil
				if got != (m.want == 'Y') {
					t.Errorf("%s defaults: %s on a %s image by %s: allowed=%v, want %c", m.name, r.action, r.vis, p.UserID, got, m.want)
				}
			}
		}
	}
	for name := range actions {
		if !covered[name] {
			t.Errorf("action %s has no row", name)
		}
	}
}

// The printed defaults are a policy file that loads and gives back the
// same rules, and every rule carries a comment.
func TestDefaultsYAML(t *testing.T) {
	for _, newDefaults := range []bool{false, true} {
		text := DefaultsYAML(newDefaults)
		var parsed map[string]string
		if err := yaml.Unmarshal(text, &parsed); err != nil {
			t.Fatalf("new=%v: %v", newDefaults, err)
		}
		want := defaultRules(newDefaults)
		if len(parsed) != len(want) {
			t.Errorf("new=%v: %d rules printed, %d defined", newDefaults, len(parsed), len(want))
		}
		for name, rule := range want {
			if parsed[name] != rule {
				t.Errorf("new=%v: %s printed as %q, want %q", newDefaults, name, parsed[name], rule)
			}
		}
		lines := strings.Split(string(text), "\n")
		for i, line := range lines {
			if line != "" && !strings.HasPrefix(line, "#") && (i == 0 || !strings.HasPrefix(lines[i-1], "# ")) {
				t.Errorf("new=%v: rule line without a comment: %s", newDefaults, line)
			}
		}
		if _, err := New(Options{NewDefaults: newDefaults, File: writeFile(t, "defaults.yaml", string(text))}); err != nil {
			t.Errorf("new=%v: printed defaults do not load: %v", newDefaults, err)
		}
		hasGuard := strings.Contains(string(text), guardImageOwner)
		if hasGuard == newDefaults {
			t.Errorf("new=%v: legacy guard printed=%v", newDefaults, hasGuard)
		}
	}
}
