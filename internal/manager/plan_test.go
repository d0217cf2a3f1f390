package manager

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// managedImage is an image the tool made for version v of definition
// name, as the planner sees it in the cloud.
func managedImage(id, name, link, version string, extra ...string) Image {
	img := Image{ID: id, Name: name, Status: "active", Visibility: "public", Owner: "p1", DiskFormat: "qcow2",
		Tags: []string{"managed_by_osism", "os:ubuntu"}, Size: 1 << 20, MinDisk: 8, MinRAM: 512,
		CreatedAt: planNow.Add(-time.Hour), Properties: map[string]string{}}
	d := def{name: link, versions: []string{version}}
	cat := mustCatalog(d)
	v := cat.Definitions[0].Versions[0]
	img.Properties = properties(&cat.Definitions[0], &v, version, "")
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			delete(img.Properties, extra[i])
			continue
		}
		img.Properties[extra[i]] = extra[i+1]
	}
	return img
}

// mustCatalog loads definitions for building fixtures.
func mustCatalog(defs ...def) *Catalog {
	var b strings.Builder
	b.WriteString("images:\n")
	for _, d := range defs {
		b.WriteString(d.yaml())
	}
	cat, err := loadText(b.String())
	if err != nil {
		panic(err)
	}
	return cat
}

