package dashboard_test

import (
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

func TestRootRedirectsBrowsersOnly(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	for _, tc := range []struct {
		accept string
		want   int
	}{
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", http.StatusFound},
		{"TEXT/HTML", http.StatusFound},
		{"application/json", http.StatusMultipleChoices},
		{"*/*", http.StatusMultipleChoices},
		{"", http.StatusMultipleChoices},
	} {
		req, _ := http.NewRequest("GET", c.url+"/", nil)
		if tc.accept != "" {
			req.Header.Set("Accept", tc.accept)
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET / with Accept %q: %d, want %d", tc.accept, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusFound && resp.Header.Get("Location") != "/dashboard/" {
			t.Errorf("redirect to %q", resp.Header.Get("Location"))
		}
	}
	// Other paths are the API's as before.
	req, _ := http.NewRequest("GET", c.url+"/v2/", nil)
	req.Header.Set("Accept", "text/html")
	resp, _ := http.DefaultTransport.RoundTrip(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMultipleChoices {
		t.Errorf("GET /v2/ as a browser: %d", resp.StatusCode)
	}
}

func TestSignIn(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	b := c.browser()

	// Pages need a session and send the browser to the sign-in page,
	// coming back after.
	p := b.get("/dashboard/project/images?tab=public")
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/login?next="+url.QueryEscape("/dashboard/project/images?tab=public") {
		t.Fatalf("without a session: %d %q", p.status, p.header.Get("Location"))
	}
	// An htmx request is told to load the sign-in page instead.
	p = b.hx("GET", "/dashboard/project/images", nil, "image-list")
	if p.status != http.StatusUnauthorized || p.header.Get("HX-Redirect") != "/dashboard/login?ended=1" {
		t.Fatalf("htmx without a session: %d %q", p.status, p.header.Get("HX-Redirect"))
	}

	p = b.get("/dashboard/login")
	if csrfField.FindStringSubmatch(p.body) == nil {
		t.Fatal("the sign-in page has no CSRF field")
	}
	pre := cookieOf(p.header, "glint_dashboard_pre")
	if pre == nil || !pre.HttpOnly || pre.SameSite != http.SameSiteStrictMode || pre.Path != "/dashboard/" || pre.Secure {
		t.Fatalf("sign-in CSRF cookie: %+v", pre)
	}
	// The sign-in form needs its CSRF value.
	p = b.request("POST", "/dashboard/login", url.Values{"username": {"alice"}, "password": {"pw-alice"}}, nil)
	if p.status != http.StatusForbidden || !strings.Contains(p.body, "expired") {
		t.Fatalf("sign-in without CSRF: %d", p.status)
	}
	csrf := csrfField.FindStringSubmatch(p.body)[1]
	p = b.request("POST", "/dashboard/login", url.Values{"csrf": {csrf}, "username": {"alice"}, "password": {"wrong"}, "domain": {"Default"}}, nil)
	if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Invalid user name or password.") {
		t.Fatalf("wrong password: %d %s", p.status, p.body)
	}
	if cookieOf(p.header, "glint_dashboard") != nil {
		t.Fatal("a failed sign-in set a session")
	}
	csrf = csrfField.FindStringSubmatch(p.body)[1]
	p = b.request("POST", "/dashboard/login", url.Values{"csrf": {csrf}, "username": {"alice"}, "password": {"pw-alice"},
		"domain": {"Default"}, "next": {"/dashboard/project/images?tab=public"}}, nil)
	if p.status != http.StatusSeeOther || p.header.Get("Location") != "/dashboard/project/images?tab=public" {
		t.Fatalf("sign-in: %d %q", p.status, p.header.Get("Location"))
	}
	s := cookieOf(p.header, "glint_dashboard")
	if s == nil || !s.HttpOnly || s.SameSite != http.SameSiteStrictMode || s.Path != "/dashboard/" || s.Secure || s.Expires.IsZero() {
		t.Fatalf("session cookie: %+v", s)
	}
	if strings.Contains(s.Value, c.token("alice", "pw-alice", "demo")[:20]) {
		t.Fatal("the session cookie shows the token")
	}
	p = b.get("/dashboard/project/images")
	if p.status != 200 || !strings.Contains(p.body, "<strong>demo</strong>") || !strings.Contains(p.body, ">alice<") {
		t.Fatalf("images page: %d", p.status)
	}
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
		t.Fatalf("CSP %q", csp)
	}
	if p.header.Get("Cache-Control") != "no-store" || p.header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("headers: %v", p.header)
	}
	// No admin panels for a member.
	if strings.Contains(p.body, "/dashboard/admin/images") {
		t.Fatal("a member sees the admin panels")
	}
	if p = b.get("/dashboard/admin/images"); p.status != http.StatusForbidden {
		t.Fatalf("admin images as a member: %d", p.status)
	}
	// A redirect after sign-in stays on the dashboard.
	for _, next := range []string{"https://evil.example/", "//evil.example/", "/v2/images", "/dashboard/\r\nx"} {
		b2 := c.browser()
		lp := b2.get("/dashboard/login")
		lp = b2.request("POST", "/dashboard/login", url.Values{"csrf": {csrfField.FindStringSubmatch(lp.body)[1]},
			"username": {"alice"}, "password": {"pw-alice"}, "next": {next}}, nil)
		if lp.header.Get("Location") != "/dashboard/project/images" {
			t.Errorf("next %q redirected to %q", next, lp.header.Get("Location"))
		}
	}

	// Sign-out revokes the tokens and drops the cookie: a copy of the
	// cookie kept from before is worth nothing.
	u, _ := url.Parse(c.url + "/dashboard/")
	kept := b.hc.Jar.Cookies(u)
	p = b.post("/dashboard/logout", nil)
	if p.status != http.StatusSeeOther || cookieOf(p.header, "glint_dashboard").MaxAge >= 0 {
		t.Fatalf("sign-out: %d", p.status)
	}
	if p = b.get("/dashboard/project/images"); p.status != http.StatusSeeOther {
		t.Fatalf("after sign-out: %d", p.status)
	}
	replay := c.browser()
	replay.hc.Jar.SetCookies(u, kept)
	if p = replay.get("/dashboard/project/images"); p.status != http.StatusSeeOther {
		t.Fatalf("a cookie kept from before the sign-out: %d", p.status)
	}
}

