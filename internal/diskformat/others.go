package diskformat

import "fmt"

// VirtualBox VDI: a little-endian header with the signature 0xbeda107f at
// 0x40, the image type at 0x4c (1 dynamic, 2 fixed, 3 undo, 4 diff) and
// the disk size at 0x170.
func detectVDI(in *Inspector) *detection {
	h := in.head
	if len(h) < 0x44 || le32(h, 0x40) != 0xbeda107f {
		return nil
	}
	d := &detection{format: VDI}
	if len(h) < 0x178 {
		d.problems = append(d.problems, "the VDI header is truncated")
		return d
	}
	switch typ := le32(h, 0x4c); typ {
	case 1, 2:
	case 4:
		d.problems = append(d.problems, "the VDI image is a differencing image that refers to a parent image")
	default:
		d.problems = append(d.problems, fmt.Sprintf("VDI image type %d is not supported", typ))
	}
	d.virtual = sizeOf(le64(h, 0x170))
	return d
}

// ISO 9660: the primary volume descriptor at sector 16 (2048-byte
// sectors): type 1, "CD001", the volume space size (both-endian u32) at
// 80 and the logical block size (both-endian u16) at 128.
const isoPVD = 16 * 2048

func detectISO(in *Inspector) *detection {
	h := in.head
	if len(h) < isoPVD+136 || h[isoPVD] != 1 || !has(h, isoPVD+1, "CD001") {
		return nil
	}
	blocks := int64(le32(h, isoPVD+80))
	size := int64(le16(h, isoPVD+128))
	return &detection{format: ISO, virtual: blocks * size}
}

// detectPartitioned finds an MBR (the 0x55aa signature and four partition
// entries whose boot flags are valid, at least one in use) and a GPT
// behind it (a protective 0xee partition and "EFI PART" in the next
// sector, for 512- or 4096-byte sectors). Both are raw disks; they matter
// when they sit in front of another format.
func detectPartitioned(in *Inspector) *detection {
	h := in.head
	if len(h) < 512 || h[510] != 0x55 || h[511] != 0xaa {
		return nil
	}
	used, protective := false, false
	for i := range 4 {
		e := h[446+i*16 : 446+(i+1)*16]
		if e[0] != 0 && e[0] != 0x80 {
			return nil
		}
		if e[4] != 0 {
			used = true
		}
		if e[4] == 0xee {
			protective = true
		}
	}
	if !used {
		return nil
	}
	if protective && (has(h, 512, "EFI PART") || has(h, 4096, "EFI PART")) {
		return &detection{format: GPT, virtual: in.pos}
	}
	return &detection{format: MBR, virtual: in.pos}
}

// Parallels (ploop): "WithoutFreeSpace" or "WithouFreSpacExt", the sector
// count (u64) at 36.
func detectPloop(in *Inspector) *detection {
	h := in.head
	if !has(h, 0, "WithoutFreeSpace") && !has(h, 0, "WithouFreSpacExt") {
		return nil
	}
	d := &detection{format: Ploop}
	if len(h) < 44 {
		d.problems = append(d.problems, "the ploop header is truncated")
		return d
	}
	if n := le64(h, 36); n < 1<<53 {
		d.virtual = int64(n) * 512
	}
	return d
}

// Bochs and cloop images are opened by qemu when it probes; neither is a
// Glance disk_format, so they are named only to be refused.
func detectBochs(in *Inspector) *detection {
	if !has(in.head, 0, "Bochs Virtual HD Image") {
		return nil
	}
	return &detection{format: Bochs, problems: []string{"Bochs images are not supported"}}
}

func detectCloop(in *Inspector) *detection {
	if !has(in.head, 0, "#!/bin/sh\n#V2.0 Format\nmodprobe cloop file=$0 && mount -r -t iso9660 /dev/cloop $1\n") {
		return nil
	}
	return &detection{format: Cloop, problems: []string{"cloop images are not supported"}}
}