// TestPlanRules checks one rule of the reference per case: the
// definitions and the images found, and the actions planned.
func TestPlanRules(t *testing.T) {
	ubuntu := def{name: "Ubuntu 24.04", versions: []string{"20240416"}}
	cases := []struct {
		name   string
		defs   []def
		images []Image
		opts   func(*Options)
		up     map[string]Upstream
		want   []string
		notes  []string // substrings, in order
		errors []string
	}{{
		name: "multi: imported under its versioned name, then renamed to the plain name",
		defs: []def{ubuntu},
		want: []string{"import Ubuntu 24.04 (20240416)", "rename Ubuntu 24.04 (20240416) -> Ubuntu 24.04"},
	}, {
		name: "non-multi: every version is its own image, never renamed",
		defs: []def{{name: "Cirros", single: true, versions: []string{"0.6.3", "0.6.2"}}},
		want: []string{"import Cirros 0.6.2", "import Cirros 0.6.3"},
	}, {
		name: "separator goes between name and version",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240416"}, extra: "    separator: '-'\n"}},
		want: []string{"import Ubuntu 24.04-(20240416)", "rename Ubuntu 24.04-(20240416) -> Ubuntu 24.04"},
	}, {
		name: "versions are in natural order: 1877.10 is newer than 1877.7",
		defs: []def{{name: "Garden Linux", versions: []string{"1877.10", "1877.7"}}},
		want: []string{"import Garden Linux (1877.10)", "rename Garden Linux (1877.10) -> Garden Linux",
			"import Garden Linux (1877.7)"},
	}, {
		name: "enable: false is skipped",
		defs: []def{{name: "Ubuntu 24.04", disabled: true, versions: []string{"20240416"}}},
	}, {
		name: "--force processes disabled definitions",
		defs: []def{{name: "Ubuntu 24.04", disabled: true, versions: []string{"20240416"}}},
		opts: func(o *Options) { o.Force = true },
		want: []string{"import Ubuntu 24.04 (20240416)", "rename Ubuntu 24.04 (20240416) -> Ubuntu 24.04"},
	}, {
		name: "--filter selects definitions by name",
		defs: []def{ubuntu, {name: "Debian 12", versions: []string{"20240101"}}},
		opts: func(o *Options) { o.Filter = regexp.MustCompile("^Deb") },
		want: []string{"import Debian 12 (20240101)", "rename Debian 12 (20240101) -> Debian 12"},
	}, {
		name:   "the plain image holding the newest version: nothing to do",
		defs:   []def{ubuntu},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")},
	}, {
		name:   "a plain image without internal_version counts as the newest and gets it recorded",
		defs:   []def{ubuntu},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416", "internal_version", "")},
		want:   []string{"update Ubuntu 24.04 internal_version=20240416"},
	}, {
		name:   "a new version rotates: import, move the plain image aside, take the plain name",
		defs:   []def{{name: "Ubuntu 24.04", versions: []string{"20240501"}}},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")},
		want: []string{"import Ubuntu 24.04 (20240501)", "rename Ubuntu 24.04 -> Ubuntu 24.04 (20240416)",
			"update Ubuntu 24.04 (20240416) deprecated=true replacement=Ubuntu 24.04",
			"rename Ubuntu 24.04 (20240501) -> Ubuntu 24.04"},
		notes: []string{"Ubuntu 24.04 (20240416): kept: 1 of the 2 older images uuid_validity last-3 keeps"},
	}, {
		name:   "--deprecate=false: no marks",
		defs:   []def{{name: "Ubuntu 24.04", versions: []string{"20240501"}}},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")},
		opts:   func(o *Options) { o.Deprecate = false },
		want: []string{"import Ubuntu 24.04 (20240501)", "rename Ubuntu 24.04 -> Ubuntu 24.04 (20240416)",
			"rename Ubuntu 24.04 (20240501) -> Ubuntu 24.04"},
	}, {
		name: "an interrupted rotation (no plain image, the newest under its versioned name) finishes",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240501"}}},
		images: []Image{managedImage("i1", "Ubuntu 24.04 (20240416)", "Ubuntu 24.04", "20240416"),
			managedImage("i2", "Ubuntu 24.04 (20240501)", "Ubuntu 24.04", "20240501")},
		want: []string{"rename Ubuntu 24.04 (20240501) -> Ubuntu 24.04",
			"update Ubuntu 24.04 (20240416) deprecated=true replacement=Ubuntu 24.04"},
	}, {
		name: "older listed versions keep their versioned names and are marked",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240416", "20240501"}}},
		want: []string{"import Ubuntu 24.04 (20240501)", "rename Ubuntu 24.04 (20240501) -> Ubuntu 24.04",
			"import Ubuntu 24.04 (20240416)"},
	}, {
		name:  "--latest imports only the newest version",
		defs:  []def{{name: "Ubuntu 24.04", versions: []string{"20240416", "20240501"}}},
		opts:  func(o *Options) { o.Latest = true },
		want:  []string{"import Ubuntu 24.04 (20240501)", "rename Ubuntu 24.04 (20240501) -> Ubuntu 24.04"},
		notes: []string{"version 20240416 not imported: --latest imports only the newest"},
	}, {
		name:  "--latest with a non-multi definition",
		defs:  []def{{name: "Cirros", single: true, versions: []string{"0.6.2", "0.6.3"}}},
		opts:  func(o *Options) { o.Latest = true },
		want:  []string{"import Cirros 0.6.3"},
		notes: []string{"version 0.6.2 not imported"},
	}, {
		name: "an image with no data left by an unfinished import is replaced",
		defs: []def{{name: "Cirros", single: true, versions: []string{"0.6.3"}}},
		images: []Image{func() Image {
			img := managedImage("i1", "Cirros 0.6.3", "Cirros", "0.6.3")
			img.Status, img.Size = "queued", 0
			return img
		}()},
		want: []string{"replace Cirros 0.6.3"},
	}, {
		name: "an import still running stops the definition and the cleanup",
		defs: []def{{name: "Cirros", single: true, versions: []string{"0.6.3"}}, ubuntu},
		images: []Image{func() Image {
			img := managedImage("i1", "Cirros 0.6.3", "Cirros", "0.6.3")
			img.Status = "importing"
			return img
		}(), managedImage("i2", "Ubuntu 24.04", "Ubuntu 24.04", "20240416"),
			managedImage("i3", "Ubuntu 24.04 (20230101)", "Ubuntu 24.04", "20230101")},
		opts:   func(o *Options) { o.Hide = true },
		want:   []string{"update Ubuntu 24.04 (20230101) deprecated=true replacement=Ubuntu 24.04"},
		errors: []string{`image "Cirros 0.6.3" (i1) is importing: an import is still running`},
		notes:  []string{"cleanup of outdated images skipped"},
	}, {
		name: "two images with one name stop the definition",
		defs: []def{ubuntu},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416"),
			managedImage("i2", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")},
		errors: []string{`2 managed images are called "Ubuntu 24.04" (i1, i2)`},
	}, {
		name: "a rotation that would give two images one name stops",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240501"}}},
		images: []Image{managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416"),
			managedImage("i2", "Ubuntu 24.04 (20240416)", "Ubuntu 24.04", "20240416")},
		errors: []string{`cannot move "Ubuntu 24.04" (i1) aside: "Ubuntu 24.04 (20240416)" (i2) exists already`},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cat := catalogOf(t, c.defs...)
			o := defaultOptions()
			if c.opts != nil {
				c.opts(&o)
			}
			cl := newCloud(c.images)
			p := cl.plan(cat, o, c.up)
			equalSteps(t, "actions", steps(p), c.want)
			checkContains(t, "notes", noteTexts(p), c.notes)
			var errs []string
			for _, e := range p.Errors {
				errs = append(errs, e.Message)
			}
			checkContains(t, "errors", errs, c.errors)
			if len(c.errors) == 0 {
				cl.apply(t, p)
				if again := cl.plan(cat, o, c.up); len(again.Actions) != 0 {
					t.Errorf("the plan after applying it: %v", steps(again))
				}
			}
		})
	}
}

