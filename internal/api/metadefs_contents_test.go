package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/metadef"
)

// contentsEnv is a server with a public namespace c1 (associated with
// images, prefix img_) and a private one, c2, both the admin's.
func contentsEnv(t *testing.T) *env {
	e := newEnv(t)
	e.md(t, "admin", "POST", mdNS, `{"namespace":"c1","visibility":"public","resource_type_associations":[{"name":"OS::Glance::Image","prefix":"img_"}]}`, 201)
	e.md(t, "admin", "POST", mdNS, `{"namespace":"c2"}`, 201)
	return e
}

func TestMetadefObjects(t *testing.T) {
	e := contentsEnv(t)
	o := mdNS + "/c1/objects"
	wantBody(t, "create", e.md(t, "admin", "POST", o, `{"name":"o1","description":"d","required":["a"],"properties":{"a":{"type":"string","title":"A","default":3}}}`, 201),
		`{"name":"o1","required":["a"],"description":"d","properties":{"a":{"type":"string","title":"A","default":"3"}},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o1","schema":"/v2/schemas/metadefs/object"}`)
	wantBody(t, "create without lists", e.md(t, "admin", "POST", o, `{"name":"o3"}`, 201),
		`{"name":"o3","created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o3","schema":"/v2/schemas/metadefs/object"}`)
	e.mdError(t, "admin", "POST", o, `{"name":"o1"}`, 409, "A metadata definition object with name=o1 already exists in namespace=c1.")
	e.mdError(t, "admin", "POST", o, `{"name":"o2","properties":{"a":{"type":"string"}}}`, 400,
		"Provided object does not match schema 'object': 'title' is a required property\n\nFailed validating 'required' in schema['properties']['properties']['additionalProperties']\n\nOn instance['properties']['a']:")
	e.mdError(t, "admin", "POST", o, `{"name":"o2","properties":{"a":{"type":"string","title":"t","foo":1}}}`, 400,
		"Provided object does not match schema 'property': Additional properties are not allowed ('foo' was unexpected)")
	e.mdError(t, "admin", "POST", o, `{"description":"x"}`, 400, "Provided object does not match schema 'object': 'name' is a required property")
	e.mdError(t, "admin", "POST", o, `{"name":"o4","self":"x"}`, 403, "Attribute 'self' is read-only.")
	e.mdError(t, "admin", "POST", o, `{"name":"\ud83d\ude93"}`, 400, "Couldn't create metadata object: Name can't contain 4 byte unicode characters.")
	e.mdError(t, "admin", "POST", mdNS+"/nope/objects", `{"name":"o"}`, 404, "Metadata definition namespace=nope was not found.")
	e.mdError(t, "other", "POST", mdNS+"/c2/objects", `{"name":"o"}`, 404, "Namespace c2 not found")
	e.mdError(t, "owner", "POST", o, `{"name":"o9"}`, 403, "You are not authorized to complete add_metadef_object action.")

	list := e.md(t, "owner", "GET", o, "", 200)
	wantBody(t, "list", list, `{"objects":[`+
		`{"name":"o1","required":["a"],"description":"d","properties":{"a":{"type":"string","title":"A","default":"3"}},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o1","schema":"/v2/schemas/metadefs/object"},`+
		`{"name":"o3","required":[],"properties":{},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o3","schema":"/v2/schemas/metadefs/object"}],`+
		`"schema":"v2/schemas/metadefs/objects"}`)
	// Paging parameters are checked, not applied.
	if got := e.md(t, "owner", "GET", o+"?limit=1&sort_dir=asc", "", 200); got != list {
		t.Errorf("paging parameters changed the object list: %s", got)
	}
	e.mdError(t, "owner", "GET", o+"?limit=0", "", 400, "limit param must be positive")
	e.mdError(t, "owner", "GET", o+"?limit=x", "", 400, "limit param must be an integer")
	e.mdError(t, "owner", "GET", o+"?sort_dir=up", "", 400, "Invalid sort direction: up")
	e.mdError(t, "owner", "GET", o+"?visibility=x", "", 400, "Invalid visibility value: x")
	e.mdError(t, "other", "GET", mdNS+"/c2/objects", "", 404, "Namespace c2 not found")

	e.mdError(t, "owner", "GET", o+"/nope", "", 404, "Could not find metadata object nope")
	e.mdError(t, "other", "GET", mdNS+"/c2/objects/o1", "", 404, "Namespace c2 not found")

	// Update replaces every field; its answer shows what the body gave.
	wantBody(t, "update", e.md(t, "admin", "PUT", o+"/o1", `{"name":"o1b"}`, 200),
		`{"name":"o1b","created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o1b","schema":"/v2/schemas/metadefs/object"}`)
	wantBody(t, "after update", e.md(t, "owner", "GET", o+"/o1b", "", 200),
		`{"name":"o1b","required":[],"properties":{},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/c1/objects/o1b","schema":"/v2/schemas/metadefs/object"}`)
	e.mdError(t, "admin", "PUT", o+"/o1b", `{"name":"o3"}`, 409, "Invalid update. It would result in a duplicate metadata definition object with the same name=o1b in namespace=c1.")
	e.mdError(t, "admin", "PUT", o+"/nope", `{"name":"x"}`, 404, "Could not find metadata object nope")
	e.mdError(t, "admin", "PUT", o+"/o1b", `{"name":"o1b","properties":{"z":{"type":"string"}}}`, 400, "Provided object does not match schema 'object': 'title' is a required property")
	e.mdError(t, "owner", "PUT", o+"/o1b", `{"name":"x"}`, 403, "You are not authorized to complete modify_metadef_object action.")
	e.md(t, "admin", "PUT", o+"/o1b", `{"name":"o1b","description":"new","required":["z"],"properties":{"z":{"type":"string","title":"Z"}}}`, 200)

	e.mdError(t, "owner", "DELETE", o+"/o3", "", 403, "You are not authorized to complete delete_metadef_object action.")
	e.md(t, "admin", "DELETE", o+"/o3", "", 204)
	e.mdError(t, "admin", "DELETE", o+"/o3", "", 404, "Could not find metadata object o3")
	e.mdError(t, "admin", "GET", o+"/o3", `{}`, 400, "A body is not expected with this request.")

	// Shown with the images' prefix.
	if got := e.md(t, "owner", "GET", mdNS+"/c1?resource_type=OS::Glance::Image", "", 200); !strings.Contains(got, `"required":["img_z"],"description":"new","properties":{"img_z":`) {
		t.Errorf("prefixed object: %s", got)
	}
}

