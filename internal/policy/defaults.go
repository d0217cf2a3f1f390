package policy

import (
	"bytes"
	"fmt"
	"strconv"
)

// Check strings of Glance's project-scoped defaults (glance/policies/base.py,
// Zed). The target's project_id is the image owner.
const (
	projectMember = `role:member and project_id:%(project_id)s`
	projectReader = `role:reader and project_id:%(project_id)s`
	// member_id is the caller's own project when it reaches a shared image
	// it does not own, i.e. through a membership (Glance sets image.member
	// so in glance/db ImageRepo._format_image_from_db).
	imageMember     = `project_id:%(member_id)s`
	reachableByRole = `(project_id:%(project_id)s or ` + imageMember +
		` or 'community':%(visibility)s or 'public':%(visibility)s or 'shared':%(visibility)s)`

	adminOrProjectMember        = `role:admin or (` + projectMember + `)`
	adminOrProjectReader        = `role:admin or (` + projectReader + `)`
	adminOrReaderGetImage       = `role:admin or (role:reader and ` + reachableByRole + `)`
	adminOrMemberDownloadImage  = `role:admin or (role:member and ` + reachableByRole + `)`
	adminOrMemberCreateImage    = `role:admin or (` + projectMember + ` and project_id:%(owner)s)`
	adminOrReaderGetNamespace   = `role:admin or (role:reader and (project_id:%(project_id)s or 'public':%(visibility)s))`
	adminOrSharedMember         = `role:admin or (role:member and ` + imageMember + `)`
	adminOrReaderOrSharedMember = `role:admin or (role:reader and (project_id:%(project_id)s or ` + imageMember + `))`

	// deprecatedDefault is the Zed-era rule most image and metadef rules
	// fall back to while enforce_new_defaults is off.
	deprecatedDefault        = `rule:default`
	deprecatedMetadefDefault = `rule:metadef_default`
)

// ruleDef is one default rule. Under the new defaults the rule is check;
// under the Zed legacy defaults oslo.policy accepts check or deprecated
// (it builds exactly that OrCheck when enforce_new_defaults is false), so
// the legacy rule is "(check) or deprecated".
type ruleDef struct {
	name       string
	check      string
	deprecated string
	desc       string
}

func (d ruleDef) legacy() string {
	if d.deprecated == "" || d.check == "" || d.check == d.deprecated {
		return d.check
	}
	return "(" + d.check + ") or " + d.deprecated
}

// section groups rules for the printed policy file.
type section struct {
	title string
	rules []ruleDef
}

