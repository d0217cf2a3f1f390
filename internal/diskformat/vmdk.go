package diskformat

import (
	"fmt"
	"strconv"
	"strings"
)

// A sparse VMDK (version 4, "KDMV") starts with a little-endian header:
//
//	 0 magic  4 version  8 flags  12 capacity (sectors)  20 grain size
//	28 descriptor offset (sectors)  36 descriptor size (sectors)  ...
//	56 grain directory offset
//
// The embedded descriptor is text: createType and the extent lines. qemu
// uses the header's capacity, but a header with capacity 0 makes it read
// the descriptor as a descriptor file, whose extents may be any files on
// the host. A VMDK can also be a text descriptor file on its own, which
// qemu probes by its first lines; its data is always in other files.
const vmdkSparseMagic = "KDMV"

// vmdkState follows a sparse VMDK while it streams: once the header is in,
// it asks for the descriptor region.
type vmdkState struct {
	asked   bool
	desc    *window
	problem string
}

func (v *vmdkState) step(in *Inspector) {
	if v.asked || len(in.head) < 64 || !has(in.head, 0, vmdkSparseMagic) {
		return
	}
	v.asked = true
	h := in.head
	off, n := le64(h, 28), le64(h, 36)
	switch {
	case off == 0 || n == 0:
		v.problem = "the VMDK image has no embedded descriptor"
	case off > maxWindow/512 || n > maxWindow/512:
		v.problem = "the VMDK descriptor lies outside the first MiB"
	default:
		v.desc = in.request(int64(off)*512, int64(n)*512)
	}
}

func detectVMDK(in *Inspector) *detection {
	h := in.head
	switch {
	case has(h, 0, "COWD"):
		return &detection{format: VMDK, variant: "vmdk3", problems: []string{"VMDK version 3 (COWD) images are not supported"}}
	case has(h, 0, vmdkSparseMagic):
		return sparseVMDK(in)
	case textDescriptor(h):
		d := &detection{format: VMDK, variant: "descriptor"}
		desc := parseDescriptor(h)
		if desc.createType != "" {
			d.variant = desc.createType
		}
		d.problems = append(d.problems, desc.problems...)
		for _, e := range desc.extents {
			if e.file != "" {
				d.problems = append(d.problems, "the VMDK descriptor names the external file "+strconv.Quote(e.file))
			}
		}
		if len(d.problems) == 0 {
			d.problems = append(d.problems, "a VMDK descriptor file holds no data of its own")
		}
		return d
	}
	return nil
}