func TestMetadefProperties(t *testing.T) {
	e := contentsEnv(t)
	p := mdNS + "/c1/properties"
	// The default is kept as text, as Glance's model types it.
	wantBody(t, "create", e.md(t, "admin", "POST", p, `{"name":"p1","type":"integer","title":"P","minimum":1,"maximum":10,"default":5,"readonly":false,"operators":["<or>"]}`, 201),
		`{"name":"p1","type":"integer","title":"P","operators":["\u003cor\u003e"],"default":"5","readonly":false,"minimum":1,"maximum":10}`)
	e.md(t, "admin", "POST", p, `{"name":"p2","type":"array","title":"A","items":{"type":"string","enum":["a","b"]},"uniqueItems":true,"minItems":1,"maxItems":3}`, 201)
	wantBody(t, "boolean default", e.md(t, "admin", "POST", p, `{"name":"p4","type":"boolean","title":"B","default":true}`, 201),
		`{"name":"p4","type":"boolean","title":"B","default":"True"}`)
	// glint keeps numbers as given; Glance's model cuts 0.5 to 0.
	wantBody(t, "number bounds", e.md(t, "admin", "POST", p, `{"name":"p3","type":"number","title":"N","minimum":0.5,"maximum":2.5}`, 201),
		`{"name":"p3","type":"number","title":"N","minimum":0.5,"maximum":2.5}`)
	e.md(t, "admin", "POST", p, `{"name":"p6","type":"object","title":"O"}`, 201)

	e.mdError(t, "admin", "POST", p, `{"name":"p1","type":"string","title":"P"}`, 409, "A metadata definition property with name=p1 already exists in namespace=c1.")
	e.mdError(t, "admin", "POST", p, `{"type":"string","title":"P"}`, 400, "Provided object does not match schema 'property': 'name' is a required property")
	e.mdError(t, "admin", "POST", p, `{"name":"p5","type":"string","title":"S","confidential":true}`, 400, "Provided object does not match schema 'property': Additional properties are not allowed ('confidential' was unexpected)")
	e.mdError(t, "admin", "POST", p, `{"name":"p7","type":"string","title":"S","created_at":"x"}`, 403, "Attribute 'created_at' is read-only.")
	e.mdError(t, "admin", "POST", p, `{"name":"p7","type":"string","title":"S","self":"x"}`, 400, "Provided object does not match schema 'property': Additional properties are not allowed ('self' was unexpected)")
	e.mdError(t, "admin", "POST", p, `{"name":"p7","type":"string","title":"\ud83d\ude93"}`, 400, "Couldn't create metadata property: Title can't contain 4 byte unicode characters.")
	e.mdError(t, "admin", "POST", p, `{"name":"p7","type":"string","title":"S","required":[]}`, 400, "Provided object does not match schema 'property': [] is too short")
	e.mdError(t, "owner", "POST", p, `{"name":"p8","type":"string","title":"S"}`, 403, "You are not authorized to complete add_metadef_property action.")
	e.mdError(t, "admin", "POST", mdNS+"/nope/properties", `{"name":"p8","type":"string","title":"S"}`, 404, "Namespace nope not found")

	wantBody(t, "list", e.md(t, "owner", "GET", p, "", 200), `{"properties":{`+
		`"p1":{"name":"p1","type":"integer","title":"P","operators":["\u003cor\u003e"],"default":"5","readonly":false,"minimum":1,"maximum":10},`+
		`"p2":{"name":"p2","type":"array","title":"A","items":{"type":"string","enum":["a","b"]},"uniqueItems":true,"minItems":1,"maxItems":3},`+
		`"p4":{"name":"p4","type":"boolean","title":"B","default":"True"},`+
		`"p3":{"name":"p3","type":"number","title":"N","minimum":0.5,"maximum":2.5},`+
		`"p6":{"name":"p6","type":"object","title":"O"}}}`)
	e.mdError(t, "other", "GET", mdNS+"/c2/properties", "", 404, "Namespace c2 not found")

	wantBody(t, "show", e.md(t, "owner", "GET", p+"/p4", "", 200), `{"name":"p4","type":"boolean","title":"B","default":"True"}`)
	e.mdError(t, "owner", "GET", p+"/nope", "", 404, "Could not find property nope")
	wantBody(t, "show by prefixed name", e.md(t, "owner", "GET", p+"/img_p4?resource_type=OS::Glance::Image", "", 200), `{"name":"p4","type":"boolean","title":"B","default":"True"}`)
	e.mdError(t, "owner", "GET", p+"/p4?resource_type=OS::Glance::Image", "", 404, "Property p4 does not start with the expected resource type association prefix of 'img_'.")
	e.mdError(t, "owner", "GET", p+"/p4?resource_type=No::Such", "", 404, "The metadata definition resource-type with name=No::Such, was not found.")
	e.md(t, "admin", "POST", mdNS+"/c2/resource_types", `{"name":"OS::Nova::Flavor"}`, 201)
	e.mdError(t, "owner", "GET", p+"/p4?resource_type=OS::Nova::Flavor", "", 404, "The metadata definition resource-type association of resource-type=OS::Nova::Flavor to namespace=c1, was not found.")

	wantBody(t, "update", e.md(t, "admin", "PUT", p+"/p1", `{"name":"p1r","type":"string","title":"P renamed"}`, 200), `{"name":"p1r","type":"string","title":"P renamed"}`)
	e.mdError(t, "admin", "PUT", p+"/p1r", `{"name":"p2","type":"string","title":"dup"}`, 409, "Invalid update. It would result in a duplicate metadata definition property with the same name=p1r in namespace=c1.")
	e.mdError(t, "admin", "PUT", p+"/nope", `{"name":"x","type":"string","title":"x"}`, 404, "Could not find property nope")
	e.mdError(t, "admin", "PUT", p+"/p1r", `{"type":"string","title":"x"}`, 400, "Provided object does not match schema 'property': 'name' is a required property")
	e.mdError(t, "owner", "PUT", p+"/p1r", `{"name":"x","type":"string","title":"x"}`, 403, "You are not authorized to complete modify_metadef_property action.")

	e.mdError(t, "owner", "DELETE", p+"/p6", "", 403, "You are not authorized to complete remove_metadef_property action.")
	e.md(t, "admin", "DELETE", p+"/p6", "", 204)
	e.mdError(t, "admin", "DELETE", p+"/p6", "", 404, "Could not find property p6")
}