var sections = []section{
	{"Base rules", []ruleDef{
		{"default", "", "", "The rule other rules fall back to; empty means any authenticated caller."},
		{"context_is_admin", "role:admin", "", "Who counts as a cloud administrator (sets the is_admin credential)."},
		{"service_api", "role:service", "", "Who counts as another OpenStack service (Nova, Cinder) for the service-only APIs."},
	}},
	{"Images", []ruleDef{
		{"add_image", adminOrMemberCreateImage, deprecatedDefault, "Create an image record (POST /v2/images); owner is the proposed owner."},
		{"get_image", adminOrReaderGetImage, deprecatedDefault, "Show one image; an image refused here is reported as not found."},
		{"get_images", adminOrProjectReader, deprecatedDefault, "List images (GET /v2/images); every row is then checked with get_image."},
		{"modify_image", adminOrProjectMember, deprecatedDefault, "Change an image: PATCH, tags, staging and import."},
		{"publicize_image", "role:admin", "", "Make an image public, at creation or by PATCH."},
		{"communitize_image", adminOrProjectMember, deprecatedDefault, "Make an image community, at creation or by PATCH."},
		{"delete_image", adminOrProjectMember, deprecatedDefault, "Delete an image."},
		{"download_image", adminOrMemberDownloadImage, deprecatedDefault, "Download image data (GET /v2/images/{id}/file)."},
		{"upload_image", adminOrProjectMember, deprecatedDefault, "Upload image data (PUT /v2/images/{id}/file)."},
		{"deactivate", adminOrProjectMember, deprecatedDefault, "Deactivate an image, hiding its data from non-admins."},
		{"reactivate", adminOrProjectMember, deprecatedDefault, "Reactivate a deactivated image."},
		{"copy_image", "role:admin", "", "Copy an image's data into further stores (import method copy-image)."},
		{"get_image_location", adminOrProjectReader, deprecatedDefault, "Read an image's data locations."},
		{"set_image_location", adminOrProjectMember, deprecatedDefault, "Add or replace an image's data locations."},
		{"delete_image_location", "role:admin", deprecatedDefault, "Remove an image's data location, or its copy in one store."},
		{"add_image_location", "rule:service_api or (" + projectMember + " and project_id:%(owner)s)", "",
			"Add a location to a queued image (POST /v2/images/{id}/locations, Glance 2024.2)."},
		{"fetch_image_location", "rule:service_api", "", "List an image's locations (GET /v2/images/{id}/locations, Glance 2024.2)."},
	}},
	{"Image members (sharing)", []ruleDef{
		{"add_member", adminOrProjectMember, deprecatedDefault, "Share an image with another project."},
		{"get_member", adminOrReaderOrSharedMember, deprecatedDefault, "Show one member of an image; a refusal is reported as not found."},
		{"get_members", adminOrReaderOrSharedMember, deprecatedDefault, "List the members of an image."},
		{"modify_member", adminOrSharedMember, deprecatedDefault, "Accept, reject or reset a share; meant for the member project."},
		{"delete_member", adminOrProjectMember, deprecatedDefault, "Stop sharing an image with a project."},
	}},
	{"Tasks and discovery", []ruleDef{
		{"get_task", deprecatedDefault, "", "Show one task."},
		{"get_tasks", deprecatedDefault, "", "List tasks."},
		{"add_task", deprecatedDefault, "", "Create a task."},
		{"modify_task", deprecatedDefault, "", "Change a task."},
		{"tasks_api_access", "role:admin", "", "Use the tasks API at all; checked before the task rules."},
		{"stores_info_detail", "role:admin", "", "See store details (GET /v2/info/stores/detail)."},
	}},
	{"Image cache", []ruleDef{
		{"manage_image_cache", "role:admin", "", "Manage the image cache (older rule the cache_* rules fall back to)."},
		{"cache_image", "role:admin", "rule:manage_image_cache", "Queue an image for caching."},
		{"cache_list", "role:admin", "rule:manage_image_cache", "List cached and queued images."},
		{"cache_delete", "role:admin", "rule:manage_image_cache", "Remove images from the cache or the queue."},
		{"cache_prune", "role:admin", "", "Prune the cache to its size (POST /v2/cache/prune, Glance 2026.1)."},
	}},
	{"Metadata definitions", metadefRules()},
}

// metadefRules are the metadata-definition catalog rules: reads follow
// the namespace's owner and visibility, writes are admin-only.
func metadefRules() []ruleDef {
	rules := []ruleDef{
		{"metadef_default", "", "", "What metadef reads fell back to before project scoping."},
		{"metadef_admin", "role:admin", "", "Who may change the metadef catalog."},
		{"get_metadef_namespaces", adminOrProjectReader, deprecatedMetadefDefault, "List metadef namespaces."},
	}
	for _, r := range []struct{ name, what string }{
		{"get_metadef_namespace", "Show a metadef namespace."},
		{"get_metadef_objects", "List the objects of a namespace."},
		{"get_metadef_object", "Show a metadef object."},
		{"list_metadef_resource_types", "List metadef resource types."},
		{"get_metadef_resource_type", "Show a namespace's resource type associations."},
		{"get_metadef_properties", "List the properties of a namespace."},
		{"get_metadef_property", "Show a metadef property."},
		{"get_metadef_tags", "List the tags of a namespace."},
		{"get_metadef_tag", "Show a metadef tag."},
	} {
		rules = append(rules, ruleDef{r.name, adminOrReaderGetNamespace, deprecatedMetadefDefault, r.what})
	}
	for _, r := range []struct{ name, what string }{
		{"add_metadef_namespace", "Create a metadef namespace."},
		{"modify_metadef_namespace", "Change a metadef namespace."},
		{"delete_metadef_namespace", "Delete a metadef namespace."},
		{"add_metadef_object", "Create a metadef object."},
		{"modify_metadef_object", "Change a metadef object."},
		{"delete_metadef_object", "Delete a metadef object."},
		{"add_metadef_resource_type_association", "Associate a resource type with a namespace."},
		{"remove_metadef_resource_type_association", "Remove a resource type association."},
		{"add_metadef_property", "Create a metadef property."},
		{"modify_metadef_property", "Change a metadef property."},
		{"remove_metadef_property", "Delete a metadef property."},
		{"add_metadef_tag", "Create one metadef tag."},
		{"add_metadef_tags", "Create metadef tags in bulk."},
		{"modify_metadef_tag", "Change a metadef tag."},
		{"delete_metadef_tag", "Delete one metadef tag."},
		{"delete_metadef_tags", "Delete all tags of a namespace."},
	} {
		rules = append(rules, ruleDef{r.name, "rule:metadef_admin", "", r.what})
	}
	return rules
}