// checkContains checks that every wanted substring appears, in order.
func checkContains(t *testing.T, what string, got, want []string) {
	t.Helper()
	i := 0
	for _, w := range want {
		for i < len(got) && !strings.Contains(got[i], w) {
			i++
		}
		if i == len(got) {
			t.Errorf("%s: no %q in %q", what, w, got)
			return
		}
		i++
	}
	if len(want) == 0 && what == "errors" && len(got) > 0 {
		t.Errorf("unexpected errors: %q", got)
	}
}

// TestPlanProperties checks what the tool writes on an image, from the
// definition: meta, the derived SCS keys, tags, min_disk and min_ram.
func TestPlanProperties(t *testing.T) {
	multi := def{name: "Ubuntu 24.04", versions: []string{"20240416"}, vextra: map[string]string{"20240416": `        os_version: '24.04.1'
        meta:
          architecture: aarch64
          hw_disk_bus: virtio
          hypervisor_type: qemu
          os_distro: ubuntu
          os_purpose: generic
          replace_frequency: quarterly
          uuid_validity: last-3
          provided_until: 2030-04-30
          hotfix_hours: 24
          hw_vif_multiqueue_enabled: true
`}, extra: "    shortname: ubuntu\n"}
	cat := catalogOf(t, multi, def{name: "Cirros", single: true, versions: []string{"0.6.3"},
		extra: "    keep: false\n"})
	p := (&cloud{}).plan(cat, defaultOptions(), nil)
	specs := map[string]*ImportSpec{}
	for _, a := range p.Actions {
		if a.Import != nil {
			specs[a.Import.Name] = a.Import
		}
	}
	u := specs["Ubuntu 24.04 (20240416)"]
	want := map[string]string{"architecture": "aarch64", "hw_disk_bus": "virtio", "hypervisor_type": "qemu",
		"os_distro": "ubuntu", "os_purpose": "generic", "replace_frequency": "quarterly", "uuid_validity": "last-3",
		"provided_until": "2030-04-30", "hotfix_hours": "24", "hw_vif_multiqueue_enabled": "True",
		"image_description": "Ubuntu 24.04", "image_name": "Ubuntu 24.04", "internal_version": "20240416",
		"image_original_user": "ubuntu", "os_version": "24.04.1", "image_build_date": "2024-04-16",
		"image_source": "https://images.example/ubuntu-24.04/20240416.qcow2"}
	if !maps.Equal(u.Properties, want) {
		t.Errorf("multi properties:\n got %v\nwant %v", u.Properties, want)
	}
	if !slices.Equal(u.Tags, []string{"managed_by_osism", "os:ubuntu"}) || u.MinDisk != 8 || u.MinRAM != 512 ||
		u.DiskFormat != "qcow2" || u.Visibility != "public" || u.Status != "active" {
		t.Errorf("multi spec: %+v", u)
	}
	c := specs["Cirros 0.6.3"]
	if c.Properties["os_version"] != "0.6.3" || c.Properties["internal_version"] != "0.6.3" {
		t.Errorf("non-multi: os_version is the version: %v", c.Properties)
	}
}

func TestPlanImageSource(t *testing.T) {
	for url, want := range map[string]string{
		"https://x.example/a/b.img":     "https://x.example/a/b.img",
		"file:///srv/images/cirros.img": "file:cirros.img",
		"file:fixtures/fake_image.img":  "file:fake_image.img",
		"file:fake.img":                 "file:fake.img",
	} {
		if got := imageSource(url); got != want {
			t.Errorf("%s: %s, want %s", url, got, want)
		}
	}
}