func tagList(t *testing.T, body string) string {
	t.Helper()
	var tags struct{ Tags []struct{ Name string } }
	if err := json.Unmarshal([]byte(body), &tags); err != nil {
		t.Fatalf("tags %s: %v", body, err)
	}
	var names []string
	for _, tg := range tags.Tags {
		names = append(names, tg.Name)
	}
	return strings.Join(names, ",")
}

func TestMetadefTags(t *testing.T) {
	e := contentsEnv(t)
	tg := mdNS + "/c1/tags"
	bulk := func(body, appendHdr string, want int) string {
		t.Helper()
		h := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
		if appendHdr != "" {
			h["X-Openstack-Append"] = appendHdr
		}
		resp, got := e.do("admin", "POST", tg, h, body)
		if resp.StatusCode != want {
			t.Fatalf("bulk %s: %d, want %d: %s", body, resp.StatusCode, want, got)
		}
		return got
	}
	list := func(query string) string { t.Helper(); return tagList(t, e.md(t, "owner", "GET", tg+query, "", 200)) }

	wantBody(t, "bulk", bulk(`{"tags":[{"name":"a"},{"name":"b"}]}`, "", 201), `{"tags":[{"name":"a"},{"name":"b"}]}`)
	bulk(`{"tags":[{"name":"c"}]}`, "True", 201)
	if got := list(""); got != "c,b,a" {
		t.Errorf("after append: %s", got)
	}
	bulk(`{"tags":[{"name":"d"}]}`, "", 201)
	if got := list(""); got != "d" {
		t.Errorf("after replace: %s", got)
	}
	// A repeated name fails the whole call and changes nothing.
	e.mdError(t, "admin", "POST", tg, `{"tags":[{"name":"e"},{"name":"e"}]}`, 409, "A metadata tag with name=e already exists in namespace=c1. (Please note that metadata tag names are case insensitive).")
	resp, body := e.do("admin", "POST", tg, map[string]string{"Content-Type": "application/json", "Accept": "application/json", "X-Openstack-Append": "yes"}, `{"tags":[{"name":"d"}]}`)
	if resp.StatusCode != 409 || !strings.Contains(body, "name=d already exists") {
		t.Errorf("append of an existing tag: %d %s", resp.StatusCode, body)
	}
	if got := list(""); got != "d" {
		t.Errorf("after failed bulk creates: %s", got)
	}
	// Names are case-sensitive (as Glance on SQLite or PostgreSQL).
	bulk(`{"tags":[{"name":"D"}]}`, "1", 201)
	// An empty list changes nothing, as in Glance.
	wantBody(t, "empty bulk", bulk(`{"tags":[]}`, "", 201), `{"tags":[]}`)
	if got := list(""); got != "D,d" {
		t.Errorf("after an empty bulk create: %s", got)
	}
	e.mdError(t, "admin", "POST", tg, `{"tags":[{"name":"x","y":1}]}`, 400, "Provided object does not match schema 'tags': Additional properties are not allowed ('y' was unexpected)\n\nFailed validating 'additionalProperties' in schema['properties']['tags']['items']\n\nOn instance['tags'][0]:")
	e.mdError(t, "admin", "POST", tg, `{"foo":[]}`, 400, "Provided object does not match schema 'tags': Additional properties are not allowed ('foo' was unexpected)")
	e.mdError(t, "owner", "POST", tg, `{"tags":[{"name":"q"}]}`, 403, "You are not authorized to complete add_metadef_tags action.")

	wantBody(t, "create one", e.md(t, "admin", "POST", tg+"/single", "", 201), `{"name":"single","created_at":"T","updated_at":"T"}`)
	e.mdError(t, "admin", "POST", tg+"/single", "", 409, "A metadata tag with name=single already exists in namespace=c1. (Please note that metadata tag names are case insensitive).")
	e.mdError(t, "admin", "POST", tg+"/s2", "{}", 400, "A body is not expected with this request.")
	e.mdError(t, "admin", "POST", tg+"/"+strings.Repeat("x", 81), "", 400, "Provided object does not match schema 'tag': '"+strings.Repeat("x", 81)+"' is too long")
	e.mdError(t, "owner", "POST", tg+"/s3", "", 403, "You are not authorized to complete add_metadef_tag action.")
	e.mdError(t, "admin", "POST", mdNS+"/nope/tags/x", "", 404, "Namespace nope not found")

	wantBody(t, "rename", e.md(t, "admin", "PUT", tg+"/single", `{"name":"single2"}`, 200), `{"name":"single2","created_at":"T","updated_at":"T"}`)
	e.mdError(t, "admin", "PUT", tg+"/single2", `{"name":"d"}`, 409, "A metadata tag with name=d already exists in namespace=c1. (Please note that metadata tag names are case insensitive).")
	e.mdError(t, "admin", "PUT", tg+"/single2", `{}`, 400, "Provided object does not match schema 'tag': 'name' is a required property")
	e.mdError(t, "admin", "PUT", tg+"/nope", `{"name":"x"}`, 404, "Could not find metadata tag nope")

	if got := list("?limit=1"); got != "single2" {
		t.Errorf("limit 1: %s", got)
	}
	if got := list("?limit=1&marker=single2"); got != "D" {
		t.Errorf("after the marker: %s", got)
	}
	if got := list("?sort_key=name&sort_dir=asc"); got != "D,d,single2" {
		t.Errorf("by name: %s", got)
	}
	if got := list("?limit=0"); got != "" {
		t.Errorf("limit 0: %s", got)
	}
	e.mdError(t, "owner", "GET", tg+"?marker=nope", "", 404, "Could not find metadata tag nope")
	e.mdError(t, "owner", "GET", tg+"?limit=-1", "", 400, "limit param must be positive")
	e.mdError(t, "owner", "GET", tg+"?visibility=x", "", 400, "Invalid visibility value: x")
	e.mdError(t, "other", "GET", mdNS+"/c2/tags", "", 404, "Namespace c2 not found")
	wantBody(t, "show", e.md(t, "owner", "GET", tg+"/single2", "", 200), `{"name":"single2","created_at":"T","updated_at":"T"}`)
	e.mdError(t, "owner", "GET", tg+"/nope", "", 404, "Could not find metadata tag nope")

	e.mdError(t, "owner", "DELETE", tg+"/d", "", 403, "You are not authorized to complete delete_metadef_tag action.")
	e.md(t, "admin", "DELETE", tg+"/d", "", 204)
	e.mdError(t, "admin", "DELETE", tg+"/d", "", 404, "Could not find metadata tag d")
	e.mdError(t, "owner", "DELETE", tg, "", 403, "You are not authorized to complete delete_metadef_namespace action.")
	e.md(t, "admin", "DELETE", tg, "", 204)
	if got := list(""); got != "" {
		t.Errorf("after deleting all: %s", got)
	}
}

