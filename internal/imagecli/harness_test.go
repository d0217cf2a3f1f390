package imagecli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// cloud is a real glint with built-in identity on a temporary directory,
// served by httptest, and a clouds.yaml naming its admin as cloud "glint".
type cloud struct {
	t        *testing.T
	url      string
	dir      string
	clouds   string
	password string // the admin's
}

// newCloud starts a glint. Tests run in parallel, so the admin password
// is not set through the environment: it is read from the clouds.yaml
// glint writes on its first start.
func newCloud(t *testing.T, tweaks ...func(*config.Config)) *cloud {
	t.Helper()
	t.Parallel()
	sc := servertest.StartCloud(t, tweaks...)
	return &cloud{t: t, url: sc.URL, dir: sc.Dir, clouds: sc.Clouds, password: sc.Password}
}

// adminEnv is the environment of a CLI run as the admin, via clouds.yaml.
func (c *cloud) adminEnv() map[string]string {
	return map[string]string{"OS_CLIENT_CONFIG_FILE": c.clouds, "OS_CLOUD": "glint", "HOME": c.dir}
}

// userEnv is the environment of a CLI run as a user, via OS_* variables.
func (c *cloud) userEnv(name string) map[string]string {
	return map[string]string{"OS_AUTH_URL": c.url + "/identity/v3", "OS_USERNAME": name, "OS_PASSWORD": "pw-" + name,
		"OS_PROJECT_NAME": name, "OS_USER_DOMAIN_NAME": "Default", "OS_PROJECT_DOMAIN_NAME": "Default", "HOME": c.dir}
}

// addUser creates a project and a member user of the same name through
// the identity API, as the admin, and returns the project's id.
func (c *cloud) addUser(name string) string {
	c.t.Helper()
	ctx := c.t.Context()
	idc, err := openstack.NewIdentityV3(c.adminProvider(), gophercloud.EndpointOpts{})
	if err != nil {
		c.t.Fatal(err)
	}
	project, err := projects.Create(ctx, idc, projects.CreateOpts{Name: name, DomainID: "default"}).Extract()
	if err != nil {
		c.t.Fatal(err)
	}
	user, err := users.Create(ctx, idc, users.CreateOpts{Name: name, DomainID: "default", Password: "pw-" + name}).Extract()
	if err != nil {
		c.t.Fatal(err)
	}
	pages, err := roles.List(idc, roles.ListOpts{Name: "member"}).AllPages(ctx)
	if err != nil {
		c.t.Fatal(err)
	}
	found, err := roles.ExtractRoles(pages)
	if err != nil || len(found) != 1 {
		c.t.Fatalf("member role: %v %v", found, err)
	}
	err = roles.Assign(ctx, idc, found[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: project.ID}).ExtractErr()
	if err != nil {
		c.t.Fatal(err)
	}
	return project.ID
}

// adminProvider is a gophercloud session of the admin.
func (c *cloud) adminProvider() *gophercloud.ProviderClient {
	c.t.Helper()
	p, err := openstack.AuthenticatedClient(c.t.Context(), gophercloud.AuthOptions{IdentityEndpoint: c.url + "/identity/v3",
		Username: "admin", Password: c.password, DomainName: "Default", TenantName: "admin"})
	if err != nil {
		c.t.Fatal(err)
	}
	return p
}

// result is one CLI run: what it printed and whether it failed.
type result struct {
	stdout, stderr string
	err            error
}

// run drives `glint image ARGS` through its cobra command with env as
// the whole environment.
func run(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	return runContext(t.Context(), env, args...)
}

func runContext(ctx context.Context, env map[string]string, args ...string) result {
	var out, errw bytes.Buffer
	a := &app{out: &out, errw: &errw, getenv: func(k string) string { return env[k] }, terminal: isTerminal}
	cmd := newCommand(a)
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errw)
	err := cmd.ExecuteContext(ctx)
	return result{stdout: out.String(), stderr: errw.String(), err: err}
}

// ok runs the CLI and fails the test unless it succeeded.
func ok(t *testing.T, env map[string]string, args ...string) string {
	t.Helper()
	r := run(t, env, args...)
	if r.err != nil {
		t.Fatalf("glint image %s: %v\nstderr: %s", strings.Join(args, " "), r.err, r.stderr)
	}
	return r.stdout
}

// fails runs the CLI and fails the test unless it failed; it returns the
// error message.
func fails(t *testing.T, env map[string]string, args ...string) (string, result) {
	t.Helper()
	r := run(t, env, args...)
	if r.err == nil {
		t.Fatalf("glint image %s succeeded:\n%s", strings.Join(args, " "), r.stdout)
	}
	return r.err.Error(), r
}

// showJSON is `image show IMAGE -f json`, decoded.
func showJSON(t *testing.T, env map[string]string, image string) map[string]any {
	t.Helper()
	var m map[string]any
	out := ok(t, env, "show", image, "-f", "json")
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("show -f json: %v\n%s", err, out)
	}
	return m
}

// writeData writes n random bytes to a file in dir.
func writeData(t *testing.T, dir, name string, n int) (string, []byte) {
	t.Helper()
	data := make([]byte, n)
	rand.Read(data)
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}
