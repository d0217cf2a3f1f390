package server_test

import (
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/testenv"
)

// The harness of the tests that drive a `glint serve` process (built-in
// identity) with the real OpenStack clients: openstackclient,
// glanceclient, barbicanclient, Tempest.

// osEnv is the environment in which a client logs user in to project
// (both in the Default domain) on the built-in identity at addr.
func osEnv(addr, user, password, project string) []string {
	return []string{"OS_AUTH_URL=http://" + addr + "/identity/v3", "OS_USERNAME=" + user, "OS_PASSWORD=" + password,
		"OS_PROJECT_NAME=" + project, "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_IDENTITY_API_VERSION=3"}
}

// cloudServe starts `glint serve` on the data directory dir with an empty
// GLINT_BOOTSTRAP_PASSWORD, so that glint makes the admin's password up
// and writes it into dir/clouds.yaml; it waits for that file and returns
// the process, its address and the admin's environment (clouds.yaml's
// cloud "glint", which openstackclient reads). extra are more arguments
// of serve.
func cloudServe(t *testing.T, dir string, extra ...string) (p *process, addr string, admin []string) {
	t.Helper()
	addr = freeAddr(t)
	p = launch(t, addr, []string{"GLINT_BOOTSTRAP_PASSWORD="}, append([]string{"serve", "--data-dir", dir, "--listen", addr}, extra...)...)
	clouds := waitFile(t, p, filepath.Join(dir, "clouds.yaml"))
	// clouds.yaml is written while glint starts, before it may be
	// listening: a client run at once could find nobody there.
	p.waitReady(t)
	return p, addr, []string{"OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLOUD=glint"}
}

// waitFile waits for glint to write path (clouds.yaml on its first start).
func waitFile(t *testing.T, p *process, path string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(path); err == nil {
			return path
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s:\n%s", path, p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// addMember makes, with openstackclient as the admin of env, a project
// and a user both called name, the user a member of the project.
func addMember(t *testing.T, cli string, admin []string, name, password string) {
	t.Helper()
	osc(t, cli, admin, "project", "create", name)
	osc(t, cli, admin, "user", "create", "--domain", "Default", "--password", password, name)
	osc(t, cli, admin, "role", "add", "--project", name, "--user", name, "member")
}

// osc runs a client command, failing t if it fails.
func osc(t *testing.T, cli string, env []string, args ...string) string {
	t.Helper()
	out, err := oscErr(cli, env, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), strings.Join(args, " "), err, out)
	}
	return out
}

// oscErr runs a client command in env and no other OS_* variable.
func oscErr(cli string, env []string, args ...string) (string, error) {
	cmd := exec.Command(cli, args...)
	cmd.Env = append(cleanOSEnv(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// cleanOSEnv is the environment without any OS_* variable of the caller.
func cleanOSEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OS_") {
			env = append(env, kv)
		}
	}
	return append(env, "HOME="+os.TempDir())
}

// openstackCLI is the openstack command of python3-openstackclient that
// GLINT_TEST_OPENSTACK_CLI names (.ci/run installs it and sets it).
func openstackCLI(t *testing.T) string {
	t.Helper()
	cli := os.Getenv("GLINT_TEST_OPENSTACK_CLI")
	if cli == "" {
		testenv.Missing(t, "GLINT_TEST_OPENSTACK_CLI is not set; set it to the openstack command to run this test")
	}
	return cli
}

// serveDir serves the files of dir on loopback until t ends, for the
// imports and locations that glint fetches; it returns the server's URL
// and port.
func serveDir(t *testing.T, dir string) (url, port string) {
	web := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(web.Close)
	return web.URL, web.URL[strings.LastIndex(web.URL, ":")+1:]
}

// glanceCLI is the glance command of python3-glanceclient that
// GLINT_TEST_GLANCE_CLI names (.ci/run installs it and sets it).
func glanceCLI(t *testing.T) string {
	t.Helper()
	cli := os.Getenv("GLINT_TEST_GLANCE_CLI")
	if cli == "" {
		testenv.Missing(t, "GLINT_TEST_GLANCE_CLI is not set; set it to the glance command to run this test")
	}
	return cli
}

// glanceServer is a `glint serve` that a test drives with the glance
// command as its bootstrap admin.
type glanceServer struct {
	*process
	t        *testing.T
	cli      string   // the glance command
	env      []string // the admin's OS_* environment
	password string   // the admin's password
	data     string   // the data directory
}

// glanceServe starts `glint serve` with the configuration text config
// (none if empty) on a new data directory; prepare, if given, runs on
// that directory first.
func glanceServe(t *testing.T, cli, config string, prepare ...func(data string)) *glanceServer {
	t.Helper()
	dir, addr := t.TempDir(), freeAddr(t)
	data := filepath.Join(dir, "data")
	for _, f := range prepare {
		f(data)
	}
	args := []string{"serve", "--data-dir", data, "--listen", addr}
	if config != "" {
		file := filepath.Join(dir, "glint.yaml")
		if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--config", file)
	}
	password := rand.Text()
	p := launch(t, addr, []string{"GLINT_BOOTSTRAP_PASSWORD=" + password}, args...)
	p.waitReady(t)
	return &glanceServer{process: p, t: t, cli: cli, env: osEnv(addr, "admin", password, "admin"), password: password, data: data}
}

// glance runs the glance command, failing the test if it fails.
func (g *glanceServer) glance(args ...string) string {
	g.t.Helper()
	return osc(g.t, g.cli, g.env, args...)
}

// glanceErr runs the glance command and returns what it printed.
func (g *glanceServer) glanceErr(args ...string) (string, error) {
	return oscErr(g.cli, g.env, args...)
}

var tableID = regexp.MustCompile(`\|\s*id\s*\|\s*([0-9a-f-]{36})\s*\|`)

// idOf is the id in the table of a glance command's answer.
func idOf(t *testing.T, out string) string {
	t.Helper()
	m := tableID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no id in:\n%s", out)
	}
	return m[1]
}

// compact runs a glance table's cells together: the table wraps long
// values.
func compact(s string) string { return strings.NewReplacer(" ", "", "|", "", "\n", "").Replace(s) }
