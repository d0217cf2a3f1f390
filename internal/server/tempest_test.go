package server_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/testenv"
)

// TestTempestImageLocations runs Tempest itself (Debian's
// python3-tempest) against a fresh glint: its ImageLocationsTest, the 8
// tests of show_multiple_locations (locations after an upload, http
// locations with metadata, replace, delete, a bad scheme, validation
// data), with glint's built-in identity as the Keystone, a pre-provisioned
// member account, and an http store that may reach the test's web server
// on loopback (Tempest's image.http_image). It runs when
// GLINT_TEST_OPENSTACK_CLI names the openstack command (to create the
// account) and tempest is installed (.ci/run installs both).
func TestTempestImageLocations(t *testing.T) {
	cli := openstackCLI(t)
	tempest, err := exec.LookPath("tempest")
	if err != nil {
		testenv.Missing(t, "tempest (Debian's python3-tempest) is not installed")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "image.raw"), []byte(strings.Repeat("tempest image data ", 20000)), 0o600); err != nil {
		t.Fatal(err)
	}
	webURL, port := serveDir(t, dir)
	cfgFile := filepath.Join(dir, "glint.yaml")
	if err := os.WriteFile(cfgFile, []byte(`show_image_direct_url: true
show_multiple_locations: true
default_store: fast
stores:
- {id: fast, type: file, path: `+filepath.Join(dir, "fast")+`}
- id: web
  type: http
  http: {allowed_networks: [127.0.0.0/8], allowed_ports: [`+port+`]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	p, addr, admin := cloudServe(t, dir, "--config", cfgFile, "--no-dashboard")
	addMember(t, cli, admin, "demo", "pw-tempest")

	// Tempest registers workspaces by name in ~/.tempest: a home of the
	// test's own keeps runs apart.
	ws := filepath.Join(dir, "tempest")
	env := append(cleanOSEnv(), "HOME="+dir)
	initCmd := exec.Command(tempest, "init", ws)
	initCmd.Env = env
	if out, err := initCmd.CombinedOutput(); err != nil {
		t.Fatalf("tempest init: %v\n%s", err, out)
	}
	accounts := filepath.Join(ws, "etc", "accounts.yaml")
	if err := os.WriteFile(accounts, []byte(`- username: demo
  project_name: demo
  password: pw-tempest
  domain_name: Default
  roles: [member]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	conf := `[DEFAULT]
log_dir = ` + filepath.Join(ws, "logs") + `
log_file = tempest.log
[auth]
use_dynamic_credentials = false
test_accounts_file = ` + accounts + `
default_credentials_domain_name = Default
create_isolated_networks = false
[identity]
uri_v3 = http://` + addr + `/identity/v3
auth_version = v3
region = RegionOne
[identity-feature-enabled]
api_v2 = false
[image]
http_image = ` + webURL + `/image.raw
[image-feature-enabled]
manage_locations = true
[service_available]
glance = true
nova = false
cinder = false
neutron = false
swift = false
[validation]
run_validation = false
`
	if err := os.WriteFile(filepath.Join(ws, "etc", "tempest.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tempest, "run", "--regex", `tempest\.api\.image\.v2\.test_images\.ImageLocationsTest`)
	cmd.Dir = ws
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "- Passed: 8") || !strings.Contains(string(out), "- Failed: 0") ||
		!strings.Contains(string(out), "- Skipped: 0") {
		logs, _ := os.ReadFile(filepath.Join(ws, "logs", "tempest.log"))
		t.Fatalf("tempest run: %v\n%s\n--- tempest.log (tail) ---\n%s\n--- glint ---\n%s", err, out, tail(string(logs), 4000), p.logs.String())
	}
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
