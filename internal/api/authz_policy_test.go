package api_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

func writePolicy(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// An operator's policy file reaches the API: a get_image refusal hides
// the image (404, and gone from the list) and a download refusal is 403.
func TestAuthzPolicyFile(t *testing.T) {
	path := writePolicy(t, `
get_image: "role:admin or not 'hidden':%(os_distro)s"
download_image: "role:admin"
`)
	e := newEnvConfig(t, func(c *config.Config) { c.PolicyFile = path })
	create := func(extra string) string {
		id := e.matrixImage("private", "active")
		if extra != "" {
			status, body := e.as(ownerMember, "PATCH", "/v2/images/"+id, patchType,
				`[{"op": "add", "path": "/os_distro", "value": "`+extra+`"}]`)
			e.must(status, 200, "set os_distro", body)
		}
		return id
	}
	plain, hidden := create(""), create("hidden")

	if status, _ := e.as(ownerMember, "GET", "/v2/images/"+plain, "", ""); status != 200 {
		t.Errorf("show plain: %d", status)
	}
	if status, body := e.as(ownerMember, "GET", "/v2/images/"+hidden, "", ""); status != 404 || !strings.Contains(body, "No image found with ID "+hidden) {
		t.Errorf("show hidden: %d %s", status, body)
	}
	if status, _ := e.as(cloudAdmin, "GET", "/v2/images/"+hidden, "", ""); status != 200 {
		t.Errorf("admin show hidden: %d", status)
	}
	// A refusal of another action on an image get_image hides is 404 too.
	if status, _ := e.as(ownerMember, "DELETE", "/v2/images/"+hidden, "", ""); status != 404 {
		t.Errorf("delete hidden: %d", status)
	}
	_, list := e.as(ownerMember, "GET", "/v2/images", "", "")
	if !strings.Contains(list, plain) || strings.Contains(list, hidden) {
		t.Errorf("list: %s", list)
	}
	status, body := e.as(ownerMember, "GET", "/v2/images/"+plain+"/file", "", "")
	if status != 403 || !strings.Contains(body, "You are not authorized to complete download_image action.") {
		t.Errorf("download: %d %s", status, body)
	}
	if status, _ := e.as(cloudAdmin, "GET", "/v2/images/"+plain+"/file", "", ""); status != 200 {
		t.Errorf("admin download: %d", status)
	}
}

// A bad rule stops the server from starting, and the error names it.
func TestAuthzPolicyFileErrors(t *testing.T) {
	cases := map[string]string{
		`modify_image: "role:admin or"`:       `rule "modify_image"`,
		`get_image: "rule:is_owner"`:          `undefined rule "is_owner"`,
		"- just a list\n":                     "mapping",
		`delete_image: "project_id:%(owner)"`: `rule "delete_image"`,
	}
	for text, want := range cases {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.PolicyFile = writePolicy(t, text)
		srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			srv.Close()
			t.Errorf("%q: server started", text)
			continue
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), cfg.PolicyFile) {
			t.Errorf("%q: error %q lacks %q or the file name", text, err, want)
		}
	}
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.PolicyFile = filepath.Join(t.TempDir(), "missing.yaml")
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "policy-file") {
		t.Errorf("missing policy file: %v", err)
	}
}

// Refusals carry Glance's wording (image-api-captured.md).
func TestAuthzMessages(t *testing.T) {
	e := newEnv(t)
	shared := e.matrixImage("shared-pending", "active")
	cases := []struct {
		who          caller
		method, path string
		ctype, body  string
		want         string
	}{
		{ownerMember, "PATCH", "", patchType, `[{"op": "replace", "path": "/visibility", "value": "public"}]`,
			"You are not authorized to complete publicize_image action."},
		{otherMember, "PATCH", "", patchType, `[{"op": "replace", "path": "/name", "value": "x"}]`,
			"You do not own this image"},
		{ownerMember, "PUT", "/members/proj-b", "application/json", `{"status": "accepted"}`,
			"Not allowed to update members for image " + shared + "."},
		{otherMember, "POST", "/members", "application/json", `{"member": "proj-c"}`,
			"Not allowed to create members for image " + shared + "."},
		{otherMember, "DELETE", "/members/proj-b", "", "",
			"Not allowed to delete members for image " + shared + "."},
	}
	for _, c := range cases {
		status, body := e.as(c.who, c.method, "/v2/images/"+shared+c.path, c.ctype, c.body)
		if status != 403 || !strings.Contains(body, c.want) {
			t.Errorf("%s %s by the %s: %d %s, want 403 %q", c.method, c.path, c.who.name, status, body, c.want)
		}
	}
	status, body := e.as(otherMember, "POST", "/v2/images", "application/json", `{"name": "x", "owner": "proj-a"}`)
	if status != 403 || !strings.Contains(body, "You are not permitted to create images owned by 'proj-a'.") {
		t.Errorf("create for another project: %d %s", status, body)
	}
	// A member answers only for itself; another member's row is not there
	// for it.
	status, body = e.as(ownerMember, "POST", "/v2/images/"+shared+"/members", "application/json", `{"member": "proj-c"}`)
	e.must(status, 200, "share with proj-c", body)
	status, _ = e.as(caller{"third project", "proj-c", "user-c", "member,reader"}, "PUT",
		"/v2/images/"+shared+"/members/proj-b", "application/json", `{"status": "accepted"}`)
	if status != 404 {
		t.Errorf("third project answers for proj-b: %d", status)
	}
}
