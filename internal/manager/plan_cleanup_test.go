package manager

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestPlanCleanup checks the cleanup rules: which outdated images are
// kept, hidden, deactivated or deleted, with which switches.
func TestPlanCleanup(t *testing.T) {
	ubuntu := def{name: "Ubuntu 24.04", versions: []string{"20240501"}}
	// The current image and three predecessors.
	rotated := func(extra ...string) []Image {
		return []Image{
			managedImage("c", "Ubuntu 24.04", "Ubuntu 24.04", "20240501"),
			managedImage("o1", "Ubuntu 24.04 (20240416)", "Ubuntu 24.04", "20240416", extra...),
			managedImage("o2", "Ubuntu 24.04 (20240401)", "Ubuntu 24.04", "20240401", extra...),
			managedImage("o3", "Ubuntu 24.04 (20240301)", "Ubuntu 24.04", "20240301", extra...),
		}
	}
	marks := func(images ...string) []string {
		var out []string
		for _, img := range images {
			out = append(out, "update "+img+" deprecated=true replacement=Ubuntu 24.04")
		}
		return out
	}
	allMarks := marks("Ubuntu 24.04 (20240416)", "Ubuntu 24.04 (20240401)", "Ubuntu 24.04 (20240301)")
	cirros := def{name: "Cirros", single: true, uuid: "last-2", versions: []string{"0.6.3"}}
	cirrosImages := []Image{managedImage("c3", "Cirros 0.6.3", "Cirros", "0.6.3", "uuid_validity", "last-2"),
		managedImage("c2", "Cirros 0.6.2", "Cirros", "0.6.2", "uuid_validity", "last-2"),
		managedImage("c1", "Cirros 0.6.1", "Cirros", "0.6.1", "uuid_validity", "last-2")}
	for i := range cirrosImages {
		cirrosImages[i].Properties["os_version"] = strings.TrimPrefix(cirrosImages[i].Name, "Cirros ")
	}
	cirrosMarks := []string{"update Cirros 0.6.2 deprecated=true replacement=Cirros 0.6.3",
		"update Cirros 0.6.1 deprecated=true replacement=Cirros 0.6.3"}

	cases := []struct {
		name   string
		defs   []def
		images []Image
		dir    *bool
		opts   func(*Options)
		want   []string
		notes  []string
		// reasons are in the reasons of the cleanup actions.
		reasons []string
	}{{
		name:   "without switches: only notes",
		defs:   []def{ubuntu},
		images: rotated(),
		want:   allMarks,
		notes: []string{"(20240416): kept: 1 of the 2", "(20240401): kept: 2 of the 2",
			"(20240301): outdated: would be deleted, but deletion is disabled (--delete --yes-i-really-know-what-i-do)"},
	}, {
		name:   "--hide hides every outdated image, kept or not",
		defs:   []def{ubuntu},
		images: rotated(),
		opts:   func(o *Options) { o.Hide = true },
		want: append(slices.Clone(allMarks), "hide Ubuntu 24.04 (20240416)", "hide Ubuntu 24.04 (20240401)",
			"hide Ubuntu 24.04 (20240301)"),
	}, {
		name:   "--deactivate deactivates what would be deleted",
		defs:   []def{ubuntu},
		images: rotated(),
		opts:   func(o *Options) { o.Deactivate = true },
		want:   append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)"),
	}, {
		name:   "--delete with --yes-i-really-know-what-i-do: deactivate, hide, delete beyond last-3",
		defs:   []def{ubuntu},
		images: rotated(),
		opts:   func(o *Options) { o.Delete = true },
		want: append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)",
			"delete Ubuntu 24.04 (20240301)"),
	}, {
		name:   "uuid_validity of the image counts, not the definition's",
		defs:   []def{ubuntu},
		images: rotated("uuid_validity", "last-1"),
		opts:   func(o *Options) { o.Delete = true },
		want: append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240416)", "hide Ubuntu 24.04 (20240416)",
			"delete Ubuntu 24.04 (20240416)", "deactivate Ubuntu 24.04 (20240401)", "hide Ubuntu 24.04 (20240401)",
			"delete Ubuntu 24.04 (20240401)", "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)",
			"delete Ubuntu 24.04 (20240301)"),
	}, {
		name:   "uuid_validity none: never removed",
		defs:   []def{ubuntu},
		images: rotated("uuid_validity", "none"),
		opts:   func(o *Options) { o.Delete, o.Hide = true, true },
		want:   allMarks,
		notes:  []string{"uuid_validity none: never removed"},
	}, {
		name:   "uuid_validity forever and notice protect too",
		defs:   []def{ubuntu},
		images: append(rotated("uuid_validity", "forever")[:3], managedImage("o3", "Ubuntu 24.04 (20240301)", "Ubuntu 24.04", "20240301", "uuid_validity", "notice")),
		opts:   func(o *Options) { o.Delete = true },
		want:   allMarks,
		notes:  []string{"uuid_validity forever: never removed", "uuid_validity notice: removed only by hand"},
	}, {
		name:   "a uuid_validity date protects until it has passed",
		defs:   []def{ubuntu},
		images: append(rotated("uuid_validity", "2026-02-01")[:3], managedImage("o3", "Ubuntu 24.04 (20240301)", "Ubuntu 24.04", "20240301", "uuid_validity", "2026-01-31")),
		opts:   func(o *Options) { o.Delete = true },
		want: append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)",
			"delete Ubuntu 24.04 (20240301)"),
		notes: []string{"(20240416): uuid_validity: valid until 2026-02-01"},
	}, {
		name:    "a protected image is not deleted",
		defs:    []def{ubuntu},
		images:  func() []Image { imgs := rotated(); imgs[3].Protected = true; return imgs }(),
		opts:    func(o *Options) { o.Delete = true },
		want:    append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)"),
		reasons: []string{"not deleted: the image is protected"},
	}, {
		name:    "keep: true in the definition: deactivated and hidden, never deleted",
		defs:    []def{{name: "Ubuntu 24.04", versions: []string{"20240501"}, extra: "    keep: true\n"}},
		images:  rotated(),
		opts:    func(o *Options) { o.Delete = true },
		want:    append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)"),
		reasons: []string{"not deleted: the definition has keep: true"},
	}, {
		name:   "an older version still listed is not deleted (it would come back next run)",
		defs:   []def{{name: "Ubuntu 24.04", versions: []string{"20240301", "20240501"}}},
		images: rotated(),
		opts:   func(o *Options) { o.Delete = true },
		want: append(marks("Ubuntu 24.04 (20240301)", "Ubuntu 24.04 (20240416)", "Ubuntu 24.04 (20240401)"),
			"deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)"),
		reasons: []string{"not deleted: its version is still listed"},
	}, {
		name:   "non-multi: versions no longer listed are outdated",
		defs:   []def{cirros},
		images: cirrosImages,
		opts:   func(o *Options) { o.Delete = true },
		want:   append(slices.Clone(cirrosMarks), "deactivate Cirros 0.6.1", "hide Cirros 0.6.1", "delete Cirros 0.6.1"),
	}, {
		name:   "--keep keeps outdated versions of non-multi definitions",
		defs:   []def{cirros},
		images: cirrosImages,
		opts:   func(o *Options) { o.Delete, o.Keep = true, true },
		want:   cirrosMarks,
		notes:  []string{"kept: --keep", "kept: --keep"},
	}, {
		name:   "--keep does not apply to multi definitions",
		defs:   []def{ubuntu},
		images: rotated(),
		opts:   func(o *Options) { o.Delete, o.Keep = true, true },
		want: append(slices.Clone(allMarks), "deactivate Ubuntu 24.04 (20240301)", "hide Ubuntu 24.04 (20240301)",
			"delete Ubuntu 24.04 (20240301)"),
	}, {
		name:   "a disabled definition keeps its plain image; its older ones are outdated",
		defs:   []def{{name: "Ubuntu 24.04", disabled: true, versions: []string{"20240501"}}},
		images: rotated("uuid_validity", "last-1"),
		opts:   func(o *Options) { o.Hide = true },
		want: []string{"hide Ubuntu 24.04 (20240416)", "hide Ubuntu 24.04 (20240401)",
			"hide Ubuntu 24.04 (20240301)"},
	}, {
		name:   "a removed definition: all its images are outdated (directory mode)",
		defs:   []def{cirros},
		images: append(rotated()[:2], cirrosImages[0]),
		opts:   func(o *Options) { o.Delete = true },
		want: []string{"deactivate Ubuntu 24.04", "hide Ubuntu 24.04", "delete Ubuntu 24.04",
			"deactivate Ubuntu 24.04 (20240416)", "hide Ubuntu 24.04 (20240416)", "delete Ubuntu 24.04 (20240416)"},
	}, {
		name:   "a removed definition is left alone with a single file",
		defs:   []def{cirros},
		images: append(rotated()[:2], cirrosImages[0]),
		dir:    new(bool),
		opts:   func(o *Options) { o.Delete = true },
		notes:  []string{`no definition "Ubuntu 24.04" in the files read: left alone`},
	}, {
		name:   "a removed definition is left alone with --filter; so is anything --filter does not match",
		defs:   []def{cirros},
		images: append(rotated()[:2], cirrosImages...),
		opts:   func(o *Options) { o.Delete, o.Filter = true, regexp.MustCompile("^(Cirros|Ubuntu 24.04$)") },
		want:   append(slices.Clone(cirrosMarks), "deactivate Cirros 0.6.1", "hide Cirros 0.6.1", "delete Cirros 0.6.1"),
		notes:  []string{`no definition "Ubuntu 24.04"`},
	}, {
		name: "an image without image_name or image_description is left alone",
		defs: []def{ubuntu},
		images: []Image{managedImage("c", "Ubuntu 24.04", "Ubuntu 24.04", "20240501"),
			managedImage("x", "Something", "x", "1", "image_name", "", "image_description", "")},
		opts:  func(o *Options) { o.Delete = true },
		notes: []string{"Something: no image_name or image_description property"},
	}, {
		name: "a custom image_description does not hide an image from cleanup (image_name links it)",
		defs: []def{ubuntu},
		images: []Image{managedImage("c", "Ubuntu 24.04", "Ubuntu 24.04", "20240501"),
			managedImage("o", "Ubuntu 24.04 (20230101)", "Ubuntu 24.04", "20230101", "image_description", "Noble", "uuid_validity", "last-1")},
		opts: func(o *Options) { o.Delete = true },
		want: append(marks("Ubuntu 24.04 (20230101)"), "deactivate Ubuntu 24.04 (20230101)",
			"hide Ubuntu 24.04 (20230101)", "delete Ubuntu 24.04 (20230101)"),
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := catalogOf(t, c.defs...)
			if c.dir != nil {
				cat.Directory = *c.dir
			}
			o := defaultOptions()
			if c.opts != nil {
				c.opts(&o)
			}
			cl := newCloud(c.images)
			p := cl.plan(cat, o, nil)
			equalSteps(t, "actions", steps(p), c.want)
			checkContains(t, "notes", noteTexts(p), c.notes)
			var reasons []string
			acted := map[string]bool{}
			for _, a := range p.Actions {
				if a.Cleanup {
					reasons = append(reasons, a.Reason)
					acted[a.ImageID] = true
				}
			}
			checkContains(t, "reasons", reasons, c.reasons)
			// An image is in the action table or under "left alone",
			// never both.
			for _, n := range p.Notes {
				if n.ImageID != "" && acted[n.ImageID] {
					t.Errorf("%s is both acted on and left alone: %q", n.Image, n.Message)
				}
			}
			if len(p.Errors) > 0 {
				t.Errorf("errors: %+v", p.Errors)
			}
			cl.apply(t, p)
			if again := cl.plan(cat, o, nil); len(again.Actions) != 0 {
				t.Errorf("the plan after applying it: %v", steps(again))
			}
		})
	}
}