func TestMetadefResourceTypes(t *testing.T) {
	e := contentsEnv(t)
	r := mdNS + "/c1/resource_types"
	wantBody(t, "associate", e.md(t, "admin", "POST", r, `{"name":"OS::Nova::Flavor","prefix":"hw:"}`, 201), `{"name":"OS::Nova::Flavor","prefix":"hw:","created_at":"T","updated_at":"T"}`)
	e.mdError(t, "admin", "POST", r, `{"name":"OS::Nova::Flavor","prefix":"hw:"}`, 409, "The metadata definition resource-type association of resource-type=OS::Nova::Flavor to namespace=c1 already exists.")
	wantBody(t, "new type", e.md(t, "admin", "POST", r, `{"name":"My::New"}`, 201), `{"name":"My::New","created_at":"T","updated_at":"T"}`)
	e.mdError(t, "admin", "POST", r, `{"prefix":"x"}`, 400, "Provided object does not match schema 'resource_type_association': 'name' is a required property")
	e.mdError(t, "admin", "POST", r, `{"name":"A","created_at":"x"}`, 403, "Attribute 'created_at' is read-only.")
	e.mdError(t, "admin", "POST", r, `{"name":"A","foo":"x"}`, 400, "Provided object does not match schema 'resource_type_association': Additional properties are not allowed ('foo' was unexpected)")
	e.mdError(t, "owner", "POST", r, `{"name":"A"}`, 403, "You are not authorized to complete add_metadef_resource_type_association action.")
	e.mdError(t, "admin", "POST", mdNS+"/nope/resource_types", `{"name":"A"}`, 404, "Namespace nope not found")

	wantBody(t, "associations", e.md(t, "owner", "GET", r, "", 200), `{"resource_type_associations":[`+
		`{"name":"OS::Glance::Image","prefix":"img_","created_at":"T","updated_at":"T"},`+
		`{"name":"OS::Nova::Flavor","prefix":"hw:","created_at":"T","updated_at":"T"},`+
		`{"name":"My::New","created_at":"T","updated_at":"T"}]}`)
	e.mdError(t, "other", "GET", mdNS+"/c2/resource_types", "", 404, "Namespace c2 not found")

	// Every resource type, associated or not, in creation order; shipped
	// ones carry no updated_at, as loaded ones in Glance.
	all := e.md(t, "other", "GET", "/v2/metadefs/resource_types", "", 200)
	if !strings.HasPrefix(all, `{"resource_types":[{"name":"OS::Glance::Image","created_at":"T"},{"name":"OS::Cinder::Volume","created_at":"T"},{"name":"OS::Nova::Flavor","created_at":"T"},`) || !strings.HasSuffix(all, `{"name":"My::New","created_at":"T","updated_at":"T"}]}`) {
		t.Errorf("resource types: %s", all)
	}

	e.mdError(t, "owner", "DELETE", r+"/OS::Nova::Flavor", "", 403, "You are not authorized to complete remove_metadef_resource_type_association action.")
	e.md(t, "admin", "DELETE", r+"/My::New", "", 204)
	e.mdError(t, "admin", "DELETE", r+"/My::New", "", 404, "Failed to find resource type My::New to delete")
	e.mdError(t, "admin", "DELETE", r+"/Nope", "", 404, "Failed to find resource type Nope to delete")
	// The resource type outlives its last association.
	if got := e.md(t, "other", "GET", "/v2/metadefs/resource_types", "", 200); !strings.Contains(got, `"My::New"`) {
		t.Errorf("an unassociated resource type went: %s", got)
	}
}

