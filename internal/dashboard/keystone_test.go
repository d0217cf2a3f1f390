package dashboard_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// TestExternalKeystone: with --auth keystone the dashboard signs users in
// at that Keystone and acts with its tokens. The Keystone here is another
// glint's built-in identity, which speaks the same v3 API.
func TestExternalKeystone(t *testing.T) {
	t.Parallel()
	ks := newCloud(t)
	ks.addUser("alice", "demo", "demo2")
	c := keystoneGlint(t, ks)

	b := c.browser()
	p := b.get("/dashboard/login")
	if !strings.Contains(p.body, "Keystone") {
		t.Fatal("the sign-in page does not say where accounts live")
	}
	b.signIn("alice", "pw-alice")
	p = b.hx("POST", "/dashboard/project/images", url.Values{"name": {"via-keystone"}, "source": {"file"}, "disk_format": {"raw"}}, "modal-content")
	if p.status != 200 {
		t.Fatalf("create: %d %s", p.status, p.body)
	}
	token := ks.token("alice", "pw-alice", "demo")
	var list struct{ Images []image }
	c.json("GET", "/v2/images", token, nil, 200, &list)
	if len(list.Images) != 1 || list.Images[0]["owner"] != ks.projects["demo"] {
		t.Fatalf("images on the keystone-backed glint: %v", list.Images)
	}
	// The project switcher rescopes at Keystone.
	p = b.hx("GET", "/dashboard/projects", nil, "")
	if !strings.Contains(p.body, "demo2") {
		t.Fatalf("project menu: %s", p.body)
	}
	p = b.post("/dashboard/projects/switch", url.Values{"project": {ks.projects["demo2"]}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("switch: %d %s", p.status, p.body)
	}
	p = b.get("/dashboard/project/images")
	if !strings.Contains(p.body, "<strong>demo2</strong>") || len(rows(p.body)) != 0 {
		t.Fatalf("after switching: %v", rows(p.body))
	}
	// A project the user has no role in is refused.
	p = b.post("/dashboard/projects/switch", url.Values{"project": {ks.projects["admin"]}})
	if p.status != http.StatusForbidden {
		t.Fatalf("switch to a foreign project: %d", p.status)
	}
	if p := b.post("/dashboard/logout", nil); p.status != http.StatusSeeOther {
		t.Fatalf("sign-out: %d", p.status)
	}
}

// keystoneGlint serves a glint whose identity is the Keystone ks (another
// glint's built-in identity, which speaks the same v3 API).
func keystoneGlint(t *testing.T, ks *cloud) *cloud {
	t.Helper()
	cfg := config.Default()
	cfg.PasswordCost = 4 // fast bcrypt: tests only
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthKeystone
	cfg.Keystone = config.Keystone{URL: ks.url + "/identity/v3", Username: "admin", Password: adminPassword,
		UserDomainName: "Default", ProjectName: "admin", ProjectDomainName: "Default", CacheTTL: time.Second}
	ts := servertest.Start(t, cfg)
	return &cloud{t: t, url: ts.URL, projects: ks.projects, users: ks.users, adminToken: ks.adminToken}
}
