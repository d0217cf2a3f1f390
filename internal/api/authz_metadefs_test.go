package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
)

// The authorization matrix of the metadata definitions API: every route ×
// a public and a private namespace of project proj-a × five callers,
// under the Zed legacy defaults and the project-scoped ones. Every
// expected status was observed on a real Glance 25 given the same
// requests in both modes (enforce_new_defaults false, and true with
// enforce_secure_rbac): reads follow the namespace's visibility, writes
// are admin-only (metadef_admin), and a namespace the caller may not see
// is 404 whatever the route. Under the new defaults a caller without the
// reader role reads nothing and gets 404 throughout.

var mdNoRole = caller{"caller without roles", "proj-a", "user-n", "foo"}

var mdCallers = []caller{ownerMember, ownerReader, otherMember, mdNoRole, cloudAdmin}

// mdRoute is one call on namespace NS. ok is its success status; write
// marks the admin-only routes.
type mdRoute struct {
	name, method, path, body string
	ok                       int
	write                    bool
}

var mdMatrix = []mdRoute{
	{name: "list presence", method: "LIST", ok: 200},
	{name: "show", method: "GET", ok: 200},
	{name: "update", method: "PUT", body: `{"namespace":"NS","visibility":"VIS","owner":"proj-a"}`, ok: 200, write: true},
	{name: "delete", method: "DELETE", ok: 204, write: true},
	{name: "delete objects", method: "DELETE", path: "/objects", ok: 204, write: true},
	{name: "delete properties", method: "DELETE", path: "/properties", ok: 204, write: true},
	{name: "delete tags", method: "DELETE", path: "/tags", ok: 204, write: true},
	{name: "list objects", method: "GET", path: "/objects", ok: 200},
	{name: "create object", method: "POST", path: "/objects", body: `{"name":"o2"}`, ok: 201, write: true},
	{name: "show object", method: "GET", path: "/objects/o", ok: 200},
	{name: "update object", method: "PUT", path: "/objects/o", body: `{"name":"o"}`, ok: 200, write: true},
	{name: "delete object", method: "DELETE", path: "/objects/o", ok: 204, write: true},
	{name: "list properties", method: "GET", path: "/properties", ok: 200},
	{name: "create property", method: "POST", path: "/properties", body: `{"name":"p2","type":"string","title":"P2"}`, ok: 201, write: true},
	{name: "show property", method: "GET", path: "/properties/p", ok: 200},
	{name: "show prefixed property", method: "GET", path: "/properties/m_p?resource_type=OS::Glance::Image", ok: 200},
	{name: "update property", method: "PUT", path: "/properties/p", body: `{"name":"p","type":"string","title":"P"}`, ok: 200, write: true},
	{name: "delete property", method: "DELETE", path: "/properties/p", ok: 204, write: true},
	{name: "list tags", method: "GET", path: "/tags", ok: 200},
	{name: "create tags", method: "POST", path: "/tags", body: `{"tags":[{"name":"t2"}]}`, ok: 201, write: true},
	{name: "create tag", method: "POST", path: "/tags/t3", ok: 201, write: true},
	{name: "show tag", method: "GET", path: "/tags/t", ok: 200},
	{name: "update tag", method: "PUT", path: "/tags/t", body: `{"name":"t"}`, ok: 200, write: true},
	{name: "delete tag", method: "DELETE", path: "/tags/t", ok: 204, write: true},
	{name: "list associations", method: "GET", path: "/resource_types", ok: 200},
	{name: "create association", method: "POST", path: "/resource_types", body: `{"name":"OS::Nova::Flavor"}`, ok: 201, write: true},
	{name: "delete association", method: "DELETE", path: "/resource_types/OS::Glance::Image", ok: 204, write: true},
}

// mdWant is the status Glance answers route r on a namespace of
// visibility vis to c.
func mdWant(r mdRoute, vis string, c caller, newDefaults bool) int {
	hidden := vis == "private" && c.project != "proj-a" && c != cloudAdmin
	switch {
	case newDefaults && c == mdNoRole:
		return 404
	case r.method == "LIST" && hidden:
		return absent
	case hidden:
		return 404
	case r.write && c != cloudAdmin:
		return 403
	}
	return r.ok
}

