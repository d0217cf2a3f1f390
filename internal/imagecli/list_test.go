package imagecli

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/config"
)

// TestPaging lists more images than one page holds: list follows the
// server's next links unless --limit asks for one page.
func TestPaging(t *testing.T) {
	c := newCloud(t)
	env := c.adminEnv()
	ic := c.imageClient()
	const n = 30 // the server's default page holds 25
	for i := range n {
		if err := images.Create(t.Context(), ic, images.CreateOpts{Name: fmt.Sprintf("img-%02d", i)}).Err; err != nil {
			t.Fatal(err)
		}
	}
	names := lines(ok(t, env, "list", "-f", "value", "-c", "Name"))
	if len(names) != n || names[0] != "img-00" || names[n-1] != "img-29" {
		t.Fatalf("list got %d names: %v", len(names), names)
	}
	first := lines(ok(t, env, "list", "--limit", "10", "--sort", "created_at:asc", "-f", "value", "-c", "ID"))
	if len(first) != 10 {
		t.Fatalf("--limit 10 got %d", len(first))
	}
	// --marker continues after the given image, in the server's order.
	all := lines(ok(t, env, "list", "--limit", "1000", "-f", "value", "-c", "ID", "--sort", ""))
	next := lines(ok(t, env, "list", "--limit", "5", "--marker", all[4], "-f", "value", "-c", "ID", "--sort", ""))
	if len(next) != 5 || next[0] != all[5] {
		t.Fatalf("--marker: %v, want from %s", next, all[5])
	}
}

// TestStores runs against a multi-store glint: stores list shows the
// stores and create --store puts the data where asked.
func TestStores(t *testing.T) {
	root := t.TempDir()
	c := newCloud(t, func(cfg *config.Config) {
		cfg.Stores = []config.Store{
			{ID: "fast", Description: "Fast store", Type: "file", Path: filepath.Join(root, "fast")},
			{ID: "cheap", Description: "Cheap store", Type: "file", Path: filepath.Join(root, "cheap")},
		}
		cfg.DefaultStore = "fast"
	})
	env := c.adminEnv()
	if got := ok(t, env, "stores", "list", "-f", "csv"); got !=
		"\"ID\",\"Description\",\"Default\"\n\"fast\",\"Fast store\",True\n\"cheap\",\"Cheap store\",False\n" {
		t.Fatalf("stores list: %q", got)
	}
	if got := ok(t, env, "stores", "list", "--detail", "-f", "value", "-c", "ID", "-c", "Properties"); !strings.Contains(got, "cheap {'data_dir': ") {
		t.Errorf("stores list --detail: %q", got)
	}
	file, _ := writeData(t, c.dir, "d.raw", 4096)
	m := showJSON(t, env, lines(ok(t, env, "create", "--file", file, "--store", "cheap", "-f", "value", "-c", "id", "stored"))[0])
	if props, _ := m["properties"].(map[string]any); props["stores"] != "cheap" {
		t.Errorf("create --store cheap: %v", m)
	}
}

// imageClient is a gophercloud image client for the admin, to set up
// test data quickly.
func (c *cloud) imageClient() *gophercloud.ServiceClient {
	c.t.Helper()
	ic, err := openstack.NewImageV2(c.adminProvider(), gophercloud.EndpointOpts{})
	if err != nil {
		c.t.Fatal(err)
	}
	return ic
}
