package manager

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The schema of a definition file, as the OSISM tool's yamale schema
// (etc/schema.yaml) states it: every key is required unless marked
// optional, and keys the schema does not name are errors. The rules are
// written in Go so that each error can name its file, line and key;
// schema_test.go checks them against the published schema.yaml.

// check validates one node and reports problems through the validation.
type check interface {
	validate(v *validation, n *yaml.Node, key string)
}

type field struct {
	name     string
	optional bool
	check    check
}

// mapping is yamale's include(): a map with known keys.
type mapping struct {
	fields []field
	// open mappings let unknown keys through (meta with --no-check).
	open func(v *validation) bool
}

func (m mapping) field(name string) (field, bool) {
	for _, f := range m.fields {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

func (m mapping) validate(v *validation, n *yaml.Node, key string) {
	if kindOf(n) != kindMap {
		v.problem(n, key, "must be a mapping, not %s", kindOf(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		sub := joinKey(key, k.Value)
		if seen[k.Value] {
			v.problem(k, sub, "appears twice")
			continue
		}
		seen[k.Value] = true
		f, ok := m.field(k.Value)
		if !ok {
			if m.open == nil || !m.open(v) {
				v.problem(k, sub, "is not a key the schema knows (allowed: %s)", strings.Join(m.names(), ", "))
			}
			continue
		}
		f.check.validate(v, val, sub)
	}
	for _, f := range m.fields {
		if !f.optional && !seen[f.name] {
			v.problem(n, joinKey(key, f.name), "is required but missing")
		}
	}
}

func (m mapping) names() []string {
	names := make([]string, len(m.fields))
	for i, f := range m.fields {
		names[i] = f.name
	}
	return names
}

// list is yamale's list(): every item must pass the item check.
type list struct {
	item check
	min  int
}

func (l list) validate(v *validation, n *yaml.Node, key string) {
	if kindOf(n) != kindList {
		v.problem(n, key, "must be a list, not %s", kindOf(n))
		return
	}
	if len(n.Content) < l.min {
		v.problem(n, key, "must have at least %d item(s)", l.min)
	}
	for i, item := range n.Content {
		l.item.validate(v, item, fmt.Sprintf("%s[%d]", key, i))
	}
}

// kinds accepts scalars of the given PyYAML types: yamale's str(),
// bool(), day(), timestamp().
type kinds []scalarKind

func (k kinds) validate(v *validation, n *yaml.Node, key string) {
	got := kindOf(n)
	if slices.Contains(k, got) {
		return
	}
	hint := ""
	if slices.Contains(k, kindStr) && (got == kindInt || got == kindFloat || got == kindBool) {
		hint = fmt.Sprintf(" (write '%s' in quotes)", n.Value)
	}
	v.problem(n, key, "must be %s, not %s %q%s", k.describe(), got, n.Value, hint)
}

func (k kinds) describe() string {
	parts := make([]string, len(k))
	for i, kind := range k {
		parts[i] = kind.String()
	}
	return strings.Join(parts, " or ")
}

var (
	isStr  = kinds{kindStr}
	isBool = kinds{kindBool}
	// yamale's day() takes datetime.date, of which datetime is a subclass.
	isDay = kinds{kindDate, kindTimestamp}
)

// integer is yamale's int(min=...): booleans do not count.
type integer struct{ min int64 }

func (c integer) validate(v *validation, n *yaml.Node, key string) {
	if kindOf(n) != kindInt {
		v.problem(n, key, "must be an integer, not %s %q", kindOf(n), n.Value)
		return
	}
	if x, err := intValue(n); err != nil || x < c.min {
		v.problem(n, key, "must be an integer >= %d, not %s", c.min, n.Value)
	}
}

// enum is yamale's enum(...); null stands for Python's None.
type enum struct {
	values []string
	null   bool
}

func (e enum) validate(v *validation, n *yaml.Node, key string) {
	switch kindOf(n) {
	case kindNull:
		if e.null {
			return
		}
	case kindStr:
		if slices.Contains(e.values, n.Value) {
			return
		}
	}
	allowed := strings.Join(e.values, ", ")
	if e.null {
		allowed += ", null"
	}
	v.problem(n, key, "%q is not one of: %s", n.Value, allowed)
}

// pattern is yamale's regex(): a string that matches at its start, as
// Python's re.match does.
type pattern struct {
	re   lazyRegexp
	name string
}

func newPattern(expr, name string) pattern {
	if !strings.HasPrefix(expr, "^") {
		expr = "^(?:" + expr + ")"
	}
	return pattern{re: lazy(expr), name: name}
}

func (p pattern) validate(v *validation, n *yaml.Node, key string) {
	if kindOf(n) != kindStr || !p.re.MatchString(n.Value) {
		v.problem(n, key, "%q is not a %s", n.Value, p.name)
	}
}

// prefixed is yamale's str(starts_with=...).
type prefixed string

func (p prefixed) validate(v *validation, n *yaml.Node, key string) {
	if kindOf(n) != kindStr || !strings.HasPrefix(n.Value, string(p)) {
		v.problem(n, key, "%q does not start with %q", n.Value, string(p))
	}
}

// anyOf is yamale's any(): the first alternative that passes wins.
type anyOf []check

func (a anyOf) validate(v *validation, n *yaml.Node, key string) {
	var msgs []string
	for _, c := range a {
		probe := &validation{file: v.file, noCheck: v.noCheck}
		c.validate(probe, n, key)
		if len(probe.problems) == 0 {
			return
		}
		for _, p := range probe.problems {
			msgs = append(msgs, p.Message)
		}
	}
	v.problem(n, key, "%s", strings.Join(msgs, "; or "))
}

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

const (
	urlPattern     = `^(http|ftp)s?:\/\/\w+.*`
	httpPattern    = `^https?:\/\/\w+.*`
	sourcePattern  = `^(http|ftp)s?:\/\/\w+.*|^(file:|file:///)\w+.*`
	checksumRegexp = `\w+:([a-f0-9]{32}|[a-f0-9]{40}|[a-f0-9]{64}|[a-f0-9]{128})$`
	uuidRegexp     = `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
)

var visibilities = []string{"public", "private", "community", "shared"}

// metaSchema is the `meta:` mapping of an image or a version.
var metaSchema = mapping{fields: []field{
	{"architecture", false, enum{values: []string{"x86_64", "aarch64", "risc-v"}}},
	{"hotfix_hours", true, integer{min: 0}},
	{"hw_disk_bus", false, enum{values: []string{"virtio", "scsi"}, null: true}},
	{"hw_firmware_type", true, enum{values: []string{"uefi"}, null: true}},
	{"hw_machine_type", true, enum{values: []string{"pc", "q35", "virt"}, null: true}},
	{"hw_rng_model", true, enum{values: []string{"virtio"}, null: true}},
	{"hw_scsi_model", true, enum{values: []string{"virtio-scsi"}}},
	{"hw_vif_multiqueue_enabled", true, isBool},
	{"hw_watchdog_action", true, enum{values: []string{"disabled", "reset", "poweroff", "pause", "none"}}},
	{"hypervisor_type", false, enum{values: []string{"hyperv", "ironic", "lxc", "qemu", "uml", "vmware", "xen"}}},
	{"image_description", true, isStr},
	{"os_distro", false, enum{values: []string{"arch", "centos", "cirros", "debian", "fedora", "freebsd", "gentoo",
		"mandrake", "mandriva", "mes", "msdos", "netbsd", "netware", "openbsd", "opensolaris", "opensuse", "rhel",
		"rocky", "sled", "talos", "ubuntu", "windows"}}},
	{"os_version", true, isStr},
	{"os_purpose", false, enum{values: []string{"generic", "minimal", "k8snode", "gpu", "network", "custom"}}},
	{"patchlevel", true, isStr},
	{"provided_until", false, anyOf{enum{values: []string{"none"}}, isDay}},
	{"replace_frequency", false, enum{values: []string{"yearly", "quarterly", "monthly", "weekly", "daily",
		"critical_bug", "never"}}},
	{"uuid_validity", false, anyOf{enum{values: []string{"none", "forever", "notice"}}, prefixed("last-"), isDay}},
}, open: func(v *validation) bool { return v.noCheck }}

// versionSchema is one entry of `versions:`. Its meta is the whole meta
// schema again, required keys included, as in the tool's schema.
var versionSchema = mapping{fields: []field{
	{"build_date", false, isDay},
	{"checksum", true, newPattern(checksumRegexp, "valid checksum (<algorithm>:<lowercase hex>)")},
	{"checksum_url", true, newPattern(httpPattern, "valid URL")},
	{"checksums_url", true, newPattern(httpPattern, "valid URL")},
	{"hidden", true, isBool},
	{"image_description", true, isStr},
	{"meta", true, metaSchema},
	{"os_version", true, isStr},
	{"source", true, newPattern(`^(http|ftp)s?:\/\/\w+.*|^private$`, "valid URL or private")},
	{"url", false, newPattern(sourcePattern, "valid URL")},
	{"mirror_url", true, newPattern(sourcePattern, "valid URL")},
	{"version", false, isStr},
	{"visibility", true, enum{values: visibilities}},
	{"id", true, newPattern(uuidRegexp, "lowercase UUID")},
}}

// imageSchema is one entry of `images:`.
var imageSchema = mapping{fields: []field{
	{"enable", false, isBool},
	{"format", false, enum{values: []string{"aki", "ari", "ami", "raw", "iso", "vhd", "vdi", "qcow2", "vmdk"}}},
	{"latest_checksum_url", true, newPattern(httpPattern, "valid URL")},
	{"latest_url", true, newPattern(urlPattern, "valid URL")},
	{"login", false, isStr},
	{"meta", false, metaSchema},
	{"min_disk", false, integer{min: 0}},
	{"min_ram", false, integer{min: 0}},
	{"multi", false, isBool},
	{"keep", true, isBool},
	{"name", false, isStr},
	{"password", true, isStr},
	{"shortname", true, isStr},
	{"status", false, enum{values: []string{"active", "deactivated"}}},
	{"separator", true, isStr},
	{"tags", false, list{item: isStr}},
	{"versions", false, list{item: versionSchema}},
	{"visibility", false, enum{values: visibilities}},
}}

// fileSchema is the whole document.
var fileSchema = mapping{fields: []field{
	{"images", false, list{item: imageSchema, min: 1}},
}}