// TestPlanReconcile checks that an existing current image follows its
// definition on every run (the tool only does this right after an
// import): meta changes, keys removed from meta, tags, min_disk raised
// to the size, min_ram, visibility, status, os_hidden.
func TestPlanReconcile(t *testing.T) {
	ubuntu := def{name: "Ubuntu 24.04", versions: []string{"20240416"}}
	cases := []struct {
		name  string
		edit  func(*Image)
		defs  []def
		opts  func(*Options)
		want  []string
		after func(t *testing.T, img *Image)
	}{{
		name: "a changed meta value",
		edit: func(img *Image) { img.Properties["os_purpose"] = "minimal" },
		want: []string{"update Ubuntu 24.04 os_purpose=generic"},
	}, {
		name: "a key dropped from meta is removed; a property of someone else stays",
		edit: func(img *Image) {
			img.Properties["hw_firmware_type"] = "uefi"
			img.Properties["owner_specified.openstack.md5"] = ""
			img.Properties["cinder_img_volume_type"] = "fast"
		},
		want: []string{"update Ubuntu 24.04 -hw_firmware_type"},
	}, {
		name: "tags: missing ones added, others removed",
		edit: func(img *Image) { img.Tags = []string{"managed_by_osism", "legacy"} },
		want: []string{"update Ubuntu 24.04 +tag:os:ubuntu -tag:legacy"},
	}, {
		name: "min_disk is raised to the size in GiB, rounded up",
		edit: func(img *Image) { img.Size = 9<<30 + 5 },
		want: []string{"update Ubuntu 24.04 min_disk=10"},
	}, {
		name: "min_ram follows the definition",
		edit: func(img *Image) { img.MinRAM = 1024 },
		want: []string{"update Ubuntu 24.04 min_ram=512"},
	}, {
		name: "visibility follows the definition",
		edit: func(img *Image) { img.Visibility = "community" },
		want: []string{"visibility Ubuntu 24.04 = public"},
	}, {
		name: "a version's visibility wins",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240416"},
			vextra: map[string]string{"20240416": "        visibility: shared\n"}}},
		want: []string{"visibility Ubuntu 24.04 = shared"},
	}, {
		name: "status deactivated",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240416"}, status: "deactivated"}},
		want: []string{"deactivate Ubuntu 24.04"},
	}, {
		name: "a deactivated image is reactivated",
		edit: func(img *Image) { img.Status = "deactivated" },
		want: []string{"reactivate Ubuntu 24.04"},
	}, {
		name: "--use-os-hidden shows the newest",
		edit: func(img *Image) { img.Hidden = true },
		opts: func(o *Options) { o.UseOSHidden = true },
		want: []string{"update Ubuntu 24.04 os_hidden=false"},
	}, {
		name: "a version's hidden wins",
		defs: []def{{name: "Ubuntu 24.04", versions: []string{"20240416"},
			vextra: map[string]string{"20240416": "        hidden: true\n"}}},
		opts: func(o *Options) { o.UseOSHidden = true },
		want: []string{"update Ubuntu 24.04 os_hidden=true"},
	}, {
		name: "a current image loses old deprecation marks",
		edit: func(img *Image) { img.Properties["deprecated"], img.Properties["replacement"] = "true", "x" },
		want: []string{"update Ubuntu 24.04 -deprecated -replacement"},
	}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defs := c.defs
			if defs == nil {
				defs = []def{ubuntu}
			}
			cat := catalogOf(t, defs...)
			img := managedImage("i1", "Ubuntu 24.04", "Ubuntu 24.04", "20240416")
			if c.edit != nil {
				c.edit(&img)
			}
			o := defaultOptions()
			if c.opts != nil {
				c.opts(&o)
			}
			cl := newCloud([]Image{img})
			p := cl.plan(cat, o, nil)
			equalSteps(t, "actions", steps(p), c.want)
			cl.apply(t, p)
			if again := cl.plan(cat, o, nil); len(again.Actions) != 0 {
				t.Errorf("the plan after applying it: %v", steps(again))
			}
		})
	}
}