func cookieOf(h http.Header, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// TestSessionCookie: sessions are sealed; a changed cookie is no session;
// nodes that share the token key share sessions, and only they.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	shared := filepath.Join(t.TempDir(), "token.key")
	c := newCloud(t, func(cfg *config.Config) { cfg.TokenKeyFile = shared })
	c.addUser("alice", "demo")
	b := c.browser()
	b.signIn("alice", "pw-alice")
	u, _ := url.Parse(c.url + "/dashboard/")
	var value string
	for _, ck := range b.hc.Jar.Cookies(u) {
		if ck.Name == "glint_dashboard" {
			value = ck.Value
		}
	}
	get := func(base, cookie string) int {
		req, _ := http.NewRequest("GET", base+"/dashboard/project/images", nil)
		req.AddCookie(&http.Cookie{Name: "glint_dashboard", Value: cookie})
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := get(c.url, value); s != 200 {
		t.Fatalf("own cookie: %d", s)
	}
	tampered := []byte(value)
	tampered[len(tampered)/2] ^= 1
	if tampered[len(tampered)/2] == '-' || tampered[len(tampered)/2] == '_' {
		tampered[len(tampered)/2] = 'A'
	}
	if s := get(c.url, string(tampered)); s != http.StatusSeeOther {
		t.Fatalf("tampered cookie: %d", s)
	}
	if s := get(c.url, strings.Repeat("A", 5000)); s != http.StatusSeeOther {
		t.Fatalf("oversized cookie: %d", s)
	}

	// A second node on the same records and key reads the session.
	second := sameRecords(t, c, shared)
	if s := get(second, value); s != 200 {
		t.Fatalf("cookie on a node sharing the key: %d", s)
	}
	// One with another key does not.
	other := newCloud(t)
	if s := get(other.url, value); s != http.StatusSeeOther {
		t.Fatalf("cookie on a node with another key: %d", s)
	}
}

// sameRecords starts a second in-process node on the first one's data
// directory with the given token key file.
func sameRecords(t *testing.T, c *cloud, keyFile string) string {
	t.Helper()
	cfg := config.Default()
	cfg.PasswordCost = 4 // fast bcrypt: tests only
	cfg.DataDir = c.dataDir
	cfg.TokenKeyFile = keyFile
	ts := servertest.Start(t, cfg)
	return ts.URL
}

func TestSecureCookiesBehindTLS(t *testing.T) {
	t.Parallel()
	c := newCloud(t, func(cfg *config.Config) { cfg.PublicURL = "https://glint.example" })
	p := c.browser().get("/dashboard/login")
	if ck := cookieOf(p.header, "glint_dashboard_pre"); ck == nil || !ck.Secure {
		t.Fatalf("cookie behind TLS: %+v", ck)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("alice", "demo")
	alice := c.token("alice", "pw-alice", "demo")
	img := c.createImage(alice, map[string]any{"name": "keep", "disk_format": "raw", "container_format": "bare"})
	b := c.browser()
	b.signIn("alice", "pw-alice")
	id := img["id"].(string)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		form url.Values
	}{
		{"no token", nil, url.Values{"id": {id}}},
		{"wrong field", nil, url.Values{"id": {id}, "csrf": {"x" + b.csrf}}},
		{"wrong header", map[string]string{"X-CSRF-Token": "nope", "HX-Request": "true"}, url.Values{"id": {id}}},
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site"}, url.Values{"id": {id}, "csrf": {b.csrf}}},
	} {
		p := b.request("POST", "/dashboard/images/delete", tc.form, tc.hdr)
		if p.status != http.StatusForbidden {
			t.Errorf("%s: %d", tc.name, p.status)
		}
	}
	if _, status := c.image(alice, id); status != 200 {
		t.Fatalf("the image went away: %d", status)
	}
	// The upload route takes the token in a header only.
	p := b.request("PUT", "/dashboard/images/"+id+"/file", nil, map[string]string{"Content-Type": "application/octet-stream"})
	if p.status != http.StatusForbidden {
		t.Fatalf("upload without CSRF: %d", p.status)
	}
	// With it, it works.
	p = b.post("/dashboard/images/delete", url.Values{"id": {id}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("delete with CSRF: %d %s", p.status, p.body)
	}
}

func TestNoDashboard(t *testing.T) {
	t.Parallel()
	for name, mutate := range map[string]func(*config.Config){
		"no-dashboard":    func(cfg *config.Config) { cfg.NoDashboard = true },
		"trusted-headers": func(cfg *config.Config) { cfg.Auth = config.AuthTrustedHeaders },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := config.Default()
			cfg.PasswordCost = 4 // fast bcrypt: tests only
			cfg.DataDir = t.TempDir()
			mutate(&cfg)
			ts := servertest.Start(t, cfg)
			for _, path := range []string{"/", "/dashboard/login"} {
				req, _ := http.NewRequest("GET", ts.URL+path, nil)
				req.Header.Set("Accept", "text/html")
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusFound || resp.StatusCode == http.StatusOK {
					t.Errorf("%s: %d", path, resp.StatusCode)
				}
			}
		})
	}
}

