package manager

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// enabledSamples are the images the five sample files make.
var enabledSamples = []string{"AlmaLinux 9", "Cirros 0.6.2", "Cirros 0.6.3", "Debian 11", "Debian 12", "Debian 13",
	"Ubuntu 22.04", "Ubuntu 22.04 Minimal", "Ubuntu 24.04", "Ubuntu 24.04 Minimal"}

func managedNames(all map[string]map[string]any) []string {
	var names []string
	for name, img := range all {
		if slices.Contains(toStrings(img["tags"]), "managed_by_osism") {
			names = append(names, name)
		}
	}
	slices.SortFunc(names, naturalCompare)
	return names
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	slices.Sort(out)
	return out
}

// TestManageSamples runs the five sample definitions against a real
// glint, from an empty cloud through a rotation and a removal.
func TestManageSamples(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)

	g.ok("--images", dir, "--check-only")

	// The dry-run plans every import and changes nothing.
	rep, r := g.report("--images", dir, "--dry-run")
	if r.err != nil {
		t.Fatalf("dry-run: %v\n%s", r.err, r.stderr)
	}
	var planned []string
	for _, a := range rep.Plan.Actions {
		if a.Kind == KindImport {
			planned = append(planned, a.Image)
		}
	}
	if len(planned) != len(enabledSamples) || len(g.images()) != 0 {
		t.Fatalf("dry-run planned %v and left %d images", planned, len(g.images()))
	}

	// The dry run fetched the small sample files once to check their
	// checksums.
	mirror := "/mirror/Ubuntu_24.04/20260108/noble-server-cloudimg-amd64.img"
	dryRunGets := up.fetched(mirror)

	// First run: every enabled definition is imported.
	r = g.ok("--images", dir)
	if !strings.Contains(r.stdout, "Summary: 10 created, 0 updated, 8 renamed, 0 hidden") {
		t.Errorf("summary:\n%s", r.stdout)
	}
	all := g.images()
	if got := managedNames(all); !slices.Equal(got, enabledSamples) {
		t.Fatalf("images after the first run: %v", got)
	}
	ubuntu := all["Ubuntu 24.04"]
	wantUbuntu := map[string]string{
		"architecture": "x86_64", "hw_disk_bus": "scsi", "hw_rng_model": "virtio", "hw_scsi_model": "virtio-scsi",
		"hw_watchdog_action": "reset", "hypervisor_type": "qemu", "os_distro": "ubuntu", "os_version": "24.04",
		"os_purpose": "generic", "replace_frequency": "quarterly", "uuid_validity": "last-3", "provided_until": "none",
		"image_description": "Ubuntu 24.04", "image_name": "Ubuntu 24.04", "internal_version": "20260108",
		"image_original_user": "ubuntu", "image_build_date": "2026-01-08",
		"image_source": up.srv.URL + "/Ubuntu_24.04/20260108/noble-server-cloudimg-amd64.img",
	}
	if got := props(ubuntu); !maps.Equal(got, wantUbuntu) {
		t.Errorf("Ubuntu 24.04 properties:\n got %v\nwant %v", got, wantUbuntu)
	}
	if tags := toStrings(ubuntu["tags"]); !slices.Equal(tags, []string{"managed_by_osism", "os:ubuntu"}) {
		t.Errorf("tags %v", tags)
	}
	if ubuntu["visibility"] != "public" || ubuntu["status"] != "active" || fmt.Sprint(ubuntu["min_disk"]) != "8" ||
		fmt.Sprint(ubuntu["min_ram"]) != "512" || ubuntu["disk_format"] != "qcow2" || ubuntu["container_format"] != "bare" ||
		fmt.Sprint(ubuntu["size"]) != fmt.Sprint(len(qcow2Image("Ubuntu 24.04 20260108"))) {
		t.Errorf("Ubuntu 24.04: %v", ubuntu)
	}
	// The mirror is what is fetched; url is only recorded.
	if n := up.fetched(mirror) - dryRunGets; n != 1 || dryRunGets != 1 {
		t.Errorf("mirror fetched %d times by the dry run, %d times by the import", dryRunGets, n)
	}
	cirros := props(all["Cirros 0.6.3"])
	if cirros["os_version"] != "0.6.3" || cirros["internal_version"] != "0.6.3" || cirros["image_name"] != "Cirros" ||
		cirros["image_original_user"] != "cirros" || cirros["image_build_date"] != "2024-09-26" || fmt.Sprint(all["Cirros 0.6.3"]["min_ram"]) != "64" {
		t.Errorf("Cirros 0.6.3: %v", all["Cirros 0.6.3"])
	}

	// glint offers no web-download yet: the data went through here.
	rep, _ = g.report("--images", dir, "--dry-run")
	if len(rep.Plan.Actions) != 0 {
		t.Fatalf("second plan: %v", steps(*rep.Plan))
	}
	rep, r = g.report("--images", dir)
	if r.err != nil || len(rep.Results) != 0 || *rep.Summary != (Summary{}) {
		t.Fatalf("second run: %v %+v %+v", r.err, rep.Results, rep.Summary)
	}

	// A new Ubuntu 24.04 build: the plain name moves to it, the old one
	// keeps its versioned name, is marked deprecated and (--hide) hidden.
	oldID := ubuntu["id"]
	editFile(t, filepath.Join(dir, "ubuntu.yml"), func(images *yaml.Node) {
		v := lookup(definitionNode(t, images, "Ubuntu 24.04"), "versions").Content[0]
		setText(v, "version", "20260201")
		up.pointAt(v, "Ubuntu 24.04", "20260201")
	})
	rep, r = g.report("--images", dir, "--hide")
	if r.err != nil {
		t.Fatalf("rotation: %v\n%s", r.err, r.stderr)
	}
	if want := (Summary{Created: 1, Renamed: 2, Updated: 1, Hidden: 1}); *rep.Summary != want {
		t.Errorf("rotation summary %+v, want %+v; steps %v", *rep.Summary, want, steps(*rep.Plan))
	}
	all = g.images()
	old := all["Ubuntu 24.04 (20260108)"]
	if old["id"] != oldID || old["visibility"] != "community" || props(old)["deprecated"] != "true" ||
		props(old)["replacement"] != "Ubuntu 24.04" || props(old)["internal_version"] != "20260108" {
		t.Errorf("old Ubuntu 24.04: %v", old)
	}
	current := all["Ubuntu 24.04"]
	if current["id"] == oldID || props(current)["internal_version"] != "20260201" || current["visibility"] != "public" ||
		props(current)["deprecated"] != "" {
		t.Errorf("new Ubuntu 24.04: %v", current)
	}
	if rep, _ := g.report("--images", dir, "--hide", "--dry-run"); len(rep.Plan.Actions) != 0 {
		t.Errorf("after the rotation: %v", steps(*rep.Plan))
	}

	// Debian 11 leaves the catalog: nothing happens to its image without
	// a cleanup switch, --hide hides it, --delete alone does not delete
	// it, --delete with --yes-i-really-know-what-i-do does.
	editFile(t, filepath.Join(dir, "debian.yml"), func(images *yaml.Node) {
		images.Content = slices.DeleteFunc(images.Content, func(n *yaml.Node) bool { return text(n, "name") == "Debian 11" })
	})
	debian11 := func() map[string]any { return g.images()["Debian 11"] }
	for _, args := range [][]string{nil, {"--deactivate"}, {"--delete"}} {
		rep, r = g.report(append([]string{"--images", dir}, args...)...)
		if r.err != nil || rep.Summary.Deleted != 0 || debian11() == nil || debian11()["visibility"] != "public" {
			t.Fatalf("%v: %v %+v %v", args, r.err, rep.Summary, debian11())
		}
		if slices.Contains(args, "--deactivate") && (!strings.Contains(r.stderr, "msg=deactivating") || strings.Contains(r.stderr, "deactivateing")) {
			t.Errorf("--deactivate log:\n%s", r.stderr)
		}
	}
	if debian11()["status"] != "deactivated" {
		t.Errorf("--deactivate: %v", debian11()["status"])
	}
	rep, _ = g.report("--images", dir, "--hide")
	if rep.Summary.Hidden != 1 || debian11()["visibility"] != "community" {
		t.Errorf("--hide: %+v %v", rep.Summary, debian11())
	}
	rep, _ = g.report("--images", dir, "--delete", "--yes-i-really-know-what-i-do", "--dry-run")
	if got := steps(*rep.Plan); !slices.Equal(got, []string{"delete Debian 11"}) || debian11() == nil {
		t.Errorf("dry-run of the delete: %v", got)
	}
	rep, _ = g.report("--images", dir, "--delete", "--yes-i-really-know-what-i-do")
	if rep.Summary.Deleted != 1 || debian11() != nil {
		t.Errorf("--delete --yes-i-really-know-what-i-do: %+v", rep.Summary)
	}
	// Cirros has uuid_validity none: the old Ubuntu is kept by last-3,
	// and nothing else was touched.
	if got := managedNames(g.images()); !slices.Equal(got, []string{"AlmaLinux 9", "Cirros 0.6.2", "Cirros 0.6.3",
		"Debian 12", "Debian 13", "Ubuntu 22.04", "Ubuntu 22.04 Minimal", "Ubuntu 24.04", "Ubuntu 24.04 (20260108)",
		"Ubuntu 24.04 Minimal"}) {
		t.Errorf("after the cleanup: %v", got)
	}
}

