package manager

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Checks beyond the schema: things the schema lets through but that the
// OSISM tool would trip over at run time (a KeyError, a silent collapse
// of two versions with one label, an int("x") in cleanup), reported up
// front with their line instead.

// digestLengths are the checksum algorithms glint verifies, with the
// length of their hex digest.
var digestLengths = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}

var lastN = lazy(`^last-[0-9]+$`)

func (v *validation) checkDefinition(d *Definition, n *yaml.Node, key string) {
	at := func(node *yaml.Node, sub, format string, args ...any) {
		if node == nil {
			node = n
		}
		v.problem(node, joinKey(key, sub), format, args...)
	}
	if strings.TrimSpace(d.Name) == "" {
		at(lookup(n, "name"), "name", "must not be empty")
	}
	if u := d.Meta["uuid_validity"]; strings.HasPrefix(u, "last-") && !lastN.MatchString(u) {
		at(lookup(lookup(n, "meta"), "uuid_validity"), "meta.uuid_validity", "%q: last- must be followed by a number", u)
	}
	seen := map[string]int{}
	sorted := d.sortedVersions()
	versions := lookup(n, "versions").Content
	for i, ver := range d.Versions {
		vn := versions[i]
		vkey := fmt.Sprintf("versions[%d]", i)
		if ver.Version == "" {
			at(lookup(vn, "version"), vkey+".version", "must not be empty")
		}
		if prev, dup := seen[ver.Version]; dup {
			at(lookup(vn, "version"), vkey+".version", "%q is also versions[%d]: each version label must be unique",
				ver.Version, prev)
		}
		seen[ver.Version] = i
		if ver.Checksum != "" {
			algo, hex, _ := strings.Cut(ver.Checksum, ":")
			if want, ok := digestLengths[algo]; !ok {
				at(lookup(vn, "checksum"), vkey+".checksum", "algorithm %q is not one of md5, sha1, sha256, sha512", algo)
			} else if len(hex) != want {
				at(lookup(vn, "checksum"), vkey+".checksum", "a %s digest has %d hex digits, not %d", algo, want, len(hex))
			}
		}
		if ver.Version != Latest {
			continue
		}
		switch {
		case !d.Multi:
			at(lookup(vn, "version"), vkey+".version", "version latest needs multi: true (the current image keeps the plain name)")
		case ver.ChecksumsURL == "" && ver.ChecksumURL == "":
			at(vn, vkey, "version latest needs checksums_url or checksum_url")
		case ver.ChecksumsURL != "" && ver.ChecksumURL != "":
			at(vn, vkey, "give either checksums_url or checksum_url, not both")
		case sorted[len(sorted)-1].Version != Latest:
			at(lookup(vn, "version"), vkey+".version", "version latest must be the newest version, but %q sorts after it",
				sorted[len(sorted)-1].Version)
		}
	}
}

// crossCheck finds what is wrong between definitions: two with the same
// name, or whose image names overlap ("Ubuntu" version "24.04" and
// "Ubuntu 24.04"), would fight over the same images.
func crossCheck(defs []Definition) []Problem {
	var problems []Problem
	first := map[string]Definition{}
	claimed := map[string]Definition{}
	for _, d := range defs {
		if prev, dup := first[d.Name]; dup {
			problems = append(problems, Problem{File: d.File, Line: d.Line, Key: "name",
				Message: fmt.Sprintf("%q is already defined at %s:%d", d.Name, prev.File, prev.Line)})
			continue
		}
		first[d.Name] = d
		names := []string{}
		if d.Multi {
			names = append(names, d.Name)
		}
		for _, v := range d.Versions {
			names = append(names, d.versionedName(v.Version))
		}
		for _, name := range names {
			if prev, dup := claimed[name]; dup && prev.Name != d.Name {
				problems = append(problems, Problem{File: d.File, Line: d.Line, Key: "name",
					Message: fmt.Sprintf("its image %q is also an image of %q (%s:%d)", name, prev.Name, prev.File, prev.Line)})
				continue
			}
			claimed[name] = d
		}
	}
	return problems
}
