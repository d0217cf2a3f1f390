package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/testenv"
)

// TestOpenStackClient drives a fresh `glint serve` (built-in identity, all
// defaults) with the real python-openstackclient: the admin from the
// written clouds.yaml creates a project, a user and a role assignment;
// that user manages an image end to end; another project cannot see it.
// It runs when GLINT_TEST_OPENSTACK_CLI names the openstack command
// (.ci/run installs Debian's python3-openstackclient and sets it).
func TestOpenStackClient(t *testing.T) {
	cli := os.Getenv("GLINT_TEST_OPENSTACK_CLI")
	if cli == "" {
		testenv.Missing(t, "GLINT_TEST_OPENSTACK_CLI is not set; set it to the openstack command to run this test")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	p := launch(t, addr, []string{"GLINT_BOOTSTRAP_PASSWORD="}, "serve", "--data-dir", dir, "--listen", addr)
	clouds := filepath.Join(dir, "clouds.yaml")
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := os.Stat(clouds); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no clouds.yaml:\n%s", p.logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if info, _ := os.Stat(clouds); info.Mode().Perm() != 0o600 {
		t.Fatalf("clouds.yaml mode %v", info.Mode().Perm())
	}
	if strings.Contains(p.logs.String(), "password:") {
		t.Fatal("the log mentions a password")
	}

	admin := func(args ...string) string {
		return osc(t, cli, []string{"OS_CLIENT_CONFIG_FILE=" + clouds, "OS_CLOUD=glint"}, args...)
	}
	userEnv := func(user, project string) []string {
		return []string{"OS_AUTH_URL=http://" + addr + "/identity/v3", "OS_USERNAME=" + user, "OS_PASSWORD=pw-" + user,
			"OS_PROJECT_NAME=" + project, "OS_USER_DOMAIN_NAME=Default", "OS_PROJECT_DOMAIN_NAME=Default", "OS_IDENTITY_API_VERSION=3"}
	}
	for _, name := range []string{"demo", "alt"} {
		admin("project", "create", name)
		admin("user", "create", "--domain", "Default", "--password", "pw-"+name, name)
		admin("role", "add", "--project", name, "--user", name, "member")
	}
	demo := func(args ...string) string { return osc(t, cli, userEnv("demo", "demo"), args...) }
	alt := func(args ...string) string { return osc(t, cli, userEnv("alt", "alt"), args...) }

	data := make([]byte, 3<<20+11)
	rand.Read(data)
	src := filepath.Join(dir, "in.raw")
	os.WriteFile(src, data, 0o600)
	demo("image", "create", "--disk-format", "raw", "--container-format", "bare", "--private", "--file", src, "demo-img")
	var shown map[string]any
	json.Unmarshal([]byte(demo("image", "show", "demo-img", "-f", "json")), &shown)
	if shown["status"] != "active" || shown["size"] != float64(len(data)) || shown["visibility"] != "private" {
		t.Fatalf("image show: %v", shown)
	}
	if list := demo("image", "list", "-f", "value", "-c", "Name"); strings.TrimSpace(list) != "demo-img" {
		t.Fatalf("demo's list: %q", list)
	}
	demo("image", "set", "--property", "os_distro=debian", "--tag", "golden", "demo-img")
	json.Unmarshal([]byte(demo("image", "show", "demo-img", "-f", "json")), &shown)
	if props, _ := shown["properties"].(map[string]any); props["os_distro"] != "debian" {
		t.Fatalf("after set: %v", shown)
	}
	out := filepath.Join(dir, "out.raw")
	demo("image", "save", "--file", out, "demo-img")
	if got, _ := os.ReadFile(out); !bytes.Equal(got, data) {
		t.Fatal("image save returned other bytes")
	}
	// Another project neither lists nor finds it; the admin lists it.
	if list := alt("image", "list", "-f", "value", "-c", "Name"); strings.Contains(list, "demo-img") {
		t.Fatalf("alt lists demo's private image: %q", list)
	}
	if _, err := oscErr(cli, userEnv("alt", "alt"), "image", "show", shown["id"].(string)); err == nil {
		t.Fatal("alt can show demo's private image")
	}
	if list := admin("image", "list", "-f", "value", "-c", "Name"); !strings.Contains(list, "demo-img") {
		t.Fatalf("admin's list lacks demo-img: %q", list)
	}
	// glint's own CLI prints what openstackclient prints.
	glintList, err := oscErr(glintBinary, userEnv("demo", "demo"), "image", "list", "-f", "json", "--long")
	if err != nil {
		t.Fatalf("glint image list: %v\n%s", err, glintList)
	}
	if want := demo("image", "list", "-f", "json", "--long"); !sameJSON(glintList, want) {
		t.Fatalf("glint image list -f json --long:\n%s\nopenstack image list -f json --long:\n%s", glintList, want)
	}
	demo("image", "delete", "demo-img")
	if list := demo("image", "list", "-f", "value"); strings.TrimSpace(list) != "" {
		t.Fatalf("list after delete: %q", list)
	}
}

func osc(t *testing.T, cli string, env []string, args ...string) string {
	t.Helper()
	out, err := oscErr(cli, env, args...)
	if err != nil {
		t.Fatalf("openstack %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

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

// sameJSON reports whether two JSON documents hold the same values.
func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}
