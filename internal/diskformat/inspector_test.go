package diskformat_test

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/diskformat"
)

// imageCase is one test image and what the inspector must say about it.
type imageCase struct {
	name string
	path string
	// format and variant expected; oracle is the qemu-img format to ask
	// for the virtual size (empty: no comparison).
	format, variant, oracle string
	// unsafe is a substring of the expected safety problem, "" for a safe
	// image.
	unsafe string
	// declared is a disk_format the image must pass Check with (none for
	// unsafe images).
	declared string
}

// testImages makes every test image, real and crafted, in dir.
func testImages(t *testing.T, dir string) []imageCase {
	t.Helper()
	q := func(name string, args ...string) string { return qemuImg(t, dir, name, args...) }
	base := q("base.raw", "-f", "raw", "1M")
	sparse := read(t, q("sparse.vmdk", "-f", "vmdk", "10M"))
	desc := vmdkDescriptorAt(t, sparse)
	qcow2 := read(t, q("plain.qcow2", "-f", "qcow2", "10M"))
	iso := read(t, makeISO(t, dir))
	gpt := makePartitioned(t, dir, "gpt")
	dynamicVHD := read(t, q("dynamic.vhd", "-f", "vpc", "10M"))

	cases := []imageCase{
		{name: "raw", path: write(t, filepath.Join(dir, "random.raw"), bytes.Repeat([]byte("not a disk header "), 50000)), format: "raw", declared: "raw"},
		{name: "qcow2 v3", path: filepath.Join(dir, "plain.qcow2"), format: "qcow2", oracle: "qcow2", declared: "qcow2"},
		{name: "qcow2 v2", path: q("v2.qcow2", "-f", "qcow2", "-o", "compat=0.10", "20M"), format: "qcow2", oracle: "qcow2", declared: "qcow2"},
		{name: "qcow2 large", path: q("big.qcow2", "-f", "qcow2", "-o", "cluster_size=2M", "3T"), format: "qcow2", oracle: "qcow2", declared: "qcow2"},
		{name: "qcow2 encrypted", path: q("luks.qcow2", "--object", "secret,id=sec0,data=glint", "-f", "qcow2",
			"-o", "encrypt.format=luks,encrypt.key-secret=sec0", "4M"), format: "qcow2", oracle: "qcow2", declared: "qcow2"},
		{name: "qcow2 backing file", path: q("backing.qcow2", "-f", "qcow2", "-b", base, "-F", "raw", "10M"), format: "qcow2", unsafe: "backing file"},
		{name: "qcow2 data file", path: q("datafile.qcow2", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), "10M"),
			format: "qcow2", unsafe: "external data file"},
		{name: "qcow2 data file raw", path: q("datafileraw.qcow2", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data2.raw")+",data_file_raw=on", "10M"),
			format: "qcow2", unsafe: "external data file"},
		{name: "qcow2 unknown feature", path: write(t, filepath.Join(dir, "feature.qcow2"), patch(qcow2, 72, []byte{0, 0, 0, 0, 0, 0, 0, 0x40})),
			format: "qcow2", unsafe: "unknown incompatible features"},
		{name: "qcow version 1", path: q("old.qcow", "-f", "qcow", "10M"), format: "qcow", unsafe: "version 1"},
		{name: "qed", path: q("disk.qed", "-f", "qed", "10M"), format: "qed", unsafe: "QED"},

		{name: "vmdk monolithicSparse", path: filepath.Join(dir, "sparse.vmdk"), format: "vmdk", variant: "monolithicSparse", oracle: "vmdk", declared: "vmdk"},
		{name: "vmdk streamOptimized", path: q("stream.vmdk", "-f", "vmdk", "-o", "subformat=streamOptimized", "30M"), format: "vmdk",
			variant: "streamOptimized", oracle: "vmdk", declared: "vmdk"},
		{name: "vmdk monolithicFlat descriptor", path: q("flat.vmdk", "-f", "vmdk", "-o", "subformat=monolithicFlat", "10M"), format: "vmdk",
			variant: "monolithicFlat", unsafe: "external file \"flat-flat.vmdk\""},
		{name: "vmdk twoGbMaxExtentSparse descriptor", path: q("split.vmdk", "-f", "vmdk", "-o", "subformat=twoGbMaxExtentSparse", "10M"),
			format: "vmdk", variant: "twoGbMaxExtentSparse", unsafe: "external file"},
		{name: "vmdk descriptor naming a host file", path: write(t, filepath.Join(dir, "passwd.vmdk"), []byte(
			"# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\nRW 4 FLAT \"/etc/passwd\" 0\n")),
			format: "vmdk", unsafe: "external file \"/etc/passwd\""},
		{name: "vmdk sparse with a hostile extent", path: write(t, filepath.Join(dir, "extent.vmdk"),
			patch(sparse, desc, []byte(strings.Replace(string(sparse[desc:desc+512]), `"sparse.vmdk"`, `"/etc/shadow"`, 1)))),
			format: "vmdk", unsafe: "/etc/shadow"},
		{name: "vmdk sparse with zero capacity", path: write(t, filepath.Join(dir, "nocap.vmdk"), patch(sparse, 12, le64(0))),
			format: "vmdk", unsafe: "no capacity"},
		{name: "vmdk sparse with a flat extent", path: write(t, filepath.Join(dir, "flatextent.vmdk"),
			patch(sparse, desc, []byte(strings.Replace(string(sparse[desc:desc+512]), "SPARSE", "FLAT  ", 1)))),
			format: "vmdk", unsafe: "type \"flat\""},

		{name: "vhd dynamic", path: filepath.Join(dir, "dynamic.vhd"), format: "vhd", variant: "dynamic", oracle: "vpc", declared: "vhd"},
		{name: "vhd fixed", path: q("fixed.vhd", "-f", "vpc", "-o", "subformat=fixed", "10M"), format: "vhd", variant: "fixed", oracle: "vpc", declared: "vhd"},
		{name: "vhd force_size", path: q("forced.vhd", "-f", "vpc", "-o", "force_size=on", "10M"), format: "vhd", variant: "dynamic", oracle: "vpc", declared: "vhd"},
		{name: "vhd differencing", path: write(t, filepath.Join(dir, "diff.vhd"), patch(dynamicVHD, 60, be32(4))),
			format: "vhd", variant: "differencing", unsafe: "parent"},
		{name: "vhdx dynamic", path: q("dynamic.vhdx", "-f", "vhdx", "10M"), format: "vhdx", oracle: "vhdx", declared: "vhdx"},
		{name: "vhdx fixed", path: q("fixed.vhdx", "-f", "vhdx", "-o", "subformat=fixed", "5M"), format: "vhdx", oracle: "vhdx", declared: "vhdx"},
		{name: "vhdx large", path: q("big.vhdx", "-f", "vhdx", "2T"), format: "vhdx", oracle: "vhdx", declared: "vhdx"},

		{name: "vdi dynamic", path: q("dynamic.vdi", "-f", "vdi", "10M"), format: "vdi", oracle: "vdi", declared: "vdi"},
		{name: "vdi static", path: q("static.vdi", "-f", "vdi", "-o", "static=on", "3M"), format: "vdi", oracle: "vdi", declared: "vdi"},
		{name: "ploop", path: q("disk.ploop", "-f", "parallels", "10M"), format: "ploop", oracle: "parallels", declared: "ploop"},
		{name: "luks", path: q("disk.luks", "--object", "secret,id=sec0,data=glint", "-f", "luks", "-o", "key-secret=sec0", "4M"),
			format: "luks", declared: "raw"},

		{name: "iso", path: filepath.Join(dir, "disk.iso"), format: "iso", oracle: "raw", declared: "iso"},
		{name: "gpt", path: gpt, format: "gpt", oracle: "raw", declared: "raw"},
		{name: "mbr", path: makePartitioned(t, dir, "dos"), format: "mbr", oracle: "raw", declared: "raw"},
		{name: "iso with an mbr in front", path: write(t, filepath.Join(dir, "hybrid.iso"), patch(iso, 0, read(t, filepath.Join(dir, "dos.raw"))[:512])),
			format: "iso", declared: "iso"},
		{name: "iso hiding a qcow2", path: write(t, filepath.Join(dir, "qcow2.iso"), patch(iso, 0, qcow2[:512])),
			format: "qcow2", unsafe: "more than one format (qcow2, iso)"},
		{name: "gpt hiding a qcow2", path: write(t, filepath.Join(dir, "qcow2.gpt"), patch(read(t, gpt), 0, qcow2[:104])),
			format: "qcow2", unsafe: "more than one format (qcow2, gpt)"},
		{name: "qcow2 behind a vmdk descriptor", path: write(t, filepath.Join(dir, "nested.vmdk"),
			append([]byte("# Disk DescriptorFile\nversion=1\ncreateType=\"monolithicSparse\"\nRW 20480 SPARSE \"disk.qcow2\"\n"), qcow2...)),
			format: "vmdk", unsafe: "external file \"disk.qcow2\""},
	}
	return cases
}

