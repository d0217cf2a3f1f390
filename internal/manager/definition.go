// Package manager is `glint manage`: it reconciles a directory of image
// definitions in the OSISM openstack-image-manager format against any
// Image API v2 cloud.
//
// The work is split in three steps that can be read and tested apart:
// load.go and schema.go read and validate the files; plan.go is a pure
// function from definitions and the images found to an ordered list of
// actions; apply.go carries the actions out against a cloud (client.go)
// with data from upstream (upstream.go).
package manager

import (
	"strings"
)

// Definition is one entry of a file's `images:` list.
type Definition struct {
	// File and Line locate the entry for messages.
	File string
	Line int

	Name       string
	Enable     bool
	Format     string // disk_format; container_format is always bare
	Login      string
	MinDisk    int
	MinRAM     int
	Multi      bool
	Keep       bool
	Status     string // active or deactivated
	Visibility string
	Separator  string // between name and version; the loader sets " " when absent
	Tags       []string
	// Meta holds the image properties of the definition, already turned
	// into the strings the OSISM tool writes (Python's str()).
	Meta     map[string]string
	Versions []Version
}

// Version is one entry of a definition's `versions:` list.
type Version struct {
	Line int

	Version      string
	URL          string // always recorded as image_source
	MirrorURL    string // what is fetched when set
	Checksum     string // "<algo>:<hex>", may be empty
	ChecksumsURL string // manifest of "<digest> <file>" lines (version latest)
	ChecksumURL  string // file holding one digest (version latest)
	BuildDate    string // YYYY-MM-DD
	OSVersion    string
	Visibility   string
	Hidden       *bool
	ID           string
	Meta         map[string]string
}

// Latest is the version label that follows an upstream pointer: its
// digest decides whether there is something new to import.
const Latest = "latest"

// separator is what goes between the name and the version.
func (d *Definition) separator() string { return d.Separator }

// versionedName is the name an image of version v carries while it is
// not the plain-named newest one: "Name (v)" for multi definitions,
// "Name v" (forever) for the others.
func (d *Definition) versionedName(v string) string {
	if d.Multi {
		return d.Name + d.separator() + "(" + v + ")"
	}
	return d.Name + d.separator() + v
}

// versionOf is the inverse of versionedName for multi definitions: the
// version in "Name (v)", or false when name is not of that form.
func (d *Definition) versionOf(name string) (string, bool) {
	prefix := d.Name + d.separator() + "("
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, ")") || len(name) <= len(prefix)+1 {
		return "", false
	}
	return name[len(prefix) : len(name)-1], true
}

// fetchURL is where the data comes from: the mirror when there is one.
func (v *Version) fetchURL() string {
	if v.MirrorURL != "" {
		return v.MirrorURL
	}
	return v.URL
}

// sortedVersions returns the versions oldest first, in natural order as
// the OSISM tool sorts them (natsort: "1877.10" after "1877.7").
func (d *Definition) sortedVersions() []Version {
	out := append([]Version(nil), d.Versions...)
	sortNatural(out, func(v Version) string { return v.Version })
	return out
}
