package manager

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Helpers of the planner tests: definitions written as YAML and loaded
// through Load (so the tests read what users write), and a cloud that
// is a list of images to which a plan's actions are applied the way
// apply.go applies them, so that rotation can run over several runs.

var planNow = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

// def is one definition to write.
type def struct {
	name     string
	single   bool // multi: false
	disabled bool
	status   string // active by default
	uuid     string // uuid_validity, last-3 by default
	extra    string // more image-level YAML lines (indented by 4)
	versions []string
	vextra   map[string]string // more YAML lines per version (indented by 8)
}

func (d def) yaml() string {
	uuid := d.uuid
	if uuid == "" {
		uuid = "last-3"
	}
	status := d.status
	if status == "" {
		status = "active"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `  - name: %s
    enable: %v
    format: qcow2
    login: ubuntu
    min_disk: 8
    min_ram: 512
    status: %s
    visibility: public
    multi: %v
    meta:
      architecture: x86_64
      hw_disk_bus: scsi
      hypervisor_type: qemu
      os_distro: ubuntu
      os_purpose: generic
      replace_frequency: quarterly
      uuid_validity: %s
      provided_until: none
    tags: []
`, d.name, !d.disabled, status, !d.single, uuid)
	if d.extra != "" {
		b.WriteString(d.extra)
	}
	b.WriteString("    versions:\n")
	if len(d.versions) == 0 {
		b.WriteString("      []\n")
	}
	for _, v := range d.versions {
		slug := strings.ReplaceAll(strings.ToLower(d.name), " ", "-")
		fmt.Fprintf(&b, "      - version: '%s'\n        url: https://images.example/%s/%s.qcow2\n        build_date: 2024-04-16\n",
			v, slug, v)
		if extra := d.vextra[v]; extra != "" {
			b.WriteString(extra)
		}
	}
	return b.String()
}