// TestManageChecksumMismatch checks that data that does not match its
// checksum is never published, leaves no image behind, fails the run and
// stops its cleanup.
func TestManageChecksumMismatch(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	g.ok("--images", dir, "--filter", "^Debian 12$")
	editFile(t, filepath.Join(dir, "debian.yml"), func(images *yaml.Node) {
		v := lookup(definitionNode(t, images, "Debian 12"), "versions").Content[0]
		setText(v, "version", "20260301")
		up.pointAt(v, "Debian 12", "20260301")
		setText(v, "checksum", digest("sha512", []byte("something else")))
	})
	before := g.images()["Debian 12"]
	rep, r := g.report("--images", dir, "--filter", "^Debian 12$", "--hide", "--fetch-retries", "1")
	if r.err == nil || rep.Summary.Failed != 1 || rep.Summary.Created != 0 {
		t.Fatalf("run: %v %+v\n%s", r.err, rep.Summary, r.stderr)
	}
	var failure string
	for _, res := range rep.Results {
		if res.Outcome == "failed" {
			failure = res.Error
		}
	}
	if !strings.Contains(failure, "sha512 checksum mismatch") {
		t.Errorf("failure: %q", failure)
	}
	for _, res := range rep.Results {
		if res.Action.Kind != KindImport && res.Outcome != "skipped" {
			t.Errorf("%s %s: %s, want skipped", res.Action.Kind, res.Action.Image, res.Outcome)
		}
	}
	all := g.images()
	if len(all) != 1 || all["Debian 12"]["id"] != before["id"] || all["Debian 12"]["visibility"] != "public" {
		t.Errorf("images after the failure: %v", managedNames(all))
	}
	// A checksum mismatch is not retried: the file was fetched once.
	if n := up.fetched("/mirror/Debian_12/20260301/debian-12-genericcloud-amd64-daily-20260124-2367.qcow2"); n != 1 {
		t.Errorf("fetched %d times", n)
	}
}

