package manager

import (
	"path"
	"slices"
	"strings"
)

// What an image of a definition's version should look like, derived as
// the OSISM tool derives it (set_properties), and the difference from
// what an image has.

// derivedKeys are the properties the tool computes rather than copies
// from meta; with the schema's meta keys they are the properties glint
// owns on a managed image, and the only ones it ever removes.
var derivedKeys = []string{"image_name", "image_description", "image_source", "image_build_date",
	"internal_version", "image_original_user", "upstream_checksum", "os_version"}

// Deprecation marks, the convention Horizon and the SCS standards read.
const (
	propDeprecated  = "deprecated"
	propReplacement = "replacement"
)

func ownedKey(k string) bool {
	if slices.Contains(derivedKeys, k) {
		return true
	}
	_, ok := metaSchema.field(k)
	return ok
}

// imageSource is how a URL is recorded: as is, except that file: URLs
// lose their directory, which would tell other users about the host.
func imageSource(url string) string {
	if strings.HasPrefix(url, "file:") && strings.Contains(url, "/") {
		return "file:" + path.Base(url)
	}
	return url
}

// properties is what an image of version v should carry. internal is
// the internal_version to write (the version label, or for latest the
// upstream date); digest is the upstream digest of latest.
func properties(d *Definition, v *Version, internal, digest string) map[string]string {
	p := make(map[string]string, len(d.Meta)+8)
	for k, val := range d.Meta {
		p[k] = val
	}
	if _, ok := d.Meta["image_description"]; !ok {
		p["image_description"] = d.Name
	}
	if _, ok := d.Meta["image_name"]; !ok {
		p["image_name"] = d.Name
	}
	p["internal_version"] = internal
	p["image_original_user"] = d.Login
	if digest != "" {
		p["upstream_checksum"] = digest
	}
	switch {
	case d.Multi && v.OSVersion != "":
		p["os_version"] = v.OSVersion
	case !d.Multi:
		p["os_version"] = v.Version
	}
	for k, val := range v.Meta {
		p[k] = val
	}
	p["image_source"] = imageSource(v.URL)
	if v.BuildDate != "" {
		p["image_build_date"] = v.BuildDate
	}
	return p
}

// tags is the set of tags a managed image of d carries: the
// definition's, the managed tag and os:<distro>.
func (p *planner) tags(d *Definition) []string {
	out := append([]string(nil), d.Tags...)
	out = append(out, p.in.Options.Tag)
	if distro := d.Meta["os_distro"]; distro != "" {
		out = append(out, "os:"+distro)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// minDisk is the min_disk an image of d needs: the definition's, raised
// to the image's size in GiB rounded up, as the tool does.
func minDisk(d *Definition, size int64) int {
	const gib = 1 << 30
	n := d.MinDisk
	if size > 0 {
		if need := int((size + gib - 1) / gib); need > n {
			n = need
		}
	}
	return n
}

// want is the target state of one image; nil fields are left alone.
type want struct {
	props map[string]string
	// prune removes owned properties that props does not name; with
	// marks, the deprecation marks count as owned too.
	prune      bool
	marks      bool
	tags       []string
	minDisk    *int
	minRAM     *int
	osHidden   *bool
	visibility string
	status     string
}

// diff is the update that brings img to w, or nil.
func (w *want) diff(img *Image) *Update {
	u := &Update{}
	for _, k := range sortedKeys(w.props) {
		if cur, ok := img.Properties[k]; !ok || cur != w.props[k] {
			if u.Set == nil {
				u.Set = map[string]string{}
			}
			u.Set[k] = w.props[k]
		}
	}
	if w.prune {
		for _, k := range sortedKeys(img.Properties) {
			owned := ownedKey(k) || (w.marks && (k == propDeprecated || k == propReplacement))
			if _, wanted := w.props[k]; !wanted && owned {
				u.Remove = append(u.Remove, k)
			}
		}
	}
	if w.tags != nil {
		for _, t := range w.tags {
			if !slices.Contains(img.Tags, t) {
				u.AddTags = append(u.AddTags, t)
			}
		}
		for _, t := range img.Tags {
			if !slices.Contains(w.tags, t) {
				u.RemoveTags = append(u.RemoveTags, t)
			}
		}
		slices.Sort(u.RemoveTags)
	}
	if w.minDisk != nil && *w.minDisk != img.MinDisk {
		u.MinDisk = w.minDisk
	}
	if w.minRAM != nil && *w.minRAM != img.MinRAM {
		u.MinRAM = w.minRAM
	}
	if w.osHidden != nil && *w.osHidden != img.Hidden {
		u.OSHidden = w.osHidden
	}
	if u.empty() {
		return nil
	}
	return u
}

func ptr[T any](v T) *T { return &v }
