package api_test

import (
	"strings"
	"testing"
)

// The dashboard's listing extensions do not exist on the network: there
// glint_name_prefix is what Glance makes of any unknown key, a filter on
// an extra property of that name, and no total is added.
func TestListExtensionsNotPublic(t *testing.T) {
	e := newEnv(t)
	for _, name := range []string{"ubuntu-24.04", "debian-12"} {
		resp, body := e.do("owner", "POST", "/v2/images", map[string]string{"Content-Type": "application/json"}, `{"name": "`+name+`"}`)
		if resp.StatusCode != 201 {
			t.Fatalf("create %s: %d %s", name, resp.StatusCode, body)
		}
	}
	resp, body := e.do("owner", "GET", "/v2/images?glint_name_prefix=ubuntu&glint_name_contains=buntu&glint_total=1", nil, "")
	if resp.StatusCode != 200 || !strings.Contains(body, `"images":[]`) || strings.Contains(body, "glint_total\":") {
		t.Fatalf("public listing with the extension's parameters: %d %s", resp.StatusCode, body)
	}
}
