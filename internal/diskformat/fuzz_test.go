package diskformat

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

// Fuzz targets, one per parser. Each is seeded (testdata/fuzz/<target>)
// with images of its format made by qemu-img, genisoimage or sfdisk and
// written by TestWriteFuzzSeeds. Disk images are mostly zeros with a few
// headers far apart (a VHDX's metadata lies megabytes in), so the fuzz
// input is a sparse encoding of an image: its size, then (offset, length,
// bytes) records laid over zeros. The mutator then moves headers as easily
// as it flips their bits, and the committed seeds stay small.
//
// Every target checks the same properties: no panic, the same report
// whatever the chunking of the stream, and sane sizes.

// maxFuzzImage caps a decoded image, so one input stays fast.
const maxFuzzImage = 3 << 20

func decodeSparse(enc []byte) []byte {
	if len(enc) < 4 {
		return enc
	}
	size := int(binary.LittleEndian.Uint32(enc) % (maxFuzzImage + 1))
	img := make([]byte, size)
	rest := enc[4:]
	for len(rest) >= 6 {
		off := int(binary.LittleEndian.Uint32(rest))
		n := int(binary.LittleEndian.Uint16(rest[4:]))
		rest = rest[6:]
		n = min(n, len(rest))
		if off < size {
			copy(img[off:], rest[:n])
		}
		rest = rest[n:]
	}
	return img
}

// encodeSparse is decodeSparse's inverse for the seeds: the non-zero runs
// of img (up to maxFuzzImage), at most budget bytes of them.
func encodeSparse(img []byte, budget int) []byte {
	img = img[:min(len(img), maxFuzzImage)]
	enc := binary.LittleEndian.AppendUint32(nil, uint32(len(img)))
	for i := 0; i < len(img) && budget > 0; {
		if img[i] == 0 {
			i++
			continue
		}
		// A run ends at 32 zeros in a row.
		j, zeros := i, 0
		for j < len(img) && zeros < 32 && j-i < 65535 {
			if img[j] == 0 {
				zeros++
			} else {
				zeros = 0
			}
			j++
		}
		run := img[i : j-zeros]
		run = run[:min(len(run), budget)]
		enc = binary.LittleEndian.AppendUint32(enc, uint32(i))
		enc = binary.LittleEndian.AppendUint16(enc, uint16(len(run)))
		enc = append(enc, run...)
		budget -= len(run)
		i = j
	}
	return enc
}

func feed(img []byte, chunk int) Report {
	in := New()
	for p := img; len(p) > 0; {
		n := min(chunk, len(p))
		in.Write(p[:n])
		p = p[n:]
	}
	return in.Report()
}

func checkImage(t *testing.T, img []byte) {
	whole := feed(img, len(img)+1)
	chunks := []int{509, 4099}
	if len(img) > 256<<10 {
		chunks = []int{4099, 65539} // small chunks through megabytes are slow
	}
	for _, chunk := range chunks {
		if got := feed(img, chunk); !reflect.DeepEqual(got, whole) {
			t.Fatalf("%d-byte chunks: %+v, whole stream: %+v", chunk, got, whole)
		}
	}
	if whole.Size != int64(len(img)) || whole.VirtualSize < 0 {
		t.Fatalf("sizes: %+v for %d bytes", whole, len(img))
	}
	if whole.Format == Raw && len(whole.Problems) > 0 {
		t.Fatalf("raw with problems: %+v", whole)
	}
	for _, disk := range []string{"raw", "qcow2", "vmdk", "iso", whole.Format} {
		v, err := whole.Check(disk, "bare", Policy{})
		if err == nil && len(whole.Problems) > 0 {
			t.Fatalf("unsafe image passed as %s: %+v", disk, whole)
		}
		if v < 0 {
			t.Fatalf("negative virtual size %d", v)
		}
	}
}

func fuzzImages(f *testing.F) {
	f.Fuzz(func(t *testing.T, enc []byte) { checkImage(t, decodeSparse(enc)) })
}

func FuzzQCOW2(f *testing.F)      { fuzzImages(f) }
func FuzzVMDK(f *testing.F)       { fuzzImages(f) }
func FuzzVHD(f *testing.F)        { fuzzImages(f) }
func FuzzVHDX(f *testing.F)       { fuzzImages(f) }
func FuzzVDI(f *testing.F)        { fuzzImages(f) }
func FuzzISO(f *testing.F)        { fuzzImages(f) }
func FuzzPartitions(f *testing.F) { fuzzImages(f) }
func FuzzOthers(f *testing.F)     { fuzzImages(f) }

// FuzzDescriptor drives the VMDK descriptor parser and the descriptor
// probe with text directly.
func FuzzDescriptor(f *testing.F) {
	f.Fuzz(func(t *testing.T, text []byte) {
		d := parseDescriptor(text)
		for _, e := range d.extents {
			if e.access == "" || e.kind == "" {
				t.Fatalf("extent without access or type: %+v", e)
			}
		}
		textDescriptor(text)
		if bytes.HasPrefix(text, []byte("# Disk DescriptorFile\nversion=1\n")) && !textDescriptor(text) {
			t.Fatal("descriptor not probed")
		}
		checkImage(t, text)
	})
}