// Legacy guards: Glance Zed (enforce_secure_rbac=false) runs hard-coded
// ownership checks after the policy rule, in glance/api/v2/policy.py
// (check_is_image_mutable, check_admin_or_same_owner) and
// glance/api/v2/image_members.py (_check_visibility_and_ownership). glint
// writes them as rules so an operator can see and change them, but keeps
// them apart from the action's own rule, as Glance does: an old policy
// file that sets "modify_image": "" must not let anyone change anyone's
// public image. They exist only under the legacy defaults.
const (
	guardImageOwner  = "glint:legacy_image_owner"
	guardCreateOwner = "glint:legacy_create_owner"
	guardNotOwner    = "glint:legacy_member_status_not_owner"
)

var legacyGuards = section{"Zed hard-coded ownership checks (legacy defaults only)", []ruleDef{
	{guardImageOwner, "is_admin:True or project_id:%(project_id)s", "",
		"Glance Zed lets only an admin or the owning project change, delete, upload to, (de)activate or share an image; applies after the action's rule."},
	{guardCreateOwner, "is_admin:True or project_id:%(owner)s", "",
		"Glance Zed lets only an admin create an image owned by another project; applies after add_image."},
	{guardNotOwner, "is_admin:True or not project_id:%(project_id)s", "",
		"Glance Zed refuses the owning project when it answers a share for a member; applies after modify_member."},
}}

// guardFor maps an action to the legacy guard checked after its rule.
var guardFor = map[string]string{
	"add_image":             guardCreateOwner,
	"modify_image":          guardImageOwner,
	"delete_image":          guardImageOwner,
	"upload_image":          guardImageOwner,
	"deactivate":            guardImageOwner,
	"reactivate":            guardImageOwner,
	"set_image_location":    guardImageOwner,
	"delete_image_location": guardImageOwner,
	"add_member":            guardImageOwner,
	"delete_member":         guardImageOwner,
	"modify_member":         guardNotOwner,
}

// defaultRules returns the default rule texts for one set.
func defaultRules(newDefaults bool) map[string]string {
	out := map[string]string{}
	for _, s := range defaultSections(newDefaults) {
		for _, r := range s.rules {
			if newDefaults {
				out[r.name] = r.check
			} else {
				out[r.name] = r.legacy()
			}
		}
	}
	return out
}

func defaultSections(newDefaults bool) []section {
	if newDefaults {
		return sections
	}
	return append(append([]section{}, sections...), legacyGuards)
}

// actions are the names Allow accepts: every default rule except the
// helpers other rules refer to.
var actions = func() map[string]bool {
	helpers := map[string]bool{"default": true, "context_is_admin": true, "metadef_default": true, "metadef_admin": true}
	out := map[string]bool{}
	for _, s := range sections {
		for _, r := range s.rules {
			if !helpers[r.name] {
				out[r.name] = true
			}
		}
	}
	return out
}()

// DefaultsYAML renders one default set as a policy file, each rule with a
// comment saying what it guards, for `glint policy defaults`.
func DefaultsYAML(newDefaults bool) []byte {
	var b bytes.Buffer
	set := "Zed legacy defaults (Glance 25 with enforce_new_defaults=false)"
	if newDefaults {
		set = "project-scoped reader/member/admin defaults (Glance's enforce_new_defaults=true)"
	}
	fmt.Fprintf(&b, "# glint image API policy: %s.\n", set)
	b.WriteString("# oslo.policy syntax. Copy the rules you want to change into the file named by\n")
	b.WriteString("# --policy-file; rules left out keep these defaults.\n")
	if !newDefaults {
		b.WriteString("# Under these defaults most rules accept anyone (\"or rule:default\"); ownership\n")
		b.WriteString("# is enforced by the glint:legacy_* rules at the end, as Glance's hard-coded checks do.\n")
	}
	for _, s := range defaultSections(newDefaults) {
		fmt.Fprintf(&b, "\n# --- %s ---\n", s.title)
		for _, r := range s.rules {
			text := r.check
			if !newDefaults {
				text = r.legacy()
			}
			fmt.Fprintf(&b, "\n# %s\n%s: %s\n", r.desc, strconv.Quote(r.name), strconv.Quote(text))
		}
	}
	return b.Bytes()
}
