package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// The authorization matrix: every Image API route × the image's
// visibility as the caller meets it × the kind of caller, under Glance's
// Zed legacy defaults and under the project-scoped defaults. The images
// belong to project proj-a; the shared ones are shared with proj-b, whose
// membership is accepted, pending or rejected.

// caller is one identity, sent as keystonemiddleware's headers. Keystone
// puts implied roles in tokens (admin ⇒ member ⇒ reader), so the role
// lists carry them as a real deployment's would.
type caller struct {
	name, project, user, roles string
}

var (
	ownerMember = caller{"owner-project member", "proj-a", "user-a", "member,reader"}
	ownerReader = caller{"owner-project reader", "proj-a", "user-r", "reader"}
	otherMember = caller{"other-project member", "proj-b", "user-b", "member,reader"}
	cloudAdmin  = caller{"admin", "proj-admin", "user-admin", "admin,member,reader"}
	matrixCalls = []caller{ownerMember, ownerReader, otherMember, cloudAdmin}
)

// The visibilities, in the order of every expectation row.
var matrixVis = []string{"private", "shared-accepted", "shared-pending", "shared-rejected", "community", "public"}

// statuses holds one expected status per visibility, in matrixVis order.
type statuses [6]int

// absent and listed are the "list presence" outcomes: whether the image is
// in the caller's default GET /v2/images.
const (
	absent = 0
	listed = 200
)

func all(n int) statuses { return statuses{n, n, n, n, n, n} }

// seen is n wherever the other project can see the image, 404 on the
// private one (glance/db/utils.py is_image_visible).
func seen(n int) statuses { return statuses{404, n, n, n, n, n} }

// sharedOr is n on the shared images and m on the others.
func sharedOr(n, m int) statuses { return statuses{m, n, n, n, m, m} }

// seenShared is sharedOr for the other project, which cannot see the
// private image at all.
func seenShared(n, m int) statuses { return statuses{404, n, n, n, m, m} }

// route is one API call and what each caller gets, indexed like
// matrixCalls.
type route struct {
	name   string
	state  string // the image's status before the call
	method string
	path   string // after /v2/images/{id}
	ctype  string
	body   string
	legacy [4]statuses
	fresh  *[4]statuses // under the new defaults, when they differ
}

func byCaller(owner, reader, other, admin statuses) [4]statuses {
	return [4]statuses{owner, reader, other, admin}
}

func differs(owner, reader, other, admin statuses) *[4]statuses {
	s := byCaller(owner, reader, other, admin)
	return &s
}

const patchType = "application/openstack-images-v2.1-json-patch"

