package dashboard_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// cloud is a running glint with built-in identity, driven over HTTP like
// any client: in process (httptest) for the handler tests, or the real
// `glint serve` binary for the browser tests.
type cloud struct {
	t          testing.TB
	url        string
	dataDir    string
	adminToken string
	// projects and users by name → id.
	projects, users map[string]string
	memberRole      string
}

const adminPassword = "admin-pw-for-tests"

// TestMain sets the bootstrap password every glint of these tests
// starts with (in process or not), so the tests can run in parallel.
func TestMain(m *testing.M) {
	os.Setenv("GLINT_BOOTSTRAP_PASSWORD", adminPassword)
	os.Exit(m.Run())
}

// newCloud serves glint in process on its embedded default.
func newCloud(t testing.TB, mutate ...func(*config.Config)) *cloud {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	// bcrypt at its production cost, under the race detector, makes each
	// server start and sign-in take seconds; tests may go lower.
	cfg.PasswordCost = 4
	for _, m := range mutate {
		m(&cfg)
	}
	ts := servertest.Start(t, cfg)
	c := setupCloud(t, ts.URL)
	c.dataDir = cfg.DataDir
	return c
}

var (
	buildOnce   sync.Once
	glintBinary string
	buildErr    error
)

// newProcessCloud runs the real `glint serve` binary, with extra flags.
func newProcessCloud(t *testing.T, extra ...string) *cloud {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "glint-dashboard-bin-")
		if err != nil {
			buildErr = err
			return
		}
		glintBinary = filepath.Join(dir, "glint")
		out, err := exec.Command("go", "build", "-o", glintBinary, "github.com/glint-image/glint/cmd/glint").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building glint: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := append([]string{"serve", "--data-dir", t.TempDir(), "--listen", addr, "--log-level", "warn"}, extra...)
	cmd := exec.Command(glintBinary, args...)
	cmd.Env = append(os.Environ(), "GLINT_BOOTSTRAP_PASSWORD="+adminPassword)
	var logs bytes.Buffer
	var mu sync.Mutex
	cmd.Stdout, cmd.Stderr = lockedWriter{&mu, &logs}, lockedWriter{&mu, &logs}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			mu.Lock()
			t.Logf("glint serve log:\n%s", logs.String())
			mu.Unlock()
		}
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(base + "/versions")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-done:
			t.Fatalf("glint serve exited: %s", logs.String())
		case <-time.After(100 * time.Millisecond):
		}
		if i > 600 {
			t.Fatal("glint serve did not start")
		}
	}
	return setupCloud(t, base)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func setupCloud(t testing.TB, base string) *cloud {
	c := &cloud{t: t, url: base, projects: map[string]string{}, users: map[string]string{}}
	c.adminToken = c.token("admin", adminPassword, "admin")
	var roles struct {
		Roles []struct{ ID, Name string } `json:"roles"`
	}
	c.json("GET", "/identity/v3/roles", c.adminToken, nil, 200, &roles)
	for _, r := range roles.Roles {
		if r.Name == "member" {
			c.memberRole = r.ID
		}
	}
	var projects struct {
		Projects []struct{ ID, Name string } `json:"projects"`
	}
	c.json("GET", "/identity/v3/projects", c.adminToken, nil, 200, &projects)
	for _, p := range projects.Projects {
		c.projects[p.Name] = p.ID
	}
	return c
}