// TestPlanRotationOverRuns runs a multi definition with last-3 through
// five versions, one per run, with --hide --delete, as the update bot's
// one-version catalog does in production.
func TestPlanRotationOverRuns(t *testing.T) {
	o := defaultOptions()
	o.Hide, o.Delete = true, true
	cl := &cloud{}
	versions := []string{"20240101", "20240201", "20240301", "20240401", "20240501"}
	want := [][]string{
		{"Ubuntu 24.04 [public active]"},
		{"Ubuntu 24.04 (20240101) [community active]", "Ubuntu 24.04 [public active]"},
		{"Ubuntu 24.04 (20240101) [community active]", "Ubuntu 24.04 (20240201) [community active]",
			"Ubuntu 24.04 [public active]"},
		{"Ubuntu 24.04 (20240201) [community active]", "Ubuntu 24.04 (20240301) [community active]",
			"Ubuntu 24.04 [public active]"},
		{"Ubuntu 24.04 (20240301) [community active]", "Ubuntu 24.04 (20240401) [community active]",
			"Ubuntu 24.04 [public active]"},
	}
	var currentIDs []string
	for i, v := range versions {
		cat := catalogOf(t, def{name: "Ubuntu 24.04", versions: []string{v}})
		p := cl.plan(cat, o, nil)
		cl.apply(t, p)
		if got := cl.names(); !slices.Equal(got, want[i]) {
			t.Fatalf("run %d (%s): %v, want %v", i+1, v, got, want[i])
		}
		cur := cl.named(t, "Ubuntu 24.04")
		if cur.Properties["internal_version"] != v || cur.Properties["deprecated"] != "" {
			t.Errorf("run %d: current image %+v", i+1, cur.Properties)
		}
		currentIDs = append(currentIDs, cur.ID)
		for _, img := range cl.images {
			if img.Name != "Ubuntu 24.04" {
				// An image keeps its id through the rotation.
				label, _ := (&Definition{Name: "Ubuntu 24.04", Separator: " ", Multi: true}).versionOf(img.Name)
				if idx := slices.Index(versions, label); idx < 0 || currentIDs[idx] != img.ID {
					t.Errorf("run %d: %s has id %s, it was imported as %v", i+1, img.Name, img.ID, currentIDs)
				}
				if img.Properties["deprecated"] != "true" || img.Properties["replacement"] != "Ubuntu 24.04" {
					t.Errorf("run %d: %s not marked: %v", i+1, img.Name, img.Properties)
				}
			}
		}
		if again := cl.plan(cat, o, nil); len(again.Actions) != 0 {
			t.Fatalf("run %d: the plan after applying it: %v", i+1, steps(again))
		}
	}
}

