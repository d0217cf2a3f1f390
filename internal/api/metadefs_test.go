package api_test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The metadata definitions API. Expected answers were taken from a real
// Glance 25 (Debian 12's glance-api) given the same requests; where glint
// answers differently on purpose, the test says why.

const mdNS = "/v2/metadefs/namespaces"

var isoTime = regexp.MustCompile(`"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"`)

// md sends a request as who ("admin", "owner", "other") with a JSON body
// and checks the status; it returns the body with timestamps replaced by
// "T", so answers compare as text.
func (e *env) md(t *testing.T, who, method, path, body string, want int) string {
	t.Helper()
	hdr := map[string]string{"Accept": "application/json"}
	if body != "" {
		hdr["Content-Type"] = "application/json"
	}
	resp, got := e.do(who, method, path, hdr, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, got)
	}
	return isoTime.ReplaceAllString(got, `"T"`)
}

// mdError checks an error answer: its status and Glance's message.
func (e *env) mdError(t *testing.T, who, method, path, body string, want int, message string) {
	t.Helper()
	got := e.md(t, who, method, path, body, want)
	var answer struct{ Message, Code string }
	if err := json.Unmarshal([]byte(got), &answer); err != nil {
		t.Fatalf("%s %s: error body %q: %v", method, path, got, err)
	}
	text, _, _ := strings.Cut(answer.Message, "<br />")
	if strings.HasPrefix(message, "Provided object does not match schema") {
		// Compare the violation and the path of the bad part; Glance
		// also dumps the schema, glint does not.
		if !strings.HasPrefix(answer.Message, message) {
			t.Errorf("%s %s: message %q, want it to start with %q", method, path, answer.Message, message)
		}
		return
	}
	if text != message {
		t.Errorf("%s %s: message %q, want %q", method, path, text, message)
	}
}

func wantBody(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got %s\nwant %s", what, got, want)
	}
}

const fullNamespace = `{"namespace":"d1","display_name":"D1","description":"x","visibility":"public",
	"properties":{"p1":{"type":"string","title":"P1","default":5,"enum":["a","b"]},"p2":{"type":"integer","title":"P2","minimum":1,"maximum":9,"readonly":true}},
	"objects":[{"name":"o1","required":["q"],"properties":{"q":{"type":"boolean","title":"Q"}}},{"name":"o2"}],
	"tags":[{"name":"t1"},{"name":"t2"}],
	"resource_type_associations":[{"name":"OS::Glance::Image","prefix":"hw_"},{"name":"OS::Nova::Flavor","prefix":"hw:","properties_target":"image"}]}`