func sparseVMDK(in *Inspector) *detection {
	h := in.head
	d := &detection{format: VMDK}
	if len(h) < 64 {
		d.problems = append(d.problems, "the VMDK header is truncated")
		return d
	}
	if v := le32(h, 4); v < 1 || v > 3 {
		d.problems = append(d.problems, fmt.Sprintf("VMDK version %d is not supported", v))
		return d
	}
	capacity := le64(h, 12)
	if capacity == 0 {
		d.problems = append(d.problems, "the VMDK header has no capacity, so qemu would take the extents from its descriptor")
	} else if capacity < 1<<53 {
		d.virtual = int64(capacity) * 512
	}
	v := &in.vmdk
	if v.problem != "" {
		d.problems = append(d.problems, v.problem)
		return d
	}
	if v.desc == nil || !v.desc.complete() {
		d.problems = append(d.problems, "the VMDK descriptor is truncated")
		return d
	}
	desc := parseDescriptor(v.desc.buf)
	d.variant = desc.createType
	d.problems = append(d.problems, desc.problems...)
	if len(desc.extents) != 1 {
		d.problems = append(d.problems, fmt.Sprintf("the VMDK descriptor lists %d extents instead of one", len(desc.extents)))
	}
	for _, e := range desc.extents {
		if e.kind != "sparse" {
			d.problems = append(d.problems, "the VMDK descriptor has an extent of type "+strconv.Quote(e.kind))
		}
		if strings.ContainsAny(e.file, `/\`) || strings.HasPrefix(e.file, ".") {
			d.problems = append(d.problems, "the VMDK descriptor names the external file "+strconv.Quote(e.file))
		}
	}
	return d
}

// textDescriptor is qemu's vmdk_probe for descriptor files: comment and
// blank lines, then "version=1", "version=2" or "version=3".
func textDescriptor(h []byte) bool {
	p := h[:min(len(h), 512)]
	for len(p) > 0 {
		switch p[0] {
		case '#':
			i := indexByte(p, '\n')
			if i < 0 {
				return false
			}
			p = p[i+1:]
			continue
		case ' ':
			for len(p) > 0 && p[0] == ' ' {
				p = p[1:]
			}
			if len(p) > 0 && p[0] == '\r' {
				p = p[1:]
			}
			if len(p) == 0 || p[0] != '\n' {
				return false
			}
			p = p[1:]
			continue
		}
		for _, v := range []string{"version=1", "version=2", "version=3"} {
			if has(p, 0, v+"\n") || has(p, 0, v+"\r\n") {
				return true
			}
		}
		return false
	}
	return false
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

type vmdkExtent struct {
	access, kind, file string
}

type vmdkDescriptor struct {
	createType string
	extents    []vmdkExtent
	problems   []string
}

// parseDescriptor reads a VMDK descriptor strictly, as Glance does: every
// line must be a comment, a ddb entry, a header field or an extent, and
// the text must be ASCII.
func parseDescriptor(b []byte) vmdkDescriptor {
	var d vmdkDescriptor
	// qemu reads a descriptor as a C string: it ends at the first NUL.
	if i := indexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if !isText(line) {
			d.problems = append(d.problems, "the VMDK descriptor is not text")
			return d
		}
		lower := strings.ToLower(line)
		key, value, isField := strings.Cut(line, "=")
		switch {
		case line == "", strings.HasPrefix(line, "#"), strings.HasPrefix(lower, "ddb."):
		case isField && !strings.ContainsAny(strings.TrimSpace(key), " \t"):
			if strings.EqualFold(strings.TrimSpace(key), "createType") {
				d.createType = strings.Trim(strings.TrimSpace(value), `"`)
			}
		case startsWithAccess(lower):
			e, ok := parseExtent(line)
			if !ok {
				d.problems = append(d.problems, "the VMDK descriptor has a malformed extent line")
				continue
			}
			d.extents = append(d.extents, e)
		default:
			d.problems = append(d.problems, "the VMDK descriptor has a line glint does not understand")
			return d
		}
	}
	return d
}

func isText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c > 0x7e || (c < 0x20 && c != '\t') {
			return false
		}
	}
	return true
}

func startsWithAccess(lower string) bool {
	first, _, _ := strings.Cut(lower, " ")
	return first == "rw" || first == "rdonly" || first == "noaccess"
}

// parseExtent reads `ACCESS SECTORS TYPE ["FILE" [OFFSET]]`.
func parseExtent(line string) (vmdkExtent, bool) {
	fields := strings.Fields(line)
	if len(fields) < 3 {
		return vmdkExtent{}, false
	}
	if _, err := strconv.ParseUint(fields[1], 10, 64); err != nil {
		return vmdkExtent{}, false
	}
	e := vmdkExtent{access: strings.ToLower(fields[0]), kind: strings.ToLower(fields[2])}
	if len(fields) > 3 {
		rest := line
		for range 3 {
			rest = strings.TrimLeft(rest, " \t")
			rest = rest[strings.IndexAny(rest+" ", " \t"):]
		}
		rest = strings.TrimSpace(rest)
		if !strings.HasPrefix(rest, `"`) {
			return vmdkExtent{}, false
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return vmdkExtent{}, false
		}
		e.file = rest[1 : 1+end]
	}
	return e, true
}