var matrix = []route{
	// get_image: Zed rule:default; new ADMIN_OR_PROJECT_READER_GET_IMAGE
	// (reader and owner, member, community, public or shared). Members in
	// any status may fetch by id; the database hides private images.
	{name: "show", state: "active", method: "GET",
		legacy: byCaller(all(200), all(200), seen(200), all(200))},
	// get_images then get_image per row: Zed rule:default; new
	// ADMIN_OR_PROJECT_READER. The rows are the database's default list:
	// own images, public ones, accepted shares; community only when owned;
	// an admin sees every project's non-community images.
	{name: "list presence", state: "active", method: "LIST",
		legacy: byCaller(all(listed), all(listed),
			statuses{absent, listed, absent, absent, absent, listed},
			statuses{listed, listed, listed, listed, absent, listed})},
	// modify_image: Zed rule:default plus check_is_image_mutable (admin or
	// owner project, whatever the role); new ADMIN_OR_PROJECT_MEMBER.
	{name: "patch name", state: "active", method: "PATCH", ctype: patchType,
		body:   `[{"op": "replace", "path": "/name", "value": "renamed"}]`,
		legacy: byCaller(all(200), all(200), seen(403), all(200)),
		fresh:  differs(all(200), all(403), seen(403), all(200))},
	// publicize_image: role:admin in both sets, checked whenever a request
	// asks for public, even on an image that already is.
	{name: "patch visibility public", state: "active", method: "PATCH", ctype: patchType,
		body:   `[{"op": "replace", "path": "/visibility", "value": "public"}]`,
		legacy: byCaller(all(403), all(403), seen(403), all(200))},
	// communitize_image: Zed rule:default (ownership comes from
	// modify_image); new ADMIN_OR_PROJECT_MEMBER.
	{name: "patch visibility community", state: "active", method: "PATCH", ctype: patchType,
		body:   `[{"op": "replace", "path": "/visibility", "value": "community"}]`,
		legacy: byCaller(all(200), all(200), seen(403), all(200)),
		fresh:  differs(all(200), all(403), seen(403), all(200))},
	// delete_image, upload_image, deactivate, reactivate and the tag calls
	// (modify_image): Zed rule:default plus check_is_image_mutable; new
	// ADMIN_OR_PROJECT_MEMBER.
	{name: "delete", state: "active", method: "DELETE",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	{name: "upload", state: "queued", method: "PUT", path: "/file", ctype: "application/octet-stream", body: "image bytes",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	{name: "deactivate", state: "active", method: "POST", path: "/actions/deactivate",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	{name: "reactivate", state: "deactivated", method: "POST", path: "/actions/reactivate",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	{name: "tag add", state: "active", method: "PUT", path: "/tags/added",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	{name: "tag remove", state: "active", method: "DELETE", path: "/tags/t1",
		legacy: byCaller(all(204), all(204), seen(403), all(204)),
		fresh:  differs(all(204), all(403), seen(403), all(204))},
	// download_image: Zed rule:default; new
	// ADMIN_OR_PROJECT_MEMBER_DOWNLOAD_IMAGE, which wants role member, so
	// an owner-project reader sees the image but gets no data.
	{name: "download", state: "active", method: "GET", path: "/file",
		legacy: byCaller(all(200), all(200), seen(200), all(200)),
		fresh:  differs(all(200), all(403), seen(200), all(200))},
	// get_members: Zed rule:default; new
	// ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER. Only shared images have
	// members (403 otherwise, image_members.py).
	{name: "member list", state: "active", method: "GET", path: "/members",
		legacy: byCaller(sharedOr(200, 403), sharedOr(200, 403), seenShared(200, 403), sharedOr(200, 403))},
	// add_member: Zed rule:default plus the owner-only check in
	// _check_visibility_and_ownership; new ADMIN_OR_PROJECT_MEMBER.
	{name: "member add", state: "active", method: "POST", path: "/members", ctype: "application/json",
		body:   `{"member": "proj-c"}`,
		legacy: byCaller(sharedOr(200, 403), sharedOr(200, 403), seen(403), sharedOr(200, 403)),
		fresh:  differs(sharedOr(200, 403), all(403), seen(403), sharedOr(200, 403))},
	// get_member: Zed rule:default; new
	// ADMIN_OR_PROJECT_READER_OR_SHARED_MEMBER; every refusal is 404.
	{name: "member show", state: "active", method: "GET", path: "/members/proj-b",
		legacy: byCaller(sharedOr(200, 404), sharedOr(200, 404), seenShared(200, 404), sharedOr(200, 404))},
	// modify_member: Zed rule:default plus "the owner may not set the
	// status"; new ADMIN_OR_SHARED_MEMBER (the member project itself).
	{name: "member update", state: "active", method: "PUT", path: "/members/proj-b", ctype: "application/json",
		body:   `{"status": "accepted"}`,
		legacy: byCaller(all(403), all(403), seenShared(200, 403), sharedOr(200, 403))},
	// delete_member: Zed rule:default plus the owner-only check; new
	// ADMIN_OR_PROJECT_MEMBER.
	{name: "member delete", state: "active", method: "DELETE", path: "/members/proj-b",
		legacy: byCaller(sharedOr(204, 403), sharedOr(204, 403), seen(403), sharedOr(204, 403)),
		fresh:  differs(sharedOr(204, 403), all(403), seen(403), sharedOr(204, 403))},
}

func TestAuthzMatrix(t *testing.T) {
	for _, mode := range []struct {
		name        string
		newDefaults bool
	}{{"zed-legacy-defaults", false}, {"new-defaults", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvConfig(t, func(c *config.Config) { c.PolicyNewDefaults = mode.newDefaults })
			// Calls that change nothing share one image per visibility
			// and state; the others get a fresh one each.
			reused := map[string]string{}
			for _, r := range matrix {
				want := r.legacy
				if mode.newDefaults && r.fresh != nil {
					want = *r.fresh
				}
				for ci, c := range matrixCalls {
					for vi, vis := range matrixVis {
						var id string
						if r.method == "GET" || r.method == "LIST" {
							key := vis + "/" + r.state
							if reused[key] == "" {
								reused[key] = e.matrixImage(vis, r.state)
							}
							id = reused[key]
						} else {
							id = e.matrixImage(vis, r.state)
						}
						got, body := e.matrixCall(c, r, id)
						if got != want[ci][vi] {
							t.Errorf("%s on a %s image by the %s: got %d, want %d (%.200s)",
								r.name, vis, c.name, got, want[ci][vi], strings.TrimSpace(body))
						}
					}
				}
			}
		})
	}
}

// matrixCall makes route r's request on image id as c. For "list
// presence" it returns listed or absent.
func (e *env) matrixCall(c caller, r route, id string) (int, string) {
	if r.method == "LIST" {
		status, body := e.as(c, "GET", "/v2/images?limit=1000", "", "")
		if status != 200 {
			return status, body
		}
		if strings.Contains(body, id) {
			return listed, ""
		}
		return absent, ""
	}
	return e.as(c, r.method, "/v2/images/"+id+r.path, r.ctype, r.body)
}

// matrixImage makes an image owned by proj-a with the visibility vis
// and the status state ("queued", "active" or "deactivated"), tagged t1.
func (e *env) matrixImage(vis, state string) string {
	e.t.Helper()
	visibility, answer, _ := strings.Cut(vis, "-")
	creator, owner := ownerMember, ""
	if visibility == "public" {
		// publicize_image is admin-only in both sets.
		creator, owner = cloudAdmin, `"owner": "proj-a", `
	}
	body := fmt.Sprintf(`{%s"name": "matrix", "disk_format": "raw", "container_format": "bare", "tags": ["t1"], "visibility": %q}`, owner, visibility)
	status, resp := e.as(creator, "POST", "/v2/images", "application/json", body)
	e.must(status, 201, "create", resp)
	var img struct{ ID string }
	if err := json.Unmarshal([]byte(resp), &img); err != nil || img.ID == "" {
		e.t.Fatalf("create answer %q: %v", resp, err)
	}
	if state != "queued" {
		status, resp = e.as(ownerMember, "PUT", "/v2/images/"+img.ID+"/file", "application/octet-stream", "image bytes")
		e.must(status, 204, "upload", resp)
	}
	if state == "deactivated" {
		status, resp = e.as(cloudAdmin, "POST", "/v2/images/"+img.ID+"/actions/deactivate", "", "")
		e.must(status, 204, "deactivate", resp)
	}
	if answer != "" {
		status, resp = e.as(ownerMember, "POST", "/v2/images/"+img.ID+"/members", "application/json", `{"member": "proj-b"}`)
		e.must(status, 200, "share", resp)
	}
	if answer == "accepted" || answer == "rejected" {
		status, resp = e.as(otherMember, "PUT", "/v2/images/"+img.ID+"/members/proj-b", "application/json",
			fmt.Sprintf(`{"status": %q}`, answer))
		e.must(status, 200, "answer the share", resp)
	}
	return img.ID
}

func (e *env) must(got, want int, what, body string) {
	e.t.Helper()
	if got != want {
		e.t.Fatalf("setting up: %s: %d, want %d: %s", what, got, want, body)
	}
}

// as sends one request with c's identity headers and returns the status
// and body.
func (e *env) as(c caller, method, path, ctype, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-Project-Id", c.project)
	req.Header.Set("X-User-Id", c.user)
	req.Header.Set("X-Roles", c.roles)
	req.Header.Set("Accept", "application/json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