func TestImages(t *testing.T) {
	dir := t.TempDir()
	for _, c := range testImages(t, dir) {
		t.Run(c.name, func(t *testing.T) {
			data := read(t, c.path)
			r := inspect(data, len(data))
			if r.Format != c.format {
				t.Fatalf("format %q, want %q (report %+v)", r.Format, c.format, r)
			}
			if c.variant != "" && r.Variant != c.variant {
				t.Errorf("variant %q, want %q", r.Variant, c.variant)
			}
			if r.Size != int64(len(data)) {
				t.Errorf("size %d, want %d", r.Size, len(data))
			}
			problems := strings.Join(r.Problems, "; ")
			if c.unsafe == "" && problems != "" {
				t.Fatalf("safe image reported unsafe: %s", problems)
			}
			if c.unsafe != "" && !strings.Contains(problems, c.unsafe) {
				t.Fatalf("problems %q do not mention %q", problems, c.unsafe)
			}
			if c.oracle != "" {
				if want := info(t, c.path, c.oracle).VirtualSize; r.VirtualSize != want {
					t.Errorf("virtual size %d, qemu-img says %d", r.VirtualSize, want)
				}
			}
			for _, chunk := range []int{1, 7, 511, 4096, 65537} {
				if len(data) > 4<<20 && chunk < 4096 {
					continue // byte-at-a-time through megabytes is slow under -race
				}
				if got := inspect(data, chunk); !reflect.DeepEqual(got, r) {
					t.Fatalf("in %d-byte chunks: %+v\nwhole: %+v", chunk, got, r)
				}
			}
			// An inspection stopped and restored from its state (a resumed
			// upload) reports the same.
			for _, cuts := range [][]int{{1}, {512, 70000}, {len(data) / 3, len(data) / 2, len(data) - 1}} {
				if got := inspectResumed(t, data, cuts); !reflect.DeepEqual(got, r) {
					t.Fatalf("resumed at %v: %+v\nwhole: %+v", cuts, got, r)
				}
			}
			if c.declared != "" {
				if _, err := r.Check(c.declared, "bare", diskformat.Policy{}); err != nil {
					t.Errorf("Check(%s): %v", c.declared, err)
				}
			}
			if c.unsafe != "" {
				for _, declared := range []string{c.format, "raw", "qcow2"} {
					_, err := r.Check(declared, "bare", diskformat.Policy{})
					if rej, ok := err.(*diskformat.Rejection); !ok || !rej.Safety {
						t.Errorf("Check(%s) of an unsafe image: %v", declared, err)
					}
				}
			}
		})
	}
}

