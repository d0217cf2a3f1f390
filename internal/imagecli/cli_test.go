package imagecli

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDeleteSeveral deletes several images at once; a missing one is
// reported, the others are deleted, and the run fails.
func TestDeleteSeveral(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	for _, n := range []string{"a", "b", "c"} {
		ok(t, env, "create", n)
	}
	msg, r := fails(t, env, "delete", "a", "missing", "b")
	if msg != "Failed to delete 1 of 3 images." ||
		!strings.Contains(r.stderr, "Failed to delete image with name or ID 'missing': No Image found for missing") {
		t.Fatalf("delete: %s\n%s", msg, r.stderr)
	}
	if got := ok(t, env, "list", "-f", "value", "-c", "Name"); got != "c\n" {
		t.Fatalf("left after delete: %q", got)
	}
	ok(t, env, "delete", "c")
	if got := ok(t, env, "list"); got != "\n" {
		t.Fatalf("empty list: %q", got)
	}
}

// TestNames resolves images by name: an ambiguous name lists the ids,
// a missing one says so, and an id always works.
func TestNames(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	id1 := lines(ok(t, env, "create", "twin", "-f", "value", "-c", "id"))[0]
	id2 := lines(ok(t, env, "create", "twin", "-f", "value", "-c", "id"))[0]
	msg, _ := fails(t, env, "show", "twin")
	if !strings.Contains(msg, "More than one Image exists with the name 'twin'") || !strings.Contains(msg, id1) ||
		!strings.Contains(msg, id2) {
		t.Errorf("ambiguous: %s", msg)
	}
	if msg, _ := fails(t, env, "show", "ghost"); msg != "No Image found for ghost" {
		t.Errorf("missing: %s", msg)
	}
	if msg, _ := fails(t, env, "show", "00000000-0000-0000-0000-000000000000"); !strings.Contains(msg, "No Image found") {
		t.Errorf("missing id: %s", msg)
	}
	if got := ok(t, env, "show", id2, "-f", "value", "-c", "id"); got != id2+"\n" {
		t.Errorf("by id: %q", got)
	}
	// A name with terminal control characters is shown escaped.
	ok(t, env, "create", "evil\x1b[31mred")
	if got := ok(t, env, "list", "--name", "evil\x1b[31mred", "-c", "Name"); strings.Contains(got, "\x1b") ||
		!strings.Contains(got, `evil\x1b[31mred`) {
		t.Errorf("control characters reached the terminal: %q", got)
	}
}

// TestCredentials authenticates from OS_* variables, from clouds.yaml in
// the user's config directory with secure.yaml, and with OS_TOKEN and
// OS_ENDPOINT; bad credentials fail with Keystone's message.
func TestCredentials(t *testing.T) {
	c := newCloud(t)
	c.addUser("demo")
	ok(t, c.userEnv("demo"), "create", "mine")
	if got := ok(t, c.userEnv("demo"), "list", "-f", "value", "-c", "Name"); got != "mine\n" {
		t.Fatalf("OS_* user: %q", got)
	}

	// ~/.config/openstack/clouds.yaml, its password in secure.yaml.
	home := t.TempDir()
	dir := filepath.Join(home, ".config", "openstack")
	os.MkdirAll(dir, 0o700)
	os.WriteFile(filepath.Join(dir, "clouds.yaml"), []byte("clouds:\n  demo:\n    auth:\n      auth_url: "+c.url+
		"/identity/v3\n      username: demo\n      project_name: demo\n      user_domain_name: Default\n"+
		"      project_domain_name: Default\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secure.yaml"), []byte("clouds:\n  demo:\n    auth:\n      password: pw-demo\n"), 0o600)
	if got := ok(t, map[string]string{"HOME": home}, "--os-cloud", "demo", "list", "-f", "value", "-c", "Name"); got != "mine\n" {
		t.Fatalf("clouds.yaml + secure.yaml: %q", got)
	}
	// OS_* variables override clouds.yaml, as with openstackclient.
	bad := map[string]string{"HOME": home, "OS_CLOUD": "demo", "OS_PASSWORD": "wrong"}
	msg, _ := fails(t, bad, "list")
	if !strings.Contains(msg, "authentication failed") || !strings.Contains(msg, "(HTTP 401)") ||
		!strings.Contains(msg, "Request-ID: req-") {
		t.Errorf("bad password: %s", msg)
	}

	token := map[string]string{"OS_TOKEN": c.adminToken(), "OS_ENDPOINT": c.url + "/v2"}
	if got := ok(t, token, "list", "-f", "value", "-c", "Name"); got != "mine\n" {
		t.Fatalf("OS_TOKEN + OS_ENDPOINT: %q", got)
	}
	if msg, _ := fails(t, token, "set", "--accept", "mine"); !strings.Contains(msg, "give --project") {
		t.Errorf("--accept without a known project: %s", msg)
	}
	if msg, _ := fails(t, map[string]string{"HOME": home}, "list"); !strings.Contains(msg, "no credentials") {
		t.Errorf("no credentials: %s", msg)
	}
	if msg, _ := fails(t, map[string]string{"HOME": home}, "--os-cloud", "nope", "list"); !strings.Contains(msg, `"nope"`) {
		t.Errorf("unknown cloud: %s", msg)
	}
}

