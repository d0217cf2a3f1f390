package diskformat

import "fmt"

// qcow2 header (docs/interop/qcow2.txt in qemu), big-endian:
//
//	 0 magic "QFI\xfb"          4 version
//	 8 backing_file_offset     16 backing_file_size
//	20 cluster_bits            24 size (virtual, bytes)
//	32 crypt_method            ...
//	72 incompatible_features (v3)  ...  100 header_length (v3)
//
// followed, from header_length (72 for version 2), by header extensions:
// type u32, length u32, data padded to 8 bytes, ending with type 0.
const (
	qcowMagic = "QFI\xfb"
	// Incompatible feature bits qemu 7.2 knows: dirty, corrupt, external
	// data file, compression type, extended L2 entries.
	qcow2DataFileBit   = 1 << 2
	qcow2KnownFeatures = 0x1f
	// Header extension carrying the external data file's name.
	qcow2ExtDataFile = 0x44415441
)

func detectQCOW(in *Inspector) *detection {
	h := in.head
	if !has(h, 0, qcowMagic) {
		return nil
	}
	if len(h) < 8 {
		return &detection{format: QCOW2, problems: []string{"the qcow2 header is truncated"}}
	}
	switch version := be32(h, 4); version {
	case 1:
		// qcow version 1 supports backing files and is not maintained.
		return &detection{format: QCOW, problems: []string{"qcow version 1 images are not supported"}}
	case 2, 3:
		return qcow2(h, version)
	default:
		return &detection{format: QCOW2, problems: []string{fmt.Sprintf("qcow2 version %d is not supported", version)}}
	}
}

func qcow2(h []byte, version uint32) *detection {
	d := &detection{format: QCOW2}
	need := 72
	if version == 3 {
		need = 104
	}
	if len(h) < need {
		d.problems = append(d.problems, "the qcow2 header is truncated")
		return d
	}
	d.virtual = sizeOf(be64(h, 24))
	d.encrypted = be32(h, 32) != 0
	if be64(h, 8) != 0 {
		d.problems = append(d.problems, "the qcow2 image has a backing file")
	}
	clusterBits := be32(h, 20)
	if clusterBits < 9 || clusterBits > 21 {
		d.problems = append(d.problems, fmt.Sprintf("the qcow2 header is invalid (cluster_bits %d)", clusterBits))
		return d
	}
	extStart := 72
	if version == 3 {
		features := be64(h, 72)
		if features&qcow2DataFileBit != 0 {
			d.problems = append(d.problems, "the qcow2 image uses an external data file")
		}
		if unknown := features &^ qcow2KnownFeatures; unknown != 0 {
			d.problems = append(d.problems, fmt.Sprintf("the qcow2 image has unknown incompatible features (%#x)", unknown))
		}
		extStart = int(be32(h, 100))
		if extStart < 104 {
			d.problems = append(d.problems, "the qcow2 header is invalid (header_length)")
			return d
		}
	}
	if qcow2NamesDataFile(h, extStart, 1<<clusterBits) {
		// qemu refuses a data file name without the feature bit, but
		// nothing that names another file is let through.
		d.problems = append(d.problems, "the qcow2 header names an external data file")
	}
	return d
}

// qcow2NamesDataFile walks the header extensions, which live in the first
// cluster, as far as the kept head reaches.
func qcow2NamesDataFile(h []byte, off, cluster int) bool {
	end := min(len(h), cluster)
	for off+8 <= end {
		typ, n := be32(h, off), int(be32(h, off+4))
		if typ == 0 {
			return false
		}
		if typ == qcow2ExtDataFile {
			return true
		}
		if n < 0 || n > cluster {
			return false
		}
		off += 8 + (n+7)&^7
	}
	return false
}

func detectQED(in *Inspector) *detection {
	if !has(in.head, 0, "QED\x00") {
		return nil
	}
	// QED can have backing files and is not maintained by anyone; Glance
	// refuses it too.
	return &detection{format: QED, problems: []string{"QED images are not supported"}}
}

// LUKS volumes (cryptsetup's header, which qemu's luks driver reads):
// "LUKS\xba\xbe", version u16 big-endian.
func detectLUKS(in *Inspector) *detection {
	h := in.head
	if !has(h, 0, "LUKS\xba\xbe") {
		return nil
	}
	d := &detection{format: LUKS, virtual: 0}
	if len(h) < 8 {
		d.problems = append(d.problems, "the LUKS header is truncated")
	} else if v := be16(h, 6); v != 1 && v != 2 {
		d.problems = append(d.problems, fmt.Sprintf("LUKS version %d is not supported", v))
	}
	return d
}
