package diskformat

import (
	"encoding/hex"
	"strings"
)

// A VHD footer (big-endian, 512 bytes) sits at the end of every VHD and,
// for dynamic and differencing disks, also at the start:
//
//	 0 "conectix"  28 creator application  48 current size
//	56 cylinders u16, heads u8, sectors u8   60 disk type (2 fixed,
//	3 dynamic, 4 differencing)
const vhdCookie = "conectix"

func detectVHD(in *Inspector) *detection {
	if !has(in.head, 0, vhdCookie) {
		return nil
	}
	return vhdFooter(in.head)
}

// detectFixedVHD finds the footer of a fixed VHD at the end of the stream:
// raw data followed by the footer, which qemu only reads when told the
// format.
func detectFixedVHD(in *Inspector) *detection {
	if has(in.head, 0, vhdCookie) || in.pos < 2*tailSize {
		return nil
	}
	t := in.tailBytes()
	if !has(t, 0, vhdCookie) {
		return nil
	}
	d := vhdFooter(t)
	if d.variant != "fixed" {
		// A footer that claims a dynamic disk at the end of a file that
		// does not start with one: nothing qemu would open that way.
		d.problems = append(d.problems, "the VHD footer at the end of the image is not a fixed disk's")
	}
	return d
}

func vhdFooter(f []byte) *detection {
	d := &detection{format: VHD}
	if len(f) < 64 {
		d.problems = append(d.problems, "the VHD footer is truncated")
		return d
	}
	switch be32(f, 60) {
	case 2:
		d.variant = "fixed"
	case 3:
		d.variant = "dynamic"
	case 4:
		d.variant = "differencing"
		d.problems = append(d.problems, "the VHD image is a differencing disk that refers to a parent image")
	default:
		d.problems = append(d.problems, "the VHD footer has an unknown disk type")
	}
	d.virtual = vhdSize(f)
	return d
}

// vhdSize is the virtual size as qemu's vpc driver computes it: from the
// CHS geometry for images made by Virtual PC and older qemu, from the
// current size field for the others and for the largest geometry.
func vhdSize(f []byte) int64 {
	current := sizeOf(be64(f, 48))
	chs := int64(be16(f, 56)) * int64(f[58]) * int64(f[59])
	const maxGeometry = 65535 * 16 * 255
	switch string(f[28:32]) {
	case "win ", "qem2", "d2v ", "CTXS", "tap\x00":
		return current
	}
	if chs == maxGeometry {
		return current
	}
	return chs * 512
}

// VHDX (MS-VHDX): the file type identifier "vhdxfile" at 0, a region
// table at 192 KiB naming the metadata region, whose table names the
// metadata items: the virtual disk size, the file parameters (with the
// HasParent flag) and, for differencing disks, the parent locator.
const (
	vhdxRegionTable = 192 << 10
	vhdxTableSize   = 64 << 10
)

var (
	vhdxMetadataRegion = guid("8B7CA206-4790-4B9A-B8FE-575F050F886E")
	vhdxVirtualSize    = guid("2FA54224-CD1B-4876-B211-5DBED83BF4B8")
	vhdxFileParameters = guid("CAA16737-FA36-4D43-B3B6-33F0AA44E76B")
	vhdxParentLocator  = guid("A8D35F2D-B30B-454D-ABF7-D3D84834AB0C")
)

// guid encodes a GUID as it is stored on disk: the first three groups
// little-endian, the rest as written.
func guid(s string) string {
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err != nil || len(b) != 16 {
		panic("diskformat: bad GUID " + s)
	}
	out := []byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
	return string(append(out, b[8:]...))
}

// vhdxState follows a VHDX while it streams, asking for the region table,
// then the metadata table, then the items it needs.
type vhdxState struct {
	regions, meta *window
	size, params  *window
	parent        bool
	problem       string
}

func (v *vhdxState) step(in *Inspector) {
	if !has(in.head, 0, "vhdxfile") || v.problem != "" {
		return
	}
	if v.regions == nil {
		v.regions = in.request(vhdxRegionTable, vhdxTableSize)
		return
	}
	if v.meta == nil && v.regions.complete() {
		off, ok := v.metadataRegion()
		if !ok {
			return
		}
		v.meta = in.request(off, vhdxTableSize)
		return
	}
	if v.meta != nil && v.size == nil && v.meta.complete() {
		v.items(in)
	}
}

// metadataRegion finds the metadata region's offset in the region table.
func (v *vhdxState) metadataRegion() (int64, bool) {
	t := v.regions.buf
	if !has(t, 0, "regi") {
		v.problem = "the VHDX region table is invalid"
		return 0, false
	}
	count := le32(t, 8)
	if count > 2047 {
		v.problem = "the VHDX region table is invalid"
		return 0, false
	}
	for i := range int(count) {
		e := t[16+i*32 : 16+(i+1)*32]
		if string(e[:16]) == vhdxMetadataRegion {
			off := le64(e, 16)
			if off < vhdxRegionTable+vhdxTableSize || off > 1<<50 {
				v.problem = "the VHDX metadata region is out of place"
				return 0, false
			}
			return int64(off), true
		}
	}
	v.problem = "the VHDX image has no metadata region"
	return 0, false
}

// items reads the metadata table and asks for the items it needs.
func (v *vhdxState) items(in *Inspector) {
	t := v.meta.buf
	if !has(t, 0, "metadata") {
		v.problem = "the VHDX metadata table is invalid"
		return
	}
	count := int(le16(t, 10))
	if count > 2047 {
		v.problem = "the VHDX metadata table is invalid"
		return
	}
	for i := range count {
		e := t[32+i*32 : 32+(i+1)*32]
		id, off, n := string(e[:16]), int64(le32(e, 16)), le32(e, 20)
		at := v.meta.off + off
		switch id {
		case vhdxVirtualSize:
			if n < 8 {
				v.problem = "the VHDX virtual size item is invalid"
				return
			}
			v.size = in.request(at, 8)
		case vhdxFileParameters:
			if n < 8 {
				v.problem = "the VHDX file parameters item is invalid"
				return
			}
			v.params = in.request(at, 8)
		case vhdxParentLocator:
			v.parent = true
		}
	}
	if v.size == nil {
		v.problem = "the VHDX image has no virtual size"
	}
}

func detectVHDX(in *Inspector) *detection {
	if !has(in.head, 0, "vhdxfile") {
		return nil
	}
	v := &in.vhdx
	d := &detection{format: VHDX}
	switch {
	case v.problem != "":
		d.problems = append(d.problems, v.problem)
	case v.size == nil || !v.size.complete() || (v.params != nil && !v.params.complete()):
		d.problems = append(d.problems, "the VHDX metadata is missing or truncated")
	default:
		d.virtual = sizeOf(le64(v.size.buf, 0))
		const hasParent = 1 << 1
		if v.parent || (v.params != nil && le32(v.params.buf, 4)&hasParent != 0) {
			d.variant = "differencing"
			d.problems = append(d.problems, "the VHDX image is a differencing disk that refers to a parent image")
		}
	}
	return d
}
