package imagecli

import (
	"encoding/csv"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestCreateShowList uploads a few MiB and reads the image back in every
// output format, with and without -c.
func TestCreateShowList(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	file, data := writeData(t, c.dir, "disk.raw", 3<<20+17)

	r := run(t, env, "create", "--disk-format", "raw", "--container-format", "bare", "--file", file,
		"--property", "os_distro=rocky", "--property", "os_version=9", "--tag", "golden", "--community",
		"--min-disk", "2", "-f", "json", "rocky-9")
	if r.err != nil {
		t.Fatalf("create: %v %s", r.err, r.stderr)
	}
	if r.stderr != "" {
		t.Errorf("create wrote to stderr without a terminal (a progress bar?): %q", r.stderr)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil {
		t.Fatalf("create -f json: %v\n%s", err, r.stdout)
	}
	props, _ := created["properties"].(map[string]any)
	if created["status"] != "active" || created["size"] != float64(len(data)) || created["visibility"] != "community" ||
		created["disk_format"] != "raw" || created["min_disk"] != float64(2) || props["os_distro"] != "rocky" ||
		props["os_version"] != "9" || props["os_hash_algo"] != "sha512" {
		t.Fatalf("created image: %v", created)
	}
	if tags, _ := created["tags"].([]any); len(tags) != 1 || tags[0] != "golden" {
		t.Fatalf("tags %v", created["tags"])
	}
	id := created["id"].(string)

	// show: the Field/Value table, value, yaml, csv, all selectable by -c.
	table := ok(t, env, "show", "rocky-9")
	for _, want := range []string{"| Field ", "| status           | active ", "| properties       | os_distro='rocky', ",
		"os_version='9'", "| tags             | golden "} {
		if !strings.Contains(table, want) {
			t.Errorf("show table lacks %q:\n%s", want, table)
		}
	}
	if got := ok(t, env, "show", id, "-f", "value", "-c", "name", "-c", "status"); got != "rocky-9\nactive\n" {
		t.Errorf("show -f value -c name -c status: %q", got)
	}
	var y map[string]any
	if err := yaml.Unmarshal([]byte(ok(t, env, "show", id, "-f", "yaml")), &y); err != nil ||
		y["size"] != len(data) || y["name"] != "rocky-9" || !slices.Equal(toStrings(y["tags"]), []string{"golden"}) {
		t.Errorf("show -f yaml: %v %v", y, err)
	}
	rows, err := csv.NewReader(strings.NewReader(ok(t, env, "show", id, "-f", "csv", "-c", "id"))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != "id" || rows[1][1] != id {
		t.Errorf("show -f csv -c id: %v %v", rows, err)
	}

	// list: community images are listed only on request; every format.
	if got := ok(t, env, "list", "-f", "value"); strings.Contains(got, id) == false {
		// The owner does see its own community image in the default list.
		t.Errorf("owner's default list lacks its community image: %q", got)
	}
	if got := ok(t, env, "list", "--community", "-f", "value", "-c", "Name"); got != "rocky-9\n" {
		t.Errorf("list --community: %q", got)
	}
	table = ok(t, env, "list")
	if !strings.Contains(table, "| ID ") || !strings.Contains(table, "| Name    | Status |") || !strings.Contains(table, id) {
		t.Errorf("list table:\n%s", table)
	}
	var items []map[string]any
	if err := json.Unmarshal([]byte(ok(t, env, "list", "--long", "-f", "json")), &items); err != nil || len(items) != 1 {
		t.Fatalf("list --long -f json: %v %v", items, err)
	}
	wantCols := []string{"Checksum", "Container Format", "Disk Format", "ID", "Name", "Project", "Protected", "Size",
		"Status", "Tags", "Visibility"}
	if got := keys(items[0]); !slices.Equal(got, wantCols) {
		t.Errorf("list --long columns %v, want %v", got, wantCols)
	}
	if items[0]["Size"] != float64(len(data)) || items[0]["Protected"] != false || items[0]["Project"] != created["owner"] {
		t.Errorf("list --long row %v", items[0])
	}
	rows, err = csv.NewReader(strings.NewReader(ok(t, env, "list", "-f", "csv", "--long", "-c", "Name", "-c", "size"))).ReadAll()
	if err != nil || !slices.Equal(rows[0], []string{"Name", "Size"}) || rows[1][1] != "3145745" {
		t.Errorf("list -f csv -c: %v %v", rows, err)
	}
	var ylist []map[string]any
	if err := yaml.Unmarshal([]byte(ok(t, env, "list", "-f", "yaml")), &ylist); err != nil || len(ylist) != 1 || ylist[0]["ID"] != id {
		t.Errorf("list -f yaml: %v %v", ylist, err)
	}
	msg, _ := fails(t, env, "list", "-c", "nope")
	if !strings.Contains(msg, "No recognized column names in ['nope']") {
		t.Errorf("-c nope: %s", msg)
	}
	if msg, _ := fails(t, env, "list", "-f", "xml"); !strings.Contains(msg, "invalid choice") {
		t.Errorf("-f xml: %s", msg)
	}
}

// TestSetUnset changes properties, tags, visibility, protection and
// activation, then removes some again.
func TestSetUnset(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	file, _ := writeData(t, c.dir, "d.raw", 1<<20)
	ok(t, env, "create", "--file", file, "old")
	ok(t, env, "create", "--file", file, "--private", "other")

	ok(t, env, "set", "--property", "os_distro=debian", "--property", "deprecated=true", "--tag", "a", "--tag", "b",
		"--public", "--protected", "--min-ram", "512", "--os-version", "12", "old")
	m := showJSON(t, env, "old")
	props, _ := m["properties"].(map[string]any)
	if m["visibility"] != "public" || m["protected"] != true || m["min_ram"] != float64(512) ||
		props["os_distro"] != "debian" || props["deprecated"] != "true" || props["os_version"] != "12" {
		t.Fatalf("after set: %v", m)
	}
	if got := toStrings(m["tags"]); !slices.Equal(sorted(got), []string{"a", "b"}) {
		t.Fatalf("tags %v", got)
	}
	// Tags add up; --property filters the list client-side.
	ok(t, env, "set", "--tag", "c", "old")
	if got := toStrings(showJSON(t, env, "old")["tags"]); !slices.Equal(sorted(got), []string{"a", "b", "c"}) {
		t.Fatalf("tags after a second set %v", got)
	}
	if got := ok(t, env, "list", "--property", "os_distro=debian", "-f", "value", "-c", "Name"); got != "old\n" {
		t.Errorf("list --property: %q", got)
	}
	if got := ok(t, env, "list", "--tag", "c", "-f", "value", "-c", "Name"); got != "old\n" {
		t.Errorf("list --tag: %q", got)
	}
	if got := ok(t, env, "list", "--sort", "name:desc", "-f", "value", "-c", "Name"); got != "other\nold\n" {
		t.Errorf("list --sort name:desc: %q", got)
	}

	// A protected image cannot be deleted: the server says why.
	msg, _ := fails(t, env, "delete", "old")
	if !strings.Contains(msg, "Failed to delete 1 of 1 images.") {
		t.Errorf("delete protected: %s", msg)
	}

	// The guides' deprecation recipe, then the other spellings.
	ok(t, env, "set", "--deactivate", "--property", "replacement=other", "--unprotected", "--private", "old")
	m = showJSON(t, env, "old")
	if m["status"] != "deactivated" || m["protected"] != false || m["visibility"] != "private" {
		t.Fatalf("after --deactivate: %v", m)
	}
	ok(t, env, "reactivate", "old")
	ok(t, env, "set", "--deactivated", "old")
	if showJSON(t, env, "old")["status"] != "deactivated" {
		t.Fatal("--deactivated did not deactivate")
	}
	ok(t, env, "set", "--activate", "--name", "renamed", "old")
	if m = showJSON(t, env, "renamed"); m["status"] != "active" {
		t.Fatalf("after --activate --name: %v", m)
	}

	// unset removes what exists and reports what does not.
	r := run(t, env, "unset", "--tag", "a", "--tag", "zz", "--property", "deprecated", "--property", "nope", "renamed")
	if r.err == nil || !strings.Contains(r.err.Error(), "Failed to unset 1 of 2 tags") ||
		!strings.Contains(r.stderr, "'zz' is a nonexistent tag") || !strings.Contains(r.stderr, "'nope' is a nonexistent property") {
		t.Errorf("unset with unknown names: %v\n%s", r.err, r.stderr)
	}
	m = showJSON(t, env, "renamed")
	props, _ = m["properties"].(map[string]any)
	if _, has := props["deprecated"]; has || slices.Contains(toStrings(m["tags"]), "a") || props["os_distro"] != "debian" {
		t.Fatalf("after unset: %v", m)
	}
	if msg, _ := fails(t, env, "set", "--property", "novalue", "renamed"); !strings.Contains(msg, "Expected 'key=value' type") {
		t.Errorf("bad --property: %s", msg)
	}
	ok(t, env, "set", "--property", "empty=", "--min-disk", "0", "renamed")
	if props, _ := showJSON(t, env, "renamed")["properties"].(map[string]any); props["empty"] != "" {
		t.Errorf("--property empty=: %v", props)
	}
}

func toStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