func TestMetadefSchemas(t *testing.T) {
	e := newEnv(t)
	for _, name := range metadef.SchemaNames {
		got := e.md(t, "other", "GET", "/v2/schemas/metadefs/"+name, "", 200)
		var s struct {
			Name       string
			Properties map[string]json.RawMessage
		}
		if err := json.Unmarshal([]byte(got), &s); err != nil || len(s.Properties) == 0 {
			t.Errorf("schema %s: %v %s", name, err, got)
		}
	}
	// The collection schemas list their members the way clients page.
	if got := e.md(t, "other", "GET", "/v2/schemas/metadefs/namespaces", "", 200); !strings.Contains(got,
		`"links":[{"rel":"first","href":"{first}"},{"rel":"next","href":"{next}"},{"rel":"describedby","href":"{schema}"}]`) {
		t.Errorf("namespaces schema links: %s", got)
	}
	e.mdError(t, "other", "GET", "/v2/schemas/metadefs/nope", "", 404, "The resource could not be found.")
	resp, body := e.do("other", "POST", "/v2/schemas/metadefs/tag", map[string]string{"Accept": "application/json"}, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET" || !strings.Contains(body, "The method POST is not allowed for this resource. \\u003cbr /\\u003e") {
		t.Errorf("POST to a schema: %d %q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
	resp, _ = e.do("other", "PATCH", mdNS+"/x/tags/y", nil, "")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET, POST, PUT" {
		t.Errorf("PATCH of a tag: %d Allow %q", resp.StatusCode, resp.Header.Get("Allow"))
	}
}