// TestManageRotationWithDelete runs four new versions of a multi
// definition with last-3 and the delete switches: the current image and
// two predecessors stay, older ones are deleted.
func TestManageRotationWithDelete(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := samplesAt(t, up)
	filter := "^AlmaLinux 9" // like the tool, cleanup only sees names --filter matches
	g.ok("--images", dir, "--filter", filter)
	var ids []any
	ids = append(ids, g.images()["AlmaLinux 9"]["id"])
	for i, version := range []string{"20251201", "20251215", "20260105"} {
		editFile(t, filepath.Join(dir, "almalinux.yml"), func(images *yaml.Node) {
			v := lookup(definitionNode(t, images, "AlmaLinux 9"), "versions").Content[0]
			setText(v, "version", version)
			up.pointAt(v, "AlmaLinux 9", version)
		})
		rep, r := g.report("--images", dir, "--filter", filter, "--hide", "--delete", "--yes-i-really-know-what-i-do")
		if r.err != nil {
			t.Fatalf("run %d: %v\n%s", i, r.err, r.stderr)
		}
		ids = append(ids, g.images()["AlmaLinux 9"]["id"])
		if i == 2 && rep.Summary.Deleted != 1 {
			t.Errorf("run %d: %+v", i, rep.Summary)
		}
	}
	all := g.images()
	want := []string{"AlmaLinux 9", "AlmaLinux 9 (20251201)", "AlmaLinux 9 (20251215)"}
	if got := managedNames(all); !slices.Equal(got, want) {
		t.Fatalf("images: %v", got)
	}
	for i, name := range []string{"AlmaLinux 9 (20251215)", "AlmaLinux 9 (20251201)"} {
		if all[name]["id"] != ids[2-i] || all[name]["visibility"] != "community" {
			t.Errorf("%s: %v", name, all[name])
		}
	}
	if all["AlmaLinux 9"]["id"] != ids[3] {
		t.Errorf("current: %v", all["AlmaLinux 9"])
	}
}