// catalogOf writes defs into one file of a directory and loads it.
func catalogOf(t *testing.T, defs ...def) *Catalog {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("---\nimages:\n")
	for _, d := range defs {
		b.WriteString(d.yaml())
	}
	if err := os.WriteFile(filepath.Join(dir, "images.yml"), []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	cat, err := Load(dir, LoadOptions{})
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return cat
}

// loadText loads one file's worth of definitions.
func loadText(text string) (*Catalog, error) {
	dir, err := os.MkdirTemp("", "glint-manager-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "images.yml"), []byte(text), 0o600); err != nil {
		return nil, err
	}
	return Load(dir, LoadOptions{})
}

func defaultOptions() Options {
	return Options{Tag: "managed_by_osism", Deprecate: true}
}

// cloud is the state a plan is applied to in these tests.
type cloud struct {
	images []Image
	next   int
}

// newCloud is a cloud holding copies of images.
func newCloud(images []Image) *cloud {
	c := &cloud{}
	for _, img := range images {
		img.Tags = slices.Clone(img.Tags)
		props := map[string]string{}
		for k, v := range img.Properties {
			props[k] = v
		}
		img.Properties = props
		c.images = append(c.images, img)
	}
	return c
}

func (c *cloud) byID(id string) *Image {
	for i := range c.images {
		if c.images[i].ID == id {
			return &c.images[i]
		}
	}
	return nil
}

// plan computes the plan of cat against the cloud.
func (c *cloud) plan(cat *Catalog, o Options, up map[string]Upstream) Plan {
	images := make([]Image, len(c.images))
	for i, img := range c.images {
		img.Tags = slices.Clone(img.Tags)
		props := map[string]string{}
		for k, v := range img.Properties {
			props[k] = v
		}
		img.Properties = props
		images[i] = img
	}
	return Compute(Input{Catalog: cat, Images: images, Upstream: up, Options: o, Now: planNow})
}

// apply carries out a plan's actions on the cloud.
func (c *cloud) apply(t *testing.T, p Plan) {
	t.Helper()
	refs := map[string]string{}
	for _, a := range p.Actions {
		id := a.ImageID
		if a.Ref != "" && a.Kind != KindImport && a.Kind != KindReplace {
			id = refs[a.Ref]
		}
		switch a.Kind {
		case KindImport, KindReplace:
			if a.Kind == KindReplace {
				c.remove(a.ImageID)
			}
			c.next++
			s := a.Import
			img := Image{ID: fmt.Sprintf("img-%02d", c.next), Name: s.Name, Status: "active", Visibility: s.Visibility,
				Owner: "p1", DiskFormat: s.DiskFormat, Tags: slices.Clone(s.Tags), Size: 1 << 20,
				MinDisk: minDiskOf(s.MinDisk, 1<<20), MinRAM: s.MinRAM,
				CreatedAt: planNow.Add(time.Duration(c.next) * time.Minute), Properties: map[string]string{}}
			for k, v := range s.Properties {
				img.Properties[k] = v
			}
			if s.OSHidden != nil {
				img.Hidden = *s.OSHidden
			}
			if s.Status == "deactivated" {
				img.Status = "deactivated"
			}
			c.images = append(c.images, img)
			refs[a.Ref] = img.ID
			continue
		}
		img := c.byID(id)
		if img == nil {
			t.Fatalf("action %+v: no image %q", a, id)
		}
		switch a.Kind {
		case KindUpdate:
			u := a.Update
			for k, v := range u.Set {
				img.Properties[k] = v
			}
			for _, k := range u.Remove {
				delete(img.Properties, k)
			}
			img.Tags = append(img.Tags, u.AddTags...)
			img.Tags = slices.DeleteFunc(img.Tags, func(t string) bool { return slices.Contains(u.RemoveTags, t) })
			if u.MinDisk != nil {
				img.MinDisk = *u.MinDisk
			}
			if u.MinRAM != nil {
				img.MinRAM = *u.MinRAM
			}
			if u.OSHidden != nil {
				img.Hidden = *u.OSHidden
			}
		case KindRename:
			img.Name = a.NewName
		case KindVisibility, KindHide:
			img.Visibility = a.Visibility
		case KindDeactivate:
			img.Status = "deactivated"
		case KindReactivate:
			img.Status = "active"
		case KindDelete:
			c.remove(id)
		default:
			t.Fatalf("unknown action %q", a.Kind)
		}
	}
}

func minDiskOf(n int, size int64) int {
	if need := int((size + 1<<30 - 1) >> 30); need > n {
		return need
	}
	return n
}

func (c *cloud) remove(id string) {
	c.images = slices.DeleteFunc(c.images, func(img Image) bool { return img.ID == id })
}

// names lists the cloud's images as "name [visibility status]".
func (c *cloud) names() []string {
	var out []string
	for _, img := range c.images {
		out = append(out, fmt.Sprintf("%s [%s %s]", img.Name, img.Visibility, img.Status))
	}
	slices.SortFunc(out, naturalCompare)
	return out
}

func (c *cloud) named(t *testing.T, name string) *Image {
	t.Helper()
	for i := range c.images {
		if c.images[i].Name == name {
			return &c.images[i]
		}
	}
	t.Fatalf("no image %q in %v", name, c.names())
	return nil
}

// steps renders a plan's actions one per line, for comparing.
func steps(p Plan) []string {
	var out []string
	for _, a := range p.Actions {
		s := string(a.Kind) + " " + a.Image
		switch a.Kind {
		case KindRename:
			s += " -> " + a.NewName
		case KindVisibility:
			s += " = " + a.Visibility
		case KindUpdate:
			s += " " + describeUpdate(a.Update)
		}
		out = append(out, s)
	}
	return out
}

func describeUpdate(u *Update) string {
	var parts []string
	for _, k := range sortedKeys(u.Set) {
		parts = append(parts, k+"="+u.Set[k])
	}
	for _, k := range u.Remove {
		parts = append(parts, "-"+k)
	}
	for _, tg := range u.AddTags {
		parts = append(parts, "+tag:"+tg)
	}
	for _, tg := range u.RemoveTags {
		parts = append(parts, "-tag:"+tg)
	}
	if u.MinDisk != nil {
		parts = append(parts, fmt.Sprintf("min_disk=%d", *u.MinDisk))
	}
	if u.MinRAM != nil {
		parts = append(parts, fmt.Sprintf("min_ram=%d", *u.MinRAM))
	}
	if u.OSHidden != nil {
		parts = append(parts, fmt.Sprintf("os_hidden=%v", *u.OSHidden))
	}
	return strings.Join(parts, " ")
}

func equalSteps(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

func noteTexts(p Plan) []string {
	var out []string
	for _, n := range p.Notes {
		out = append(out, n.Image+": "+n.Message)
	}
	return out
}
