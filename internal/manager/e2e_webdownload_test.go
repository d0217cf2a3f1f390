package manager

import (
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/config"
)

// allowUpstream lets glint's web-download fetch from the test's upstream
// server, and from nothing else on loopback: glint refuses loopback,
// private and metadata addresses unless a network is allowed.
func allowUpstream(up *upstream) func(*config.Config) {
	return func(c *config.Config) {
		wd := &c.Import.WebDownload
		wd.AllowedNetworks = []string{"127.0.0.1/32"}
		wd.AllowedPorts = append(wd.AllowedPorts, up.port())
	}
}

// TestManageWebDownload imports by web-download where glint allows the
// upstream address: glint fetches each file once, glint manage moves no
// image data but reads one back when the checksum's algorithm (sha256)
// is not the one glint records (sha512).
func TestManageWebDownload(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	g := startGlint(t, allowUpstream(up))
	dir := samplesAt(t, up)
	filter := "^(Cirros|Debian 12)$"
	rep, r := g.report("--images", dir, "--filter", filter)
	if r.err != nil || rep.Summary.Created != 3 {
		t.Fatalf("%v %+v\n%s", r.err, rep.Summary, r.stderr)
	}
	for _, res := range rep.Results {
		if res.Action.Kind == KindImport && res.Method != "web-download" {
			t.Errorf("%s: method %q", res.Action.Image, res.Method)
		}
	}
	all := g.images()
	cirros := all["Cirros 0.6.3"]
	if p := props(cirros); cirros["visibility"] != "public" || cirros["status"] != "active" || p["os_version"] != "0.6.3" ||
		p["image_source"] != up.srv.URL+"/Cirros/0.6.3/cirros-0.6.3-x86_64-disk.img" {
		t.Errorf("Cirros 0.6.3: %v", cirros)
	}
	if deb := all["Debian 12"]; deb == nil || props(deb)["internal_version"] != "20260124" {
		t.Errorf("Debian 12: %v", deb)
	}
	for _, p := range []string{"/Cirros/0.6.2/cirros-0.6.2-x86_64-disk.img", "/Cirros/0.6.3/cirros-0.6.3-x86_64-disk.img",
		"/mirror/Debian_12/20260124/debian-12-genericcloud-amd64-daily-20260124-2367.qcow2"} {
		if n := up.fetched(p); n != 1 {
			t.Errorf("%s fetched %d times", p, n)
		}
	}
	if rep, _ := g.report("--images", dir, "--filter", filter, "--dry-run"); len(rep.Plan.Actions) != 0 {
		t.Errorf("second plan: %v", steps(*rep.Plan))
	}
}

// TestManageWebDownloadFails checks the fallback when the cloud's own
// download fails (the upstream answers its first request with 503):
// glint manage fetches the file itself and stages it.
func TestManageWebDownloadFails(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	up.failFirst = true
	g := startGlint(t, allowUpstream(up))
	dir := samplesAt(t, up)
	rep, r := g.report("--images", dir, "--filter", "^Cirros$")
	if r.err != nil || rep.Summary.Created != 2 {
		t.Fatalf("%v %+v\n%s", r.err, rep.Summary, r.stderr)
	}
	for _, res := range rep.Results {
		if res.Method != "glance-direct" {
			t.Errorf("%s: method %q", res.Action.Image, res.Method)
		}
	}
	if !strings.Contains(r.stderr, "web-download failed") {
		t.Errorf("stderr:\n%s", r.stderr)
	}
	if got := managedNames(g.images()); len(got) != 2 {
		t.Errorf("images: %v", got)
	}
}

// TestManageWebDownloadChecksum checks that glint manage hands the
// checksum to glint's web-download, which then refuses bad data, and
// that the fallback refuses it too: no image is left.
func TestManageWebDownloadChecksum(t *testing.T) {
	t.Parallel()
	up := newUpstream(t)
	g := startGlint(t, allowUpstream(up))
	dir := samplesAt(t, up)
	editFile(t, filepath.Join(dir, "cirros.yml"), func(images *yaml.Node) {
		v := lookup(definitionNode(t, images, "Cirros"), "versions").Content[1]
		setText(v, "checksum", digest("sha256", []byte("not this")))
	})
	rep, r := g.report("--images", dir, "--filter", "^Cirros$")
	if r.err == nil || rep.Summary.Failed != 1 || rep.Summary.Created != 1 {
		t.Fatalf("%v %+v", r.err, rep.Summary)
	}
	if !strings.Contains(r.stderr, "does not match its sha256 checksum") || !strings.Contains(rep.Results[1].Error, "sha256 checksum mismatch") {
		t.Errorf("errors: %q\n%s", rep.Results[1].Error, r.stderr)
	}
	if got := managedNames(g.images()); len(got) != 1 || got[0] != "Cirros 0.6.2" {
		t.Errorf("images: %v", got)
	}
}

// TestManageWebDownloadRefused checks glint's default: web-download of
// a loopback URL is refused by its address filter, so --prefetch never
// fails with the cloud's reason and the default fetches and stages.
func TestManageWebDownloadRefused(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	rep, r := g.report("--images", dir, "--filter", "^Cirros$", "--prefetch", "never")
	if r.err == nil || rep.Summary.Failed != 2 || !strings.Contains(rep.Results[0].Error, "does not pass filtering") {
		t.Fatalf("%v %+v %+v", r.err, rep.Summary, rep.Results)
	}
	if len(g.images()) != 0 {
		t.Errorf("images left: %v", managedNames(g.images()))
	}
	rep, _ = g.report("--images", dir, "--filter", "^Cirros$")
	if rep.Summary.Created != 2 || rep.Results[0].Method != "glance-direct" {
		t.Errorf("%+v %+v", rep.Summary, rep.Results)
	}
}