// TestPlanLatest follows a version latest over three runs.
func TestPlanLatest(t *testing.T) {
	d := def{name: "Debian 12", versions: []string{"latest"},
		vextra: map[string]string{"latest": "        checksums_url: https://images.example/SHA512SUMS\n"}}
	cat := catalogOf(t, d)
	cl := &cloud{}
	o := defaultOptions()
	up := map[string]Upstream{"Debian 12": {Digest: strings.Repeat("a", 128), Modified: "20240416"}}

	p := cl.plan(cat, o, up)
	equalSteps(t, "first run", steps(p), []string{"import Debian 12 (latest)", "rename Debian 12 (latest) -> Debian 12"})
	if spec := p.Actions[0].Import; spec.Checksum != "sha512:"+strings.Repeat("a", 128) ||
		spec.Properties["upstream_checksum"] != strings.Repeat("a", 128) || spec.Properties["internal_version"] != "20240416" {
		t.Errorf("import spec: %+v", spec)
	}
	cl.apply(t, p)

	// Same digest, even with a newer Last-Modified: nothing.
	up["Debian 12"] = Upstream{Digest: strings.Repeat("a", 128), Modified: "20240420"}
	if p := cl.plan(cat, o, up); len(p.Actions) != 0 {
		t.Fatalf("unchanged digest: %v", steps(p))
	}

	// A new digest: rotate, the old image named after its internal_version.
	up["Debian 12"] = Upstream{Digest: strings.Repeat("b", 128), Modified: "20240501"}
	p = cl.plan(cat, o, up)
	equalSteps(t, "new digest", steps(p), []string{"import Debian 12 (latest)", "rename Debian 12 -> Debian 12 (20240416)",
		"update Debian 12 (20240416) deprecated=true replacement=Debian 12", "rename Debian 12 (latest) -> Debian 12"})
	cl.apply(t, p)
	if cur := cl.named(t, "Debian 12"); cur.Properties["internal_version"] != "20240501" {
		t.Errorf("current: %v", cur.Properties)
	}
	if p := cl.plan(cat, o, up); len(p.Actions) != 0 {
		t.Fatalf("after the rotation: %v", steps(p))
	}

	// An old image whose internal_version is the literal "latest" (no
	// Last-Modified upstream) is named after the day it was created, and
	// that is recorded.
	cl.named(t, "Debian 12").Properties["internal_version"] = "latest"
	up["Debian 12"] = Upstream{Digest: strings.Repeat("c", 128)}
	p = cl.plan(cat, o, up)
	created := cl.named(t, "Debian 12").CreatedAt.Format("20060102")
	equalSteps(t, "literal latest", steps(p), []string{"import Debian 12 (latest)",
		"rename Debian 12 -> Debian 12 (" + created + ")",
		"update Debian 12 (" + created + ") deprecated=true internal_version=" + created + " replacement=Debian 12",
		"rename Debian 12 (latest) -> Debian 12"})
	cl.apply(t, p)
	if cur := cl.named(t, "Debian 12"); cur.Properties["internal_version"] != "latest" {
		t.Errorf("no Last-Modified: internal_version %q", cur.Properties["internal_version"])
	}

	// No digest upstream: the definition stops, and so does cleanup.
	p = cl.plan(cat, o, map[string]Upstream{"Debian 12": {Err: "checksums_url: the server answered 404 Not Found"}})
	if len(p.Actions) != 0 || len(p.Errors) != 1 || !strings.Contains(p.Errors[0].Message, "404") {
		t.Errorf("upstream error: %v %+v", steps(p), p.Errors)
	}
}

