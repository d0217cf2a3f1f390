package manager

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"go.yaml.in/yaml/v3"
)

// expectedMethod is how glint manage gets data into g when it fetches
// the data itself: staged import when the cloud offers glance-direct,
// else a plain upload.
func (g *glint) expectedMethod() string {
	s := g.session()
	methods, err := NewClient(s.Image, s.ProjectID).ImportMethods(g.t.Context())
	if err != nil {
		g.t.Fatal(err)
	}
	if slices.Contains(methods, "glance-direct") {
		return "glance-direct"
	}
	return "upload"
}

// TestManageLeavesUnmanagedImages checks that only images with the
// managed tag are looked at: an untagged image of the same name is
// neither reused nor cleaned up.
func TestManageLeavesUnmanagedImages(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	s := g.session()
	var created map[string]any
	if _, err := s.Image.Post(t.Context(), s.Image.ServiceURL("images"), map[string]any{"name": "Cirros 0.6.3",
		"disk_format": "qcow2", "container_format": "bare", "image_description": "Cirros", "image_name": "Cirros"},
		&created, &gophercloud.RequestOpts{OkCodes: []int{201}}); err != nil {
		t.Fatal(err)
	}
	rep, r := g.report("--images", dir, "--filter", "^Cirros$", "--delete", "--yes-i-really-know-what-i-do")
	if r.err != nil || rep.Summary.Created != 2 || rep.Summary.Deleted != 0 {
		t.Fatalf("%v %+v\n%s", r.err, rep.Summary, r.stderr)
	}
	if m := rep.Results[0].Method; m != g.expectedMethod() {
		t.Errorf("method %q, want %q", m, g.expectedMethod())
	}
	var body struct {
		Images []map[string]any `json:"images"`
	}
	if _, err := s.Image.Get(t.Context(), s.Image.ServiceURL("images")+"?name=Cirros+0.6.3", &body, nil); err != nil {
		t.Fatal(err)
	}
	if len(body.Images) != 2 {
		t.Fatalf("%d images called Cirros 0.6.3", len(body.Images))
	}
	for _, img := range body.Images {
		if img["id"] == created["id"] && (img["status"] != "queued" || len(toStrings(img["tags"])) != 0) {
			t.Errorf("the unmanaged image was touched: %v", img)
		}
	}
}

// TestManageShare shares an image with a project and takes it back.
func TestManageShare(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	g.ok("--images", dir, "--filter", "^Cirros$")
	s := g.session()
	demo, err := projects.Create(t.Context(), s.Identity, projects.CreateOpts{Name: "demo", DomainID: "default"}).Extract()
	if err != nil {
		t.Fatal(err)
	}
	id := g.images()["Cirros 0.6.3"]["id"].(string)
	member := func() string {
		var m struct {
			Status string `json:"status"`
		}
		_, err := s.Image.Get(t.Context(), s.Image.ServiceURL("images", id, "members", demo.ID), &m, nil)
		if gophercloud.ResponseCodeIs(err, 404) {
			return "none"
		} else if err != nil {
			t.Fatal(err)
		}
		return m.Status
	}
	// Sharing needs a shared image, as in Glance.
	if _, err := s.Image.Patch(t.Context(), s.Image.ServiceURL("images", id), []map[string]any{
		{"op": "replace", "path": "/visibility", "value": "shared"}}, nil, &gophercloud.RequestOpts{
		MoreHeaders: map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"}, OkCodes: []int{200}}); err != nil {
		t.Fatal(err)
	}
	rep, r := g.report("--share-image", "Cirros 0.6.3", "--share-target", "demo", "--dry-run")
	if r.err != nil || len(rep.Shares) != 2 || rep.Shares[0].Outcome != "planned" || member() != "none" {
		t.Fatalf("dry-run: %v %+v %s", r.err, rep.Shares, member())
	}
	r = g.ok("--share-image", "Cirros 0.6.3", "--share-target", "demo")
	if !strings.Contains(r.stdout, "add Cirros 0.6.3 ("+id+") for project demo ("+demo.ID+"): done") ||
		!strings.Contains(r.stdout, "accept Cirros 0.6.3") || member() != "accepted" {
		t.Fatalf("add: %s %s", r.stdout, member())
	}
	if r = g.ok("--share-image", id, "--share-target", "demo"); !strings.Contains(r.stdout, "none Cirros 0.6.3") {
		t.Errorf("again: %s", r.stdout)
	}
	g.ok("--share-image", "Cirros 0.6.3", "--share-target", "demo", "--share-action", "del")
	if member() != "none" {
		t.Errorf("del: %s", member())
	}
	if r := g.manage("--share-image", "Cirros 0.6.3", "--share-target", "nobody"); r.err == nil ||
		!strings.Contains(r.err.Error(), `no project "nobody" in domain "default"`) {
		t.Errorf("unknown project: %v", r.err)
	}
}

// TestManageDryRunChecks: a dry run tries each import's URL and, for a
// small file, its checksum, says what it found and what it did not
// check, and fails when an import would fail (it once promised "sha256
// verified" for a URL answering 404).
func TestManageDryRunChecks(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	check := func() (string, run) {
		t.Helper()
		rep, r := g.report("--images", dir, "--filter", "^Debian 12$", "--dry-run")
		for _, a := range rep.Plan.Actions {
			if a.Kind == KindImport {
				return a.Check, r
			}
		}
		t.Fatalf("no import planned: %v", steps(*rep.Plan))
		return "", r
	}
	if got, r := check(); r.err != nil || !strings.HasPrefix(got, "dry run: the URL answers and the data matches its sha") {
		t.Fatalf("good definition: %v %q", r.err, got)
	}
	editFile(t, filepath.Join(dir, "debian.yml"), func(images *yaml.Node) {
		v := lookup(definitionNode(t, images, "Debian 12"), "versions").Content[0]
		setText(v, "checksum", digest("sha512", []byte("something else")))
	})
	if got, r := check(); r.err == nil || !strings.Contains(got, "sha512 checksum mismatch") {
		t.Fatalf("wrong checksum: %v %q", r.err, got)
	}
	editFile(t, filepath.Join(dir, "debian.yml"), func(images *yaml.Node) {
		v := lookup(definitionNode(t, images, "Debian 12"), "versions").Content[0]
		setText(v, "url", up.srv.URL+"/gone/debian-12.qcow2")
		if lookup(v, "mirror_url") != nil {
			setText(v, "mirror_url", up.srv.URL+"/gone/debian-12.qcow2")
		}
	})
	if got, r := check(); r.err == nil || !strings.Contains(got, "cannot be fetched: the server answered 404") {
		t.Fatalf("404: %v %q", r.err, got)
	}
	if g.images()["Debian 12"] != nil {
		t.Fatal("a dry run imported")
	}
}
