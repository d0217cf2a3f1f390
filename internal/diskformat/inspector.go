// Package diskformat recognises virtual disk image formats from a stream
// of image data, as it passes on its way to storage: it never reads the
// data twice and keeps only the few regions of the file that the headers
// point at. It reports the format, the virtual size, and what makes an
// image unsafe to hand to a hypervisor or to qemu-img (a qcow2 backing
// file or external data file, a VMDK descriptor that names other files,
// a file that is valid in two formats at once, ...).
//
// The parsers follow the published layouts and qemu's probes (block/*.c),
// so an image qemu would open as qcow2 is seen here as qcow2 too. Memory
// per inspection is bounded (about 1.2 MiB in the worst case, a VMDK with
// the largest descriptor qemu accepts), whatever the image size.
package diskformat

import "encoding/binary"

// Format names. The ones that are also Glance disk_format values use
// Glance's spelling; the rest exist so that they can be refused by name.
const (
	Raw   = "raw"
	QCOW2 = "qcow2"
	VMDK  = "vmdk"
	VHD   = "vhd"
	VHDX  = "vhdx"
	VDI   = "vdi"
	ISO   = "iso"
	Ploop = "ploop"
	// Raw disks with a partition table.
	GPT = "gpt"
	MBR = "mbr"
	// Formats qemu opens that glint does not accept under any disk_format
	// of Glance's, or accepts only as raw data (LUKS).
	QED   = "qed"
	QCOW  = "qcow" // qcow version 1
	LUKS  = "luks"
	Bochs = "bochs"
	Cloop = "cloop"
)

// headSize is how much of the start of every image is kept: all the
// headers the formats put at the start, and the ISO 9660 primary volume
// descriptor at 32 KiB.
const headSize = 64 << 10

// maxWindow bounds a single region a header may ask for (qemu caps a VMDK
// descriptor at 1 MiB too).
const maxWindow = 1 << 20

// Inspector learns the format of an image from its bytes, written to it in
// order and in chunks of any size. It is an io.Writer that never fails, so
// it can sit beside the store writer and the hashes. It is not safe for
// concurrent use.
type Inspector struct {
	pos     int64
	head    []byte
	windows []*window
	tail    [tailSize]byte
	vmdk    vmdkState
	vhdx    vhdxState
}

// tailSize keeps the end of the stream for footers (a fixed VHD's).
const tailSize = 512

// window is a region of the image captured as it streams past.
type window struct {
	off  int64
	buf  []byte
	have int // bytes of buf filled, from the start
}

func (w *window) complete() bool { return w.have == len(w.buf) }

// New returns an inspector for one image.
func New() *Inspector {
	return &Inspector{head: make([]byte, 0, headSize)}
}

// Write feeds the next bytes of the image.
func (in *Inspector) Write(p []byte) (int, error) {
	start := in.pos
	in.pos += int64(len(p))
	if start < headSize {
		n := min(int64(len(p)), headSize-start)
		in.head = append(in.head, p[:n]...)
	}
	in.keepTail(p)
	// A header parsed from this chunk may ask for a region that starts in
	// this very chunk, so new windows get the chunk too, until no more
	// appear.
	fed := 0
	for {
		for _, w := range in.windows[fed:] {
			w.capture(p, start)
		}
		fed = len(in.windows)
		in.vmdk.step(in)
		in.vhdx.step(in)
		if len(in.windows) == fed {
			return len(p), nil
		}
	}
}

func (in *Inspector) keepTail(p []byte) {
	if len(p) >= tailSize {
		copy(in.tail[:], p[len(p)-tailSize:])
		return
	}
	copy(in.tail[:], in.tail[len(p):])
	copy(in.tail[tailSize-len(p):], p)
}

// capture copies the part of p (which starts at offset start of the image)
// that falls in the window's next missing bytes.
func (w *window) capture(p []byte, start int64) {
	if w.complete() {
		return
	}
	want := w.off + int64(w.have) // next byte needed
	end := start + int64(len(p))
	if want < start || want >= end {
		return
	}
	w.have += copy(w.buf[w.have:], p[want-start:])
}

// request asks for n bytes at off. What has already streamed past is
// taken from the head when it is there; a region that lies behind the
// stream and outside the head can no longer be had, and the window stays
// incomplete.
func (in *Inspector) request(off, n int64) *window {
	w := &window{off: off, buf: make([]byte, n)}
	if off < int64(len(in.head)) {
		w.have = copy(w.buf, in.head[off:])
	}
	in.windows = append(in.windows, w)
	return w
}

// tailBytes returns the last bytes of the stream (at most tailSize).
func (in *Inspector) tailBytes() []byte {
	if in.pos < tailSize {
		return in.tail[tailSize-in.pos:]
	}
	return in.tail[:]
}

func be16(b []byte, off int) uint16 { return binary.BigEndian.Uint16(b[off:]) }
func be32(b []byte, off int) uint32 { return binary.BigEndian.Uint32(b[off:]) }
func be64(b []byte, off int) uint64 { return binary.BigEndian.Uint64(b[off:]) }
func le16(b []byte, off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
func le32(b []byte, off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
func le64(b []byte, off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

// has reports whether b holds sig at off.
func has(b []byte, off int, sig string) bool {
	return len(b) >= off+len(sig) && string(b[off:off+len(sig)]) == sig
}

// sizeOf turns an unsigned size field into a byte count, or 0 (unknown)
// when it does not fit an int64.
func sizeOf(v uint64) int64 {
	if v > 1<<62 {
		return 0
	}
	return int64(v)
}