func TestStaticFiles(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	p := c.browser().get("/dashboard/login")
	for _, name := range []string{"htmx.min.js", "dashboard.js", "dashboard.css"} {
		i := strings.Index(p.body, "/dashboard/static/"+name+"?v=")
		if i < 0 {
			t.Fatalf("the page does not link %s", name)
		}
		link := p.body[i:]
		link = link[:strings.IndexByte(link, '"')]
		resp, err := http.Get(c.url + link)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") || len(body) == 0 {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
		want := map[string]string{".js": "text/javascript", ".css": "text/css"}[filepath.Ext(name)]
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), want) {
			t.Errorf("%s: Content-Type %q", name, resp.Header.Get("Content-Type"))
		}
	}
	// The vendored htmx is the release named in ui.go, unchanged.
	b, err := os.ReadFile("static/htmx.min.js")
	if err != nil || !strings.HasPrefix(string(b), "var htmx=function(){") || !strings.Contains(string(b), `version:"2.0.11"`) {
		t.Fatalf("static/htmx.min.js is not htmx 2.0.11: %v", err)
	}
	resp, _ := http.Get(c.url + "/dashboard/static/nothing.js")
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("missing static file: %d", resp.StatusCode)
	}
}

func TestUserWithoutProject(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	c.addUser("loner")
	b := c.browser()
	b.signIn("loner", "pw-loner")
	p := b.get("/dashboard/project/images")
	if p.status != 200 || !strings.Contains(p.body, "No project yet") || strings.Contains(p.body, `class="switcher"`) {
		t.Fatalf("a user without projects: %d %s", p.status, p.body)
	}
}