// token signs a user in, scoped to a project.
func (c *cloud) token(user, password, project string) string {
	c.t.Helper()
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"domain":{"id":"default"},"password":%q}}},
		"scope":{"project":{"name":%q,"domain":{"id":"default"}}}}}`, user, password, project)
	resp, err := http.Post(c.url+"/identity/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		c.t.Fatalf("login %s/%s: %d", user, project, resp.StatusCode)
	}
	return resp.Header.Get("X-Subject-Token")
}

// do sends a JSON request (or raw bytes) and returns status and body.
func (c *cloud) do(method, path, token string, body any, hdr map[string]string) (int, []byte) {
	c.t.Helper()
	var r io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r, ct = bytes.NewReader(b), "application/octet-stream"
	case string:
		r = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.url+path, r)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ct)
	}
	if strings.HasPrefix(method, "PATCH") {
		req.Header.Set("Content-Type", "application/openstack-images-v2.1-json-patch")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// json sends a request, checks the status and decodes the answer.
func (c *cloud) json(method, path, token string, body any, want int, out any) {
	c.t.Helper()
	status, b := c.do(method, path, token, body, nil)
	if status != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// addProject creates a project (if new) and returns its id.
func (c *cloud) addProject(name string) string {
	c.t.Helper()
	if id, ok := c.projects[name]; ok {
		return id
	}
	var p struct {
		Project struct{ ID string } `json:"project"`
	}
	c.json("POST", "/identity/v3/projects", c.adminToken, map[string]any{"project": map[string]any{"name": name, "domain_id": "default"}}, 201, &p)
	c.projects[name] = p.Project.ID
	return p.Project.ID
}

// addUser creates a user with the member role in each project; the first
// is its default project.
func (c *cloud) addUser(name string, projects ...string) string {
	c.t.Helper()
	u := map[string]any{"name": name, "password": "pw-" + name, "domain_id": "default"}
	if len(projects) > 0 {
		u["default_project_id"] = c.addProject(projects[0])
	}
	var out struct {
		User struct{ ID string } `json:"user"`
	}
	c.json("POST", "/identity/v3/users", c.adminToken, map[string]any{"user": u}, 201, &out)
	c.users[name] = out.User.ID
	for _, p := range projects {
		c.json("PUT", "/identity/v3/projects/"+c.addProject(p)+"/users/"+out.User.ID+"/roles/"+c.memberRole, c.adminToken, nil, 204, nil)
	}
	return out.User.ID
}

// image is an Image API record, as far as the tests look.
type image map[string]any

func (c *cloud) createImage(token string, fields map[string]any) image {
	c.t.Helper()
	var img image
	c.json("POST", "/v2/images", token, fields, 201, &img)
	return img
}

func (c *cloud) upload(token, id string, data []byte) {
	c.t.Helper()
	status, b := c.do("PUT", "/v2/images/"+id+"/file", token, data, nil)
	if status != 204 {
		c.t.Fatalf("upload: %d %s", status, b)
	}
}

func (c *cloud) image(token, id string) (image, int) {
	c.t.Helper()
	status, b := c.do("GET", "/v2/images/"+id, token, nil, nil)
	var img image
	if status == 200 {
		json.Unmarshal(b, &img)
	}
	return img, status
}

// waitStatus waits until the image has the status; imports run in the
// background. The deadline only guards against a hang.
func (c *cloud) waitStatus(token, id, status string) {
	c.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		img, _ := c.image(token, id)
		if img["status"] == status {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("image %s is %v, not %s", id, img["status"], status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browser is an HTTP client with a cookie jar, as a browser would be, for
// the handler tests.
type browser struct {
	c    *cloud
	hc   *http.Client
	csrf string
}

func (c *cloud) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`)
var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

type answer struct {
	status int
	header http.Header
	body   string
}

func (b *browser) request(method, path string, form url.Values, hdr map[string]string) answer {
	b.c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.c.url+path, body)
	if err != nil {
		b.c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.c.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	p := answer{status: resp.StatusCode, header: resp.Header, body: string(out)}
	if m := csrfMeta.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	return p
}

func (b *browser) get(path string) answer { return b.request("GET", path, nil, nil) }

// hx is an htmx request (fragment answers).
func (b *browser) hx(method, path string, form url.Values, target string) answer {
	hdr := map[string]string{"HX-Request": "true", "X-CSRF-Token": b.csrf}
	if target != "" {
		hdr["HX-Target"] = target
	}
	return b.request(method, path, form, hdr)
}

// post submits a form with the CSRF field, as the page's forms do.
func (b *browser) post(path string, form url.Values) answer {
	if form == nil {
		form = url.Values{}
	}
	if form.Get("csrf") == "" {
		form.Set("csrf", b.csrf)
	}
	return b.request("POST", path, form, nil)
}

// signIn signs in through the dashboard's form.
func (b *browser) signIn(user, password string) {
	b.c.t.Helper()
	p := b.get("/dashboard/login")
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.c.t.Fatalf("no CSRF field on the sign-in page: %d %s", p.status, p.body)
	}
	p = b.request("POST", "/dashboard/login", url.Values{"csrf": {m[1]}, "username": {user}, "password": {password}, "domain": {"Default"}}, nil)
	if p.status != http.StatusSeeOther {
		b.c.t.Fatalf("sign-in of %s: %d %s", user, p.status, p.body)
	}
	p = b.get("/dashboard/project/images")
	if p.status != 200 || b.csrf == "" {
		b.c.t.Fatalf("images page after sign-in: %d %s", p.status, p.body)
	}
}