// inspect feeds data to a new inspector chunk bytes at a time.
func inspect(data []byte, chunk int) diskformat.Report {
	in := diskformat.New()
	for len(data) > 0 {
		n := min(chunk, len(data))
		in.Write(data[:n])
		data = data[n:]
	}
	return in.Report()
}

// TestCheckDeclaredFormats: which detected formats pass under which
// declared disk and container formats, and with which virtual size.
func TestCheckDeclaredFormats(t *testing.T) {
	dir := t.TempDir()
	qcow2 := inspect(read(t, qemuImg(t, dir, "a.qcow2", "-f", "qcow2", "1G")), 4096)
	raw := inspect(bytes.Repeat([]byte{0}, 1<<20), 1<<16)
	iso := inspect(read(t, makeISO(t, dir)), 4096)
	vmdk := inspect(read(t, qemuImg(t, dir, "a.vmdk", "-f", "vmdk", "10M")), 4096)
	cases := []struct {
		name            string
		r               diskformat.Report
		disk, container string
		pol             diskformat.Policy
		wantErr         string
		wantVirtual     int64
	}{
		{"qcow2 as qcow2", qcow2, "qcow2", "bare", diskformat.Policy{}, "", 1 << 30},
		{"qcow2 as raw", qcow2, "raw", "bare", diskformat.Policy{}, "Image disk_format raw does not match stream data qcow2", 0},
		{"qcow2 as vmdk", qcow2, "vmdk", "bare", diskformat.Policy{}, "Image disk_format vmdk does not match stream data qcow2", 0},
		{"qcow2 as ami", qcow2, "ami", "bare", diskformat.Policy{}, "does not match stream data qcow2", 0},
		{"qcow2 mismatch allowed", qcow2, "raw", "bare", diskformat.Policy{AllowMismatch: true}, "", 0},
		{"qcow2 in an ova", qcow2, "raw", "ova", diskformat.Policy{}, "", 0},
		{"raw as qcow2", raw, "qcow2", "bare", diskformat.Policy{}, "Image disk_format qcow2 does not match stream data raw", 0},
		{"raw as raw", raw, "raw", "bare", diskformat.Policy{}, "", 1 << 20},
		{"raw as ami", raw, "aki", "bare", diskformat.Policy{}, "", 0},
		{"raw as ploop", raw, "ploop", "bare", diskformat.Policy{}, "", 0},
		{"iso as raw", iso, "raw", "bare", diskformat.Policy{}, "", iso.Size},
		{"iso as qcow2", iso, "qcow2", "bare", diskformat.Policy{}, "does not match stream data iso", 0},
		{"vmdk allowed", vmdk, "vmdk", "bare", diskformat.Policy{}, "", 10 << 20},
		{"vmdk type not allowed", vmdk, "vmdk", "bare", diskformat.Policy{VMDKAllowedTypes: []string{"streamOptimized"}},
			`Image failed safety checks: VMDK createType "monolithicSparse" is not allowed (allowed: streamOptimized)`, 0},
		{"no vmdk allowed", vmdk, "vmdk", "bare", diskformat.Policy{VMDKAllowedTypes: []string{}}, "is not allowed", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v, err := c.r.Check(c.disk, c.container, c.pol)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("error %v, want %q", err, c.wantErr)
			case v != c.wantVirtual:
				t.Fatalf("virtual size %d, want %d", v, c.wantVirtual)
			}
		})
	}
}

