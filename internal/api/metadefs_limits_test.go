package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
)

// Limits on the metadef lists as Glance reads them: Python's int() (so
// spaces, a sign, underscores and numbers of any size), then the cap of
// api_limit_max (1000) with a next link from the page actually served.
func TestMetadefListLimits(t *testing.T) {
	e := newEnv(t)
	// 15 shipped namespaces and 1000 more: past the maximum page.
	for i := range 1000 {
		e.md(t, "admin", "POST", mdNS, fmt.Sprintf(`{"namespace":"m%04d","visibility":"public"}`, i), 201)
	}
	list := func(query string) ([]string, string) {
		t.Helper()
		names, next, _ := namespaceNames(t, e.md(t, "other", "GET", mdNS+"?"+query, "", 200))
		return names, next
	}
	names, next := list("limit=5000&sort_key=namespace&sort_dir=asc")
	if len(names) != 1000 || next != mdNS+"?limit=5000&sort_key=namespace&sort_dir=asc&marker="+url.QueryEscape(names[999]) {
		t.Fatalf("limit 5000: %d namespaces, next %q", len(names), next)
	}
	rest, next := list(strings.TrimPrefix(next, mdNS+"?"))
	if len(rest) != 15 || next != "" {
		t.Errorf("the page after the maximum: %d namespaces, next %q", len(rest), next)
	}
	if names, _ := list("limit=99999999999999999999"); len(names) != 1000 {
		t.Errorf("a limit past int64: %d namespaces", len(names))
	}
	for _, q := range []string{"limit=%202%20", "limit=%2B2", "limit=0_2"} {
		if names, next := list(q); len(names) != 2 || next == "" {
			t.Errorf("%s: %d namespaces, next %q", q, len(names), next)
		}
	}
	e.mdError(t, "admin", "GET", mdNS+"?limit=-99999999999999999999", "", 400, "limit param must be positive")
	for _, bad := range []string{"", "2.0", "0x10", "1__0", "_1", "1_", "%2B", "2%20x"} {
		e.mdError(t, "admin", "GET", mdNS+"?limit="+bad, "", 400, "limit param must be an integer")
	}
	// Tags and objects read the limit the same way.
	e.md(t, "admin", "POST", mdNS+"/m0000/tags", `{"tags":[{"name":"a"},{"name":"b"}]}`, 201)
	if got := tagList(t, e.md(t, "other", "GET", mdNS+"/m0000/tags?limit=%201%20", "", 200)); got != "b" {
		t.Errorf("tags, limit ' 1 ': %s", got)
	}
	if got := tagList(t, e.md(t, "other", "GET", mdNS+"/m0000/tags?limit=99999999999999999999", "", 200)); got != "b,a" {
		t.Errorf("tags, a limit past int64: %s", got)
	}
	e.md(t, "other", "GET", mdNS+"/m0000/objects?limit=%2B1", "", 200)
	e.mdError(t, "other", "GET", mdNS+"/m0000/objects?limit=1.5", "", 400, "limit param must be an integer")
	// So do images and tasks.
	e.md(t, "other", "GET", "/v2/images?limit=%201_0%20", "", 200)
	e.mdError(t, "other", "GET", "/v2/images?limit=1.5", "", 400, "limit param must be an integer")
}