func TestMetadefNamespaceLifecycle(t *testing.T) {
	e := newEnv(t)
	hdr := map[string]string{"Content-Type": "application/json", "Accept": "application/json"}
	resp, body := e.do("admin", "POST", mdNS, hdr, fullNamespace)
	if resp.StatusCode != 201 || resp.Header.Get("Location") != e.url+mdNS+"/d1" {
		t.Fatalf("create: %d Location=%q %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	// The create answer shows the contents as the request gave them.
	wantBody(t, "create", isoTime.ReplaceAllString(body, `"T"`), `{"namespace":"d1","display_name":"D1","description":"x","visibility":"public","protected":false,"owner":"proj-admin","created_at":"T","updated_at":"T",`+
		`"resource_type_associations":[{"name":"OS::Glance::Image","prefix":"hw_"},{"name":"OS::Nova::Flavor","prefix":"hw:","properties_target":"image"}],`+
		`"properties":{"p1":{"type":"string","title":"P1","default":"5","enum":["a","b"]},"p2":{"type":"integer","title":"P2","readonly":true,"minimum":1,"maximum":9}},`+
		`"objects":[{"name":"o1","required":["q"],"properties":{"q":{"type":"boolean","title":"Q"}}},{"name":"o2"}],`+
		`"tags":[{"name":"t1"},{"name":"t2"}],"self":"/v2/metadefs/namespaces/d1","schema":"/v2/schemas/metadefs/namespace"}`)

	// Show: everything with times and links; tags newest first.
	wantBody(t, "show", e.md(t, "owner", "GET", mdNS+"/d1", "", 200), `{"namespace":"d1","display_name":"D1","description":"x","visibility":"public","protected":false,"owner":"proj-admin","created_at":"T","updated_at":"T",`+
		`"resource_type_associations":[{"name":"OS::Glance::Image","prefix":"hw_","created_at":"T","updated_at":"T"},{"name":"OS::Nova::Flavor","prefix":"hw:","properties_target":"image","created_at":"T","updated_at":"T"}],`+
		`"properties":{"p1":{"type":"string","title":"P1","default":"5","enum":["a","b"]},"p2":{"type":"integer","title":"P2","readonly":true,"minimum":1,"maximum":9}},`+
		`"objects":[{"name":"o1","required":["q"],"properties":{"q":{"type":"boolean","title":"Q"}},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/d1/objects/o1","schema":"/v2/schemas/metadefs/object"},`+
		`{"name":"o2","required":[],"properties":{},"created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/d1/objects/o2","schema":"/v2/schemas/metadefs/object"}],`+
		`"tags":[{"name":"t2"},{"name":"t1"}],"self":"/v2/metadefs/namespaces/d1","schema":"/v2/schemas/metadefs/namespace"}`)

	// With a resource type, property names carry its prefix.
	shown := e.md(t, "owner", "GET", mdNS+"/d1?resource_type=OS::Nova::Flavor", "", 200)
	for _, want := range []string{`"hw:p1":`, `"hw:p2":`, `"required":["hw:q"]`, `"hw:q":`} {
		if !strings.Contains(shown, want) {
			t.Errorf("show with resource_type lacks %s: %s", want, shown)
		}
	}
	if plain := e.md(t, "owner", "GET", mdNS+"/d1?resource_type=No::Such", "", 200); plain != e.md(t, "owner", "GET", mdNS+"/d1", "", 200) {
		t.Errorf("an unknown resource type changed the answer: %s", plain)
	}

	// Update replaces the record's fields and keeps the contents; what the
	// body leaves out is reset, the owner to the caller's project.
	wantBody(t, "update", e.md(t, "admin", "PUT", mdNS+"/d1", `{"namespace":"d3","description":"moved"}`, 200),
		`{"namespace":"d3","description":"moved","visibility":"private","protected":false,"owner":"proj-admin","created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/d3","schema":"/v2/schemas/metadefs/namespace"}`)
	e.mdError(t, "admin", "GET", mdNS+"/d1", "", 404, "Metadata definition namespace=d1 was not found.")
	if got := e.md(t, "admin", "GET", mdNS+"/d3", "", 200); !strings.Contains(got, `"objects":[{"name":"o1"`) {
		t.Errorf("a rename lost the contents: %s", got)
	}

	e.md(t, "admin", "DELETE", mdNS+"/d3", "", 204)
	e.mdError(t, "admin", "DELETE", mdNS+"/d3", "", 404, "Namespace d3 not found")
	e.mdError(t, "admin", "GET", mdNS+"/d3/objects", "", 404, "Metadata definition namespace=d3 was not found.")
	// The name is free again, and the new namespace starts empty.
	if got := e.md(t, "admin", "POST", mdNS, `{"namespace":"d3"}`, 201); strings.Contains(got, "objects") {
		t.Errorf("create answer: %s", got)
	}
	wantBody(t, "recreated", e.md(t, "admin", "GET", mdNS+"/d3", "", 200),
		`{"namespace":"d3","visibility":"private","protected":false,"owner":"proj-admin","created_at":"T","updated_at":"T","self":"/v2/metadefs/namespaces/d3","schema":"/v2/schemas/metadefs/namespace"}`)
}

func TestMetadefNamespaceBadInput(t *testing.T) {
	e := newEnv(t)
	e.md(t, "admin", "POST", mdNS, `{"namespace":"taken"}`, 201)
	long := strings.Repeat("x", 81)
	for _, tc := range []struct {
		body    string
		status  int
		message string
	}{
		{"", 400, "Body expected in request."},
		{"nope", 400, "Malformed JSON in request body."},
		// Glance fails with a 500 on a body that is not an object.
		{"[]", 400, "Malformed JSON in request body."},
		{`{}`, 400, "Provided object does not match schema 'namespace': 'namespace' is a required property\n\nFailed validating 'required' in schema\n\nOn instance:\n    {}"},
		{`{"namespace":"n","self":"x"}`, 403, "Attribute 'self' is read-only."},
		{`{"namespace":"n","updated_at":"x"}`, 403, "Attribute 'updated_at' is read-only."},
		{`{"namespace":"n","visibility":"shared"}`, 400, "Provided object does not match schema 'namespace': 'shared' is not one of ['public', 'private']\n\nFailed validating 'enum' in schema['properties']['visibility']\n\nOn instance['visibility']:\n    'shared'"},
		{`{"namespace":"n","protected":"yes"}`, 400, "Provided object does not match schema 'namespace': 'yes' is not of type 'boolean'"},
		{`{"namespace":"n","bogus":1}`, 400, "Provided object does not match schema 'namespace': Additional properties are not allowed ('bogus' was unexpected)"},
		{`{"namespace":"` + long + `"}`, 400, "Provided object does not match schema 'namespace': '" + long + "' is too long\n\nFailed validating 'maxLength' in schema['properties']['namespace']"},
		// The path of the bad part of a property definition.
		{`{"namespace":"n","properties":{"p":{"type":"strin","title":"t"}}}`, 400,
			"Provided object does not match schema 'namespace': 'strin' is not one of ['array', 'boolean', 'integer', 'number', 'object', 'string', None]\n\n" +
				"Failed validating 'enum' in schema['properties']['properties']['additionalProperties']['properties']['type']\n\nOn instance['properties']['p']['type']:\n    'strin'"},
		{`{"namespace":"n","properties":{"p":{"type":"string"}}}`, 400, "Provided object does not match schema 'namespace': 'title' is a required property\n\nFailed validating 'required' in schema['properties']['properties']['additionalProperties']\n\nOn instance['properties']['p']:"},
		{`{"namespace":"n","properties":{"p":{"type":"string","title":"t","minimum":"a"}}}`, 400, "Provided object does not match schema 'namespace': 'a' is not of type 'number'\n\nFailed validating 'type' in schema['properties']['properties']['additionalProperties']['properties']['minimum']\n\nOn instance['properties']['p']['minimum']:"},
		{`{"namespace":"n","properties":{"p":{"type":"string","title":"t","maxLength":-1}}}`, 400, "Provided object does not match schema 'namespace': -1 is less than the minimum of 0\n\nFailed validating 'minimum' in schema['properties']['properties']['additionalProperties']['properties']['maxLength']\n\nOn instance['properties']['p']['maxLength']:"},
		{`{"namespace":"n","properties":{"p":{"type":"array","title":"t","items":{"type":"x"}}}}`, 400, "Provided object does not match schema 'namespace': 'x' is not one of"},
		{`{"namespace":"n","objects":[{"name":"o","required":["a","a"]}]}`, 400, "Provided object does not match schema 'namespace': ['a', 'a'] has non-unique elements\n\nFailed validating 'uniqueItems' in schema['properties']['objects']['items']['properties']['required']\n\nOn instance['objects'][0]['required']:"},
		// A pattern that is no regular expression (Glance stores it).
		{`{"namespace":"n","properties":{"p":{"type":"string","title":"t","pattern":"("}}}`, 400, "Provided object does not match schema 'namespace': '(' is not a 'regex'"},
		// Where Glance accepts the body and then fails with a 500.
		{`{"namespace":"n","properties":{"p":{"type":"string","title":"t","unknown":1}}}`, 400, "Provided object does not match schema 'namespace': Additional properties are not allowed ('unknown' was unexpected)"},
		{`{"namespace":"n","objects":[{"description":"no name"}]}`, 400, "Provided object does not match schema 'namespace': 'name' is a required property"},
		{`{"namespace":"n","tags":[{}]}`, 400, "Provided object does not match schema 'namespace': 'name' is a required property"},
		// Text Glance refuses, and names glint refuses (no URL could reach them).
		{`{"namespace":"\ud83d\ude93"}`, 400, "Couldn't create metadata namespace: Namespace can't contain 4 byte unicode characters."},
		{`{"namespace":"n","display_name":"\ud83d\ude93"}`, 400, "Couldn't create metadata namespace: Display_Name can't contain 4 byte unicode characters."},
		{`{"namespace":"n","properties":{"p":{"type":"string","title":"t","description":"\ud83d\ude93"}}}`, 400, "Couldn't create metadata namespace: Description can't contain 4 byte unicode characters."},
		{`{"namespace":"a/b"}`, 400, "Couldn't create metadata namespace: Namespace can't contain '/'."},
		{`{"namespace":""}`, 400, "Couldn't create metadata namespace: Namespace can't be empty."},
		{`{"namespace":"n","tags":[{"name":""}]}`, 400, "Couldn't create metadata namespace: Name can't be empty."},
		{`{"namespace":"taken"}`, 409, "The metadata definition namespace=taken already exists."},
		// A duplicate inside the request: nothing is created (Glance
		// leaves the namespace behind).
		{`{"namespace":"n","objects":[{"name":"o"},{"name":"o"}]}`, 409, "A metadata definition object with name=o already exists in namespace=n."},
		{`{"namespace":"n","tags":[{"name":"x"},{"name":"x"}]}`, 409, "A metadata tag with name=x already exists in namespace=n. (Please note that metadata tag names are case insensitive)."},
		{`{"namespace":"n","resource_type_associations":[{"name":"A"},{"name":"A"}]}`, 409, "The metadata definition resource-type association of resource-type=A to namespace=n already exists."},
	} {
		e.mdError(t, "admin", "POST", mdNS, tc.body, tc.status, tc.message)
	}
	e.mdError(t, "admin", "GET", mdNS+"/n", "", 404, "Metadata definition namespace=n was not found.")
	resp, body := e.do("admin", "GET", "/v2/metadefs/resource_types", nil, "")
	if resp.StatusCode != 200 || strings.Contains(body, `"A"`) {
		t.Errorf("a failed create left its resource type: %s", body)
	}

	// Policy: only admins write by default; checked after the body.
	e.mdError(t, "owner", "POST", mdNS, `{"namespace":"mine"}`, 403, "You are not authorized to complete add_metadef_namespace action.")
	e.mdError(t, "owner", "POST", mdNS, `{"bogus":1}`, 400, "Provided object does not match schema 'namespace': Additional properties are not allowed")

	// Update errors.
	e.md(t, "admin", "POST", mdNS, `{"namespace":"other"}`, 201)
	e.mdError(t, "admin", "PUT", mdNS+"/taken", `{"namespace":"other"}`, 409, "Invalid update. It would result in a duplicate metadata definition namespace with the same name of other")
	e.mdError(t, "admin", "PUT", mdNS+"/nope", `{"namespace":"x"}`, 404, "Namespace nope not found")
	e.mdError(t, "admin", "PUT", mdNS+"/taken", `{"display_name":"x"}`, 400, "Provided object does not match schema 'namespace': 'namespace' is a required property")
	e.mdError(t, "admin", "PUT", mdNS+"/taken", `{"namespace":"\ud83d\ude93"}`, 400, "Couldn't update metadata namespace: Namespace can't contain 4 byte unicode characters.")
	// Someone who may not see a private namespace gets 404, not 403.
	e.mdError(t, "other", "PUT", mdNS+"/taken", `{"namespace":"x"}`, 404, "Namespace taken not found")
	e.mdError(t, "other", "GET", mdNS+"/taken", "", 404, "The resource could not be found.")
	e.mdError(t, "other", "GET", mdNS+"/taken", `{}`, 400, "A body is not expected with this request.")
	e.mdError(t, "admin", "GET", mdNS+"/taken?visibility=bad", "", 400, "Invalid visibility value: bad")
}

func TestMetadefProtected(t *testing.T) {
	e := newEnv(t)
	e.md(t, "admin", "POST", mdNS, fullNamespace, 201)
	e.md(t, "admin", "PUT", mdNS+"/d1", `{"namespace":"d1","visibility":"public","protected":true}`, 200)
	for _, tc := range []struct{ path, message string }{
		{"", "Metadata definition namespace d1 is protected and cannot be deleted."},
		{"/objects", "Metadata definition namespace d1 is protected and cannot be deleted."},
		{"/properties", "Metadata definition namespace d1 is protected and cannot be deleted."},
		{"/tags", "Metadata definition namespace d1 is protected and cannot be deleted."},
		{"/objects/o1", "Metadata definition object o1 is protected and cannot be deleted."},
		{"/properties/p1", "Metadata definition property p1 is protected and cannot be deleted."},
		{"/tags/t1", "Metadata definition tag t1 is protected and cannot be deleted."},
		{"/resource_types/OS::Glance::Image", "Metadata definition resource-type-association OS::Glance::Image is protected and cannot be deleted."},
	} {
		e.mdError(t, "admin", "DELETE", mdNS+"/d1"+tc.path, "", 403, tc.message)
	}
	// Missing things are still 404 first.
	e.mdError(t, "admin", "DELETE", mdNS+"/d1/objects/nope", "", 404, "Could not find metadata object nope")
	e.mdError(t, "admin", "DELETE", mdNS+"/d1/resource_types/Nope", "", 404, "Failed to find resource type Nope to delete")
	// Adding to a protected namespace is allowed.
	e.md(t, "admin", "POST", mdNS+"/d1/tags/added", "", 201)
	if got := e.md(t, "admin", "GET", mdNS+"/d1", "", 200); !strings.Contains(got, `"objects":[{"name":"o1"`) || !strings.Contains(got, `{"name":"added"}`) {
		t.Errorf("a refused delete changed the namespace: %s", got)
	}
	e.md(t, "admin", "PUT", mdNS+"/d1", `{"namespace":"d1","visibility":"public"}`, 200)
	e.md(t, "admin", "DELETE", mdNS+"/d1/objects", "", 204)
	e.md(t, "admin", "DELETE", mdNS+"/d1/properties", "", 204)
	e.md(t, "admin", "DELETE", mdNS+"/d1/tags", "", 204)
	wantBody(t, "emptied", e.md(t, "admin", "GET", mdNS+"/d1", "", 200), `{"namespace":"d1","visibility":"public","protected":false,"owner":"proj-admin","created_at":"T","updated_at":"T",`+
		`"resource_type_associations":[{"name":"OS::Glance::Image","prefix":"hw_","created_at":"T","updated_at":"T"},{"name":"OS::Nova::Flavor","prefix":"hw:","properties_target":"image","created_at":"T","updated_at":"T"}],`+
		`"self":"/v2/metadefs/namespaces/d1","schema":"/v2/schemas/metadefs/namespace"}`)
	e.md(t, "admin", "DELETE", mdNS+"/d1", "", 204)
}

// namespaceNames lists a page's namespace names and its links.
func namespaceNames(t *testing.T, body string) (names []string, next, first string) {
	t.Helper()
	var page struct {
		Namespaces []struct{ Namespace string }
		Next       string
		First      string
		Schema     string
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatalf("list: %v: %s", err, body)
	}
	if page.Schema != "/v2/schemas/metadefs/namespaces" {
		t.Errorf("list schema %q", page.Schema)
	}
	for _, n := range page.Namespaces {
		names = append(names, n.Namespace)
	}
	return names, page.Next, page.First
}

func TestMetadefNamespaceList(t *testing.T) {
	e := newEnv(t)
	// Distinct creation seconds are not needed: ties fall back to
	// creation order, as Glance's id tie-breaker does.
	for i, name := range []string{"l1", "l2", "l3", "l4", "l5"} {
		vis, owner, extra := "public", "", ""
		if name == "l2" || name == "l4" {
			vis = "private"
		}
		if name == "l2" {
			owner = `,"owner":"proj-a"`
		}
		if i%2 == 1 {
			extra = `,{"name":"Test::Two"}`
		}
		display := string(rune('Z' - i))
		e.md(t, "admin", "POST", mdNS, `{"namespace":"`+name+`","display_name":"`+display+`","visibility":"`+vis+`"`+owner+
			`,"resource_type_associations":[{"name":"Test::Only","prefix":"d_"}`+extra+`]}`, 201)
	}
	list := func(who, query string) ([]string, string, string) {
		t.Helper()
		return namespaceNames(t, e.md(t, who, "GET", mdNS+"?"+query, "", 200))
	}
	check := func(what string, got []string, want ...string) {
		t.Helper()
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: %q, want %q", what, got, want)
		}
	}
	rt := "resource_types=Test::Only"
	names, next, first := list("admin", rt)
	check("admin, newest first", names, "l5", "l4", "l3", "l2", "l1")
	if next != "" || first != mdNS+"?resource_types=Test%3A%3AOnly" {
		t.Errorf("links: next %q first %q", next, first)
	}
	names, _, _ = list("owner", rt)
	check("owner: public and own private", names, "l5", "l3", "l2", "l1")
	names, _, _ = list("other", rt)
	check("other: public only", names, "l5", "l3", "l1")
	names, next, first = list("admin", rt+"&limit=2")
	check("page 1", names, "l5", "l4")
	if next != mdNS+"?resource_types=Test%3A%3AOnly&limit=2&marker=l4" || first != mdNS+"?resource_types=Test%3A%3AOnly&limit=2" {
		t.Errorf("page 1 links: next %q first %q", next, first)
	}
	u, _ := url.Parse(next)
	names, next, _ = list("admin", u.RawQuery)
	check("page 2", names, "l3", "l2")
	names, next, _ = list("admin", strings.TrimPrefix(next, mdNS+"?"))
	check("page 3", names, "l1")
	if next != "" {
		t.Errorf("the last page links on: %q", next)
	}
	names, _, _ = list("admin", rt+"&sort_key=namespace&sort_dir=asc")
	check("by name", names, "l1", "l2", "l3", "l4", "l5")
	names, _, _ = list("admin", rt+"&sort_key=display_name&sort_dir=asc&limit=3&marker=l3")
	check("by display name after l3", names, "l2", "l1")
	names, _, _ = list("admin", rt+"&visibility=private")
	check("private", names, "l4", "l2")
	names, _, _ = list("owner", rt+"&visibility=private")
	check("owner's private", names, "l2")
	names, _, _ = list("admin", "resource_types=Test::Two")
	check("second type", names, "l4", "l2")
	names, next, _ = list("admin", "resource_types=Test::Two,Test::Only&limit=1&foo=bar")
	check("either type, one", names, "l5")
	if next != mdNS+"?resource_types=Test%3A%3ATwo%2CTest%3A%3AOnly&limit=1&foo=bar&marker=l5" {
		t.Errorf("unknown parameters are kept in links: %q", next)
	}
	names, _, _ = list("admin", "resource_types=")
	check("empty type list", names)
	names, _, _ = list("admin", rt+"&limit=0")
	check("limit 0", names)
	// Each listed namespace carries its associations.
	if body := e.md(t, "admin", "GET", mdNS+"?resource_types=Test::Two&limit=1", "", 200); !strings.Contains(body,
		`"resource_type_associations":[{"name":"Test::Only","prefix":"d_","created_at":"T","updated_at":"T"},{"name":"Test::Two","created_at":"T","updated_at":"T"}]`) {
		t.Errorf("listed namespace without its associations: %s", body)
	}

	e.mdError(t, "admin", "GET", mdNS+"?limit=-1", "", 400, "limit param must be positive")
	e.mdError(t, "admin", "GET", mdNS+"?limit=abc", "", 400, "limit param must be an integer") // Glance: 500
	e.mdError(t, "admin", "GET", mdNS+"?sort_dir=sideways", "", 400, "Invalid sort direction: sideways")
	e.mdError(t, "admin", "GET", mdNS+"?sort_key=bogus", "", 400, "Sort key supplied is invalid: bogus") // Glance: 500
	e.mdError(t, "admin", "GET", mdNS+"?visibility=all", "", 400, "Invalid visibility value: all")
	e.mdError(t, "owner", "GET", mdNS+"?marker=l4", "", 403, "Forbidding request, metadata definition namespace=l4 is not visible.")
	e.mdError(t, "owner", "GET", mdNS+"?marker=nope", "", 404, "Metadata definition namespace=nope was not found.")

	// The default page is 25 namespaces (15 shipped, 3 public above, 10
	// more), and the shipped definitions are there on a fresh server.
	for i := range 10 {
		e.md(t, "admin", "POST", mdNS, `{"namespace":"x`+string(rune('a'+i))+`","visibility":"public"}`, 201)
	}
	names, next, _ = list("other", "")
	if len(names) != 25 || next != mdNS+"?marker="+url.QueryEscape(names[24]) {
		t.Errorf("default listing: %d namespaces, next %q", len(names), next)
	}
	names, _, _ = list("other", "marker="+url.QueryEscape(names[24]))
	if len(names) != 3 {
		t.Errorf("second default page: %q", names)
	}
	names, _, _ = list("other", "resource_types=OS::Glance::Image&sort_key=namespace&sort_dir=asc")
	for _, want := range []string{"OS::Compute::Firmware", "OS::Compute::LibvirtImage", "OS::Compute::Watchdog", "SCS::Image::Metadata"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("shipped namespace %s is not listed for images: %q", want, names)
		}
	}
}