// TestManageLatestPointer follows a version latest: imported once,
// left alone while the upstream digest stays, rotated when it changes.
func TestManageLatestPointer(t *testing.T) {
	t.Parallel()
	g := startGlint(t)
	up := newUpstream(t)
	dir := t.TempDir()
	image := up.put("/alma/latest/AlmaLinux-9-latest.qcow2", qcow2Image("latest 1"))
	up.put("/alma/latest/CHECKSUM", []byte(fmt.Sprintf("# AlmaLinux\nSHA256 (AlmaLinux-9-latest.qcow2) = %s\n",
		strings.TrimPrefix(digest("sha256", qcow2Image("latest 1")), "sha256:"))))
	base := def{name: "AlmaLinux 9", versions: []string{"latest"}, vextra: map[string]string{
		"latest": "        checksums_url: " + up.srv.URL + "/alma/latest/CHECKSUM\n"}}
	text := "images:\n" + strings.Replace(base.yaml(), "https://images.example/almalinux-9/latest.qcow2", image, 1)
	writeFile(t, filepath.Join(dir, "alma.yml"), text)

	g.ok("--images", dir)
	first := g.images()["AlmaLinux 9"]
	if p := props(first); p["internal_version"] != "20260120" || p["upstream_checksum"] == "" {
		t.Fatalf("first import: %v", first)
	}
	if rep, _ := g.report("--images", dir, "--dry-run"); len(rep.Plan.Actions) != 0 {
		t.Fatalf("unchanged upstream: %v", steps(*rep.Plan))
	}
	up.mu.Lock()
	up.modified = up.modified.AddDate(0, 0, 14)
	up.mu.Unlock()
	up.put("/alma/latest/AlmaLinux-9-latest.qcow2", qcow2Image("latest 2"))
	up.put("/alma/latest/CHECKSUM", []byte(fmt.Sprintf("%s  AlmaLinux-9-latest.qcow2\n",
		strings.TrimPrefix(digest("sha256", qcow2Image("latest 2")), "sha256:"))))
	g.ok("--images", dir)
	all := g.images()
	if all["AlmaLinux 9 (20260120)"]["id"] != first["id"] || props(all["AlmaLinux 9"])["internal_version"] != "20260203" {
		t.Fatalf("after the upstream change: %v", managedNames(all))
	}
	if rep, _ := g.report("--images", dir, "--dry-run"); len(rep.Plan.Actions) != 0 {
		t.Fatalf("after the rotation: %v", steps(*rep.Plan))
	}
}