// TestBadInput: local mistakes fail before any request, server refusals
// quote the server, and features the server lacks say so.
func TestBadInput(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "--file", filepath.Join(c.dir, "nope"), "x"}, "is not a valid file"},
		{[]string{"create", "--property", "=v", "x"}, "Property key must be specified"},
		{[]string{"create", "--disk-format", "floppy", "x"}, "invalid choice: 'floppy'"},
		{[]string{"create", "--public", "--private", "x"}, "none of the others can be"},
		{[]string{"create", "--id", "not-a-uuid", "x"}, "(HTTP 400)"},
		{[]string{"stores", "list"}, "Multi Backend support not enabled"},
		{[]string{"list", "--sort", "name:sideways"}, "unknown sort direction"},
		{[]string{"list", "--member-status", "maybe"}, "invalid choice"},
	} {
		msg, _ := fails(t, env, tc.args...)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%v: %q, want %q", tc.args, msg, tc.want)
		}
	}
	// Nothing was created by the failed creates.
	if got := ok(t, env, "list", "-f", "value"); got != "" {
		t.Errorf("images left by failed creates: %q", got)
	}
}

// TestDebugAndProgress: --debug shows requests with secrets masked; a
// progress bar is drawn only when stderr is a terminal.
func TestDebugAndProgress(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	r := run(t, env, "--debug", "list")
	if r.err != nil {
		t.Fatal(r.err)
	}
	for _, want := range []string{"REQ: POST " + c.url + "/identity/v3/auth/tokens", `"password":"***"`,
		"X-Subject-Token: ***", "REQ: GET " + c.url + "/v2/images", "X-Auth-Token: ***", "RESP: 200 OK"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("--debug lacks %q", want)
		}
	}
	if strings.Contains(r.stderr, c.password) {
		t.Error("--debug shows the password")
	}

	file, _ := writeData(t, c.dir, "d.raw", 1<<20)
	var out, errw strings.Builder
	a := &app{out: &out, errw: &errw, getenv: func(k string) string { return env[k] },
		terminal: func(w io.Writer) bool { return w == &errw }}
	cmd := newCommand(a)
	cmd.SetArgs([]string{"create", "--file", file, "barred"})
	if err := cmd.ExecuteContext(t.Context()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errw.String(), "uploading") || !strings.Contains(errw.String(), "100%") {
		t.Errorf("no progress bar on a terminal: %q", errw.String())
	}
	if strings.Contains(out.String(), "uploading") {
		t.Error("the progress bar went to stdout")
	}
}
