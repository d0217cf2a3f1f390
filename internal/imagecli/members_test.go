package imagecli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestSharing shares an image with another project, which accepts it, as
// the guides' `image add project` / `image set --accept` recipe does.
func TestSharing(t *testing.T) {
	c := newCloud(t)
	demoProject := c.addUser("demo")
	altProject := c.addUser("alt")
	demo, alt := c.userEnv("demo"), c.userEnv("alt")
	file, _ := writeData(t, c.dir, "d.raw", 64<<10)

	created := ok(t, demo, "create", "--file", file, "--shared", "-f", "value", "-c", "id", "-c", "owner", "shared-img")
	fields := lines(created)
	id := fields[0]
	if fields[1] != demoProject {
		t.Fatalf("owner %q, want demo's project %s", fields[1], demoProject)
	}
	// Not a member yet: alt cannot see it.
	if got := ok(t, alt, "list", "-f", "value"); strings.Contains(got, id) {
		t.Fatalf("alt lists an image not shared with it: %q", got)
	}

	// demo may not look projects up, so it names alt's project by id.
	var member map[string]any
	if err := json.Unmarshal([]byte(ok(t, demo, "add", "project", "shared-img", altProject, "-f", "json")), &member); err != nil {
		t.Fatal(err)
	}
	if member["image_id"] != id || member["member_id"] != altProject || member["status"] != "pending" {
		t.Fatalf("add project: %v", member)
	}
	if got := ok(t, demo, "member", "list", "shared-img", "-f", "csv"); got !=
		"\"Image ID\",\"Member ID\",\"Status\"\n\""+id+"\",\""+altProject+"\",\"pending\"\n" {
		t.Fatalf("member list: %q", got)
	}
	// Pending shares are not listed, but alt may name the image to accept
	// it, by id or by name.
	if got := ok(t, alt, "list", "-f", "value"); strings.Contains(got, id) {
		t.Fatalf("alt lists a pending share: %q", got)
	}
	ok(t, alt, "set", "--accept", "shared-img")
	if got := ok(t, alt, "list", "-f", "value", "-c", "ID"); got != id+"\n" {
		t.Fatalf("alt's list after accepting: %q", got)
	}
	if got := ok(t, alt, "list", "--shared", "--member-status", "accepted", "-f", "value", "-c", "Name"); got != "shared-img\n" {
		t.Fatalf("alt's list --shared: %q", got)
	}
	ok(t, alt, "set", "--reject", id)
	if got := ok(t, demo, "member", "list", id, "-f", "value", "-c", "Status"); got != "rejected\n" {
		t.Fatalf("status after reject: %q", got)
	}

	// The admin may look projects up and name them.
	ok(t, c.adminEnv(), "remove", "project", id, "alt")
	if got := ok(t, demo, "member", "list", id, "-f", "value"); got != "" {
		t.Fatalf("members after remove: %q", got)
	}
	if msg, _ := fails(t, c.adminEnv(), "add", "project", id, "no-such-project"); !strings.Contains(msg, "no-such-project") {
		t.Errorf("unknown project: %s", msg)
	}
}
