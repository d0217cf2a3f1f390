package server_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestClientsImport drives the import API of a fresh glint (built-in
// identity, two stores) with the real clients: openstackclient's
// `image create --import` (glance-direct; openstackclient 6 has no other
// import command) and python-glanceclient's image-create-via-import
// (web-download from a server on loopback, allowed in the configuration),
// image-stage + image-import (glance-direct), image-import copy-image,
// image-tasks and task-show. It runs when GLINT_TEST_OPENSTACK_CLI names
// the openstack command; glance comes with it (python3-glanceclient).
func TestClientsImport(t *testing.T) {
	cli := openstackCLI(t)
	glance, err := exec.LookPath("glance")
	if err != nil {
		t.Fatalf("glance (python3-glanceclient, installed with python3-openstackclient) not found: %v", err)
	}
	dir := t.TempDir()
	img := qemuFile(t, dir, "cirros.qcow2", "64M")
	data, _ := os.ReadFile(img)
	webURL, port := serveDir(t, dir)
	cfgFile := importConfig(t, port, `stores:
  - {id: fast, type: file, path: `+filepath.Join(dir, "fast")+`}
  - {id: cheap, type: file, path: `+filepath.Join(dir, "cheap")+`}
default_store: fast
`)
	p, addr, env := cloudServe(t, dir, "--config", cfgFile)
	// glanceclient reads no clouds.yaml: the admin's OS_* variables.
	var cc struct {
		Clouds map[string]struct {
			Auth map[string]string `yaml:"auth"`
		} `yaml:"clouds"`
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "clouds.yaml"))
	if err := yaml.Unmarshal(raw, &cc); err != nil {
		t.Fatal(err)
	}
	auth := cc.Clouds["glint"].Auth
	if auth["auth_url"] != "http://"+addr+"/identity/v3" {
		t.Fatalf("clouds.yaml's auth_url: %q", auth["auth_url"])
	}
	adminEnv := osEnv(addr, auth["username"], auth["password"], auth["project_name"])
	addMember(t, cli, env, "demo", "pw-demo")
	demoEnv := osEnv(addr, "demo", "pw-demo", "demo")
	demo := func(args ...string) string { return osc(t, cli, demoEnv, args...) }
	gl := func(env []string, args ...string) string {
		// glanceclient reads image data from any stdin that is not a
		// terminal; run it with stdin closed, as from a shell with <&-.
		full := append([]string{"-c", `exec "$0" "$@" <&-`, glance, "--os-image-api-version", "2"}, args...)
		return osc(t, "sh", env, full...)
	}
	show := func(name string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(demo("image", "show", "-f", "json", name)), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	waitActive := func(name string) map[string]any {
		deadline := time.Now().Add(90 * time.Second)
		for {
			m := show(name)
			if m["status"] == "active" {
				return m
			}
			if time.Now().After(deadline) || m["status"] == "queued" {
				t.Fatalf("%s did not become active: %v\n%s", name, m, p.logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	sum := md5.Sum(data)
	// openstackclient shows stores among the properties.
	stores := func(m map[string]any) any { props, _ := m["properties"].(map[string]any); return props["stores"] }

	// openstackclient: create --import stages and imports (glance-direct).
	demo("image", "create", "--import", "--disk-format", "qcow2", "--container-format", "bare", "--file", img, "osc-import")
	if m := waitActive("osc-import"); m["checksum"] != hex.EncodeToString(sum[:]) || m["virtual_size"] != float64(64<<20) {
		t.Fatalf("openstack image create --import: %v", m)
	}

	// glanceclient: web-download, then glance-direct in two steps.
	gl(demoEnv, "image-create-via-import", "--name", "web", "--disk-format", "qcow2", "--container-format", "bare",
		"--import-method", "web-download", "--uri", webURL+"/cirros.qcow2")
	if m := waitActive("web"); m["checksum"] != hex.EncodeToString(sum[:]) || stores(m) != "fast" {
		t.Fatalf("glance image-create-via-import --import-method web-download: %v", m)
	}
	// openstackclient uploads whatever stdin holds when it is not a
	// terminal (and fails when it is closed): the record comes from
	// glint's CLI.
	id := strings.TrimSpace(osc(t, glintBinary, demoEnv, "image", "create", "--disk-format", "qcow2",
		"--container-format", "bare", "-f", "value", "-c", "id", "staged"))
	gl(demoEnv, "image-stage", "--file", img, id)
	if m := show(id); m["status"] != "uploading" {
		t.Fatalf("after image-stage: %v", m)
	}
	gl(demoEnv, "image-import", "--import-method", "glance-direct", "--stores", "cheap", id)
	if m := waitActive(id); stores(m) != "cheap" {
		t.Fatalf("glance image-import --stores cheap: %v", m)
	}
	tasks := gl(demoEnv, "image-tasks", id)
	if !strings.Contains(tasks, "| success |") {
		t.Fatalf("glance image-tasks:\n%s", tasks)
	}

	// The admin copies it into the other store and reads the task.
	gl(adminEnv, "image-import", "--import-method", "copy-image", "--stores", "fast", id)
	deadline := time.Now().Add(90 * time.Second)
	for stores(show(id)) != "cheap,fast" {
		if time.Now().After(deadline) {
			t.Fatalf("copy-image did not finish: %v", show(id))
		}
		time.Sleep(100 * time.Millisecond)
	}
	list := gl(adminEnv, "task-list")
	if !strings.Contains(list, "success") {
		t.Fatalf("glance task-list:\n%s", list)
	}
	taskID := ""
	for _, line := range strings.Split(list, "\n") {
		if f := strings.Split(line, "|"); len(f) > 2 && strings.Contains(line, "api_image_import") {
			taskID = strings.TrimSpace(f[1])
		}
	}
	if out := gl(adminEnv, "task-show", taskID); !strings.Contains(out, "success") || !strings.Contains(out, "image_id") {
		t.Fatalf("glance task-show:\n%s", out)
	}
	// glint's own CLI: create --import ends with the image importing or
	// active, then active.
	out, err := oscErr(glintBinary, demoEnv, "image", "create", "--import", "--disk-format", "qcow2", "--container-format", "bare",
		"--file", img, "-f", "json", "glint-import")
	if err != nil {
		t.Fatalf("glint image create --import: %v\n%s", err, out)
	}
	if m := waitActive("glint-import"); m["checksum"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("glint image create --import: %v", m)
	}
}

// qemuFile makes a qcow2 image with qemu-img.
func qemuFile(t *testing.T, dir, name, size string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", path, size).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img: %v %s", err, out)
	}
	return path
}