func TestMetadefAuthzMatrix(t *testing.T) {
	for _, mode := range []struct {
		name        string
		newDefaults bool
	}{{"zed-legacy-defaults", false}, {"new-defaults", true}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			e := newEnvConfig(t, func(c *config.Config) { c.PolicyNewDefaults = mode.newDefaults })
			for _, vis := range []string{"public", "private"} {
				ns := "mx-" + vis
				for _, r := range mdMatrix {
					for _, c := range mdCallers {
						e.mdMatrixNamespace(ns, vis)
						got, body := e.mdMatrixCall(c, r, ns, vis)
						if want := mdWant(r, vis, c, mode.newDefaults); got != want {
							t.Errorf("%s on a %s namespace by the %s: got %d, want %d (%.200s)", r.name, vis, c.name, got, want, strings.TrimSpace(body))
						}
					}
				}
			}
			// Routes without a namespace.
			for _, c := range mdCallers {
				wantList, wantCreate := 200, 403
				if c == cloudAdmin {
					wantCreate = 201
				}
				if mode.newDefaults && c == mdNoRole {
					wantList, wantCreate = 404, 404
				}
				if got, body := e.as(c, "GET", "/v2/metadefs/resource_types", "", ""); got != wantList {
					t.Errorf("list resource types by the %s: %d, want %d (%.200s)", c.name, got, wantList, body)
				}
				e.as(cloudAdmin, "DELETE", mdNS+"/mx-new", "", "")
				if got, body := e.as(c, "POST", mdNS, "application/json", `{"namespace":"mx-new","owner":"proj-a"}`); got != wantCreate {
					t.Errorf("create namespace by the %s: %d, want %d (%.200s)", c.name, got, wantCreate, body)
				}
				if got, _ := e.as(c, "GET", "/v2/schemas/metadefs/namespace", "", ""); got != 200 {
					t.Errorf("schema by the %s: %d", c.name, got)
				}
			}
		})
	}
}

// mdMatrixNamespace (re)creates namespace ns of proj-a with one of each
// kind of content.
func (e *env) mdMatrixNamespace(ns, vis string) {
	e.t.Helper()
	e.as(cloudAdmin, "PUT", mdNS+"/"+ns, "application/json", `{"namespace":"`+ns+`"}`)
	e.as(cloudAdmin, "DELETE", mdNS+"/"+ns, "", "")
	status, body := e.as(cloudAdmin, "POST", mdNS, "application/json", `{"namespace":"`+ns+`","visibility":"`+vis+`","owner":"proj-a",
		"resource_type_associations":[{"name":"OS::Glance::Image","prefix":"m_"}],
		"properties":{"p":{"type":"string","title":"P"}},
		"objects":[{"name":"o","properties":{"q":{"type":"string","title":"Q"}}}],
		"tags":[{"name":"t"}]}`)
	e.must(status, 201, "create namespace "+ns, body)
}

func (e *env) mdMatrixCall(c caller, r mdRoute, ns, vis string) (int, string) {
	if r.method == "LIST" {
		status, body := e.as(c, "GET", mdNS+"?resource_types=OS::Glance::Image&limit=1000", "", "")
		if status != 200 {
			return status, body
		}
		var page struct{ Namespaces []struct{ Namespace string } }
		if err := json.Unmarshal([]byte(body), &page); err != nil {
			e.t.Fatalf("list: %v", err)
		}
		for _, n := range page.Namespaces {
			if n.Namespace == ns {
				return listed, ""
			}
		}
		return absent, ""
	}
	ctype, body := "", ""
	if r.body != "" {
		ctype, body = "application/json", strings.NewReplacer("NS", ns, "VIS", vis).Replace(r.body)
	}
	return e.as(c, r.method, mdNS+"/"+ns+r.path, ctype, body)
}
