package diskformat_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/glint-image/glint/internal/diskformat"
)

var writeSeeds = flag.Bool("write-seeds", false, "rewrite the committed fuzz seed corpus from freshly made images")

// seedTargets maps each fuzz target to the formats its seeds hold.
var seedTargets = map[string][]string{
	"FuzzQCOW2":      {"qcow2"},
	"FuzzVMDK":       {"vmdk"},
	"FuzzVHD":        {"vhd"},
	"FuzzVHDX":       {"vhdx"},
	"FuzzVDI":        {"vdi"},
	"FuzzISO":        {"iso"},
	"FuzzPartitions": {"gpt", "mbr", "iso"},
	"FuzzOthers":     {"qed", "qcow", "luks", "ploop", "raw"},
}

// seedImages makes the seed images of each target.
func seedImages(t *testing.T, dir string) map[string][]string {
	q := func(name string, args ...string) string { return qemuImg(t, dir, name, args...) }
	base := q("base.raw", "-f", "raw", "1M")
	iso := read(t, makeISO(t, dir))
	mbr := makePartitioned(t, dir, "dos")
	return map[string][]string{
		"FuzzQCOW2": {q("v3.qcow2", "-f", "qcow2", "10M"), q("v2.qcow2", "-f", "qcow2", "-o", "compat=0.10", "10M"),
			q("backing.qcow2", "-f", "qcow2", "-b", base, "-F", "raw", "10M"),
			q("datafile.qcow2", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), "10M"),
			q("luks.qcow2", "--object", "secret,id=s,data=x", "-f", "qcow2", "-o", "encrypt.format=luks,encrypt.key-secret=s", "4M")},
		"FuzzVMDK": {q("sparse.vmdk", "-f", "vmdk", "10M"), q("stream.vmdk", "-f", "vmdk", "-o", "subformat=streamOptimized", "10M"),
			q("flat.vmdk", "-f", "vmdk", "-o", "subformat=monolithicFlat", "10M")},
		"FuzzVHD":        {q("dynamic.vhd", "-f", "vpc", "10M"), q("fixed.vhd", "-f", "vpc", "-o", "subformat=fixed", "1M")},
		"FuzzVHDX":       {q("dynamic.vhdx", "-f", "vhdx", "10M")},
		"FuzzVDI":        {q("dynamic.vdi", "-f", "vdi", "10M"), q("static.vdi", "-f", "vdi", "-o", "static=on", "1M")},
		"FuzzISO":        {makeISO(t, dir)},
		"FuzzPartitions": {makePartitioned(t, dir, "gpt"), mbr, write(t, filepath.Join(dir, "hybrid.iso"), patch(iso, 0, read(t, mbr)[:512]))},
		"FuzzOthers": {q("a.qed", "-f", "qed", "10M"), q("a.qcow", "-f", "qcow", "10M"),
			q("a.luks", "--object", "secret,id=s,data=x", "-f", "luks", "-o", "key-secret=s", "4M"), q("a.ploop", "-f", "parallels", "10M"), base},
	}
}

// TestFuzzSeeds checks that the committed seeds decode to images of their
// target's formats, so the fuzzers start from real headers; with
// -write-seeds it first rewrites them.
func TestFuzzSeeds(t *testing.T) {
	if *writeSeeds {
		dir := t.TempDir()
		for target, paths := range seedImages(t, dir) {
			out := filepath.Join("testdata", "fuzz", target)
			os.RemoveAll(out)
			os.MkdirAll(out, 0o755)
			for _, p := range paths {
				enc := diskformat.EncodeSparse(read(t, p), 16<<10)
				body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", enc)
				write(t, filepath.Join(out, filepath.Base(p)), []byte(body))
			}
		}
		descs := filepath.Join("testdata", "fuzz", "FuzzDescriptor")
		os.RemoveAll(descs)
		os.MkdirAll(descs, 0o755)
		for i, text := range []string{
			string(read(t, filepath.Join(dir, "flat.vmdk"))),
			"# Disk DescriptorFile\nversion=1\nCID=1\nparentCID=ffffffff\ncreateType=\"monolithicSparse\"\n\nRW 20480 SPARSE \"a.vmdk\"\n\nddb.virtualHWVersion = \"4\"\n",
		} {
			write(t, filepath.Join(descs, fmt.Sprintf("descriptor-%d", i)), []byte(fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", text)))
		}
	}
	for target, formats := range seedTargets {
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
		if len(files) == 0 {
			t.Errorf("%s has no committed seeds (run go test -run TestFuzzSeeds -write-seeds)", target)
		}
		for _, f := range files {
			enc := parseCorpusFile(t, f)
			r := inspect(diskformat.DecodeSparse(enc), 4096)
			if !slices.Contains(formats, r.Format) {
				t.Errorf("seed %s decodes to a %s image, want one of %v", f, r.Format, formats)
			}
		}
	}
}

// parseCorpusFile reads a one-value []byte corpus file.
func parseCorpusFile(t *testing.T, path string) []byte {
	t.Helper()
	var quoted string
	if _, err := fmt.Sscanf(string(read(t, path)), "go test fuzz v1\n[]byte(%q)\n", &quoted); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return []byte(quoted)
}
