package server_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenStackClient drives a fresh `glint serve` (built-in identity, all
// defaults) with the real python-openstackclient: the admin from the
// written clouds.yaml creates a project, a user and a role assignment;
// that user manages an image end to end; another project cannot see it.
// It runs when GLINT_TEST_OPENSTACK_CLI names the openstack command
// (.ci/run installs Debian's python3-openstackclient and sets it).
func TestOpenStackClient(t *testing.T) {
	cli := openstackCLI(t)
	dir := t.TempDir()
	p, addr, adminEnv := cloudServe(t, dir)
	if info, _ := os.Stat(filepath.Join(dir, "clouds.yaml")); info.Mode().Perm() != 0o600 {
		t.Fatalf("clouds.yaml mode %v", info.Mode().Perm())
	}
	if strings.Contains(p.logs.String(), "password:") {
		t.Fatal("the log mentions a password")
	}

	admin := func(args ...string) string { return osc(t, cli, adminEnv, args...) }
	userEnv := func(user, project string) []string { return osEnv(addr, user, "pw-"+user, project) }
	for _, name := range []string{"demo", "alt"} {
		addMember(t, cli, adminEnv, name, "pw-"+name)
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