// TestCompressedImagesAreRaw: a compressed image is data the inspector
// cannot see into; the import chain decompresses before it inspects.
func TestCompressedImagesAreRaw(t *testing.T) {
	dir := t.TempDir()
	evil := read(t, qemuImg(t, dir, "evil.qcow2", "-f", "qcow2", "-b", qemuImg(t, dir, "base.raw", "-f", "raw", "1M"), "-F", "raw", "1G"))
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(evil)
	zw.Close()
	if r := inspect(buf.Bytes(), 4096); r.Format != "raw" || len(r.Problems) != 0 {
		t.Fatalf("gzip stream: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, "evil.qcow2")); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkInspect measures what the inspector adds to an upload: a 1 GiB
// qcow2 header followed by data, in the 1 MiB chunks uploads use.
func BenchmarkInspect(b *testing.B) {
	dir := b.TempDir()
	head := read(b, qemuImg(b, dir, "a.qcow2", "-f", "qcow2", "1G"))
	chunk := make([]byte, 1<<20)
	copy(chunk, head)
	const chunks = 64
	b.SetBytes(chunks << 20)
	for b.Loop() {
		in := diskformat.New()
		for range chunks {
			in.Write(chunk)
		}
		if r := in.Report(); r.Format != "qcow2" {
			b.Fatal(r.Format)
		}
	}
}

// inspectResumed feeds data in pieces ending at cuts, moving the state to
// a new inspector at each cut.
func inspectResumed(t *testing.T, data []byte, cuts []int) diskformat.Report {
	t.Helper()
	in := diskformat.New()
	from := 0
	for _, c := range append(cuts, len(data)) {
		c = max(from, min(c, len(data)))
		in.Write(data[from:c])
		from = c
		st, err := in.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		in = diskformat.New()
		if err := in.UnmarshalBinary(st); err != nil {
			t.Fatal(err)
		}
	}
	return in.Report()
}

func TestInspectorStateRefusesGarbage(t *testing.T) {
	for _, st := range []string{"", "{", `{"pos":-1}`, `{"pos":0,"tail":""}`} {
		if err := diskformat.New().UnmarshalBinary([]byte(st)); err == nil {
			t.Errorf("UnmarshalBinary(%q) succeeded", st)
		}
	}
}