// TestPlanOSHidden checks --use-os-hidden on a rotation: the newest is
// shown, the one it replaced hidden (the tool hides every imported image).
func TestPlanOSHidden(t *testing.T) {
	o := defaultOptions()
	o.UseOSHidden = true
	cl := &cloud{images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")}}
	cat := catalogOf(t, def{name: "Ubuntu 24.04", versions: []string{"20240501"}})
	p := cl.plan(cat, o, nil)
	cl.apply(t, p)
	if cl.named(t, "Ubuntu 24.04").Hidden || !cl.named(t, "Ubuntu 24.04 (20240416)").Hidden {
		t.Errorf("os_hidden: %v", steps(p))
	}
	if again := cl.plan(cat, o, nil); len(again.Actions) != 0 {
		t.Errorf("again: %v", steps(again))
	}
}

// TestPlanOlderListedMarked checks that an older version imported under
// its versioned name arrives with the deprecation marks.
func TestPlanOlderListedMarked(t *testing.T) {
	cat := catalogOf(t, def{name: "Ubuntu 24.04", versions: []string{"20240416", "20240501"}})
	p := (&cloud{}).plan(cat, defaultOptions(), nil)
	for _, a := range p.Actions {
		if a.Kind != KindImport {
			continue
		}
		marked := a.Import.Properties["deprecated"] == "true" && a.Import.Properties["replacement"] == "Ubuntu 24.04"
		if older := a.Version == "20240416"; marked != older {
			t.Errorf("%s: marks %v", a.Image, a.Import.Properties)
		}
	}
}

// TestPlanCleanupAfterImports: cleanup counts the images this run
// imports, as the OSISM tool does by listing the images after its
// imports. With last-2, the plain image of 20240101 (moved aside) is the
// second older image once 20240201 comes in under its versioned name, so
// it is deleted in this run, not the next; and a second run plans
// nothing.
func TestPlanCleanupAfterImports(t *testing.T) {
	o := defaultOptions()
	o.Hide, o.Delete = true, true
	cl := newCloud([]Image{managedImage("c", "Ubuntu 24.04", "Ubuntu 24.04", "20240101", "uuid_validity", "last-2")})
	cat := catalogOf(t, def{name: "Ubuntu 24.04", uuid: "last-2", versions: []string{"20240201", "20240301"}})
	p := cl.plan(cat, o, nil)
	var deletes []string
	for _, s := range steps(p) {
		if strings.HasPrefix(s, "delete ") {
			deletes = append(deletes, s)
		}
	}
	if !slices.Equal(deletes, []string{"delete Ubuntu 24.04 (20240101)"}) {
		t.Fatalf("deletes planned: %v\nall: %v", deletes, steps(p))
	}
	cl.apply(t, p)
	if again := cl.plan(cat, o, nil); len(again.Actions) != 0 {
		t.Fatalf("the plan after applying it: %v", steps(again))
	}
}
