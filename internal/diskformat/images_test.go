package diskformat_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The test images are made by the real tools: qemu-img (Debian's
// qemu-utils), genisoimage and sfdisk. .ci/run installs all three.

func tool(t testing.TB, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if err == nil {
			break
		}
		// sfdisk is in /usr/sbin, which a user's PATH may lack.
		path, err = exec.LookPath(filepath.Join(dir, name))
	}
	if err != nil {
		t.Fatalf("%s is needed to make the test images (.ci/deps installs them, as README's test command does): %v", name, err)
	}
	return path
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// qemuImg runs qemu-img create in dir and returns the path of the image.
func qemuImg(t testing.TB, dir, name string, args ...string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	args = append(append([]string{"create", "-q"}, args[:len(args)-1]...), path, args[len(args)-1])
	// A LUKS image's key derivation is calibrated on the thread's CPU
	// time, which a loaded machine can report as zero ("Unable to get
	// accurate CPU usage"): that one failure is qemu-img's, and is tried
	// again; any other fails the test at once.
	for try := 1; ; try++ {
		out, err := exec.Command(tool(t, "qemu-img"), args...).CombinedOutput()
		if err == nil {
			return path
		}
		if try == 5 || !strings.Contains(string(out), "Unable to get accurate CPU usage") {
			t.Fatalf("qemu-img %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// qemuInfo is qemu-img's view of an image, the oracle for virtual sizes.
type qemuInfo struct {
	Format      string `json:"format"`
	VirtualSize int64  `json:"virtual-size"`
}

func info(t testing.TB, path, format string) qemuInfo {
	t.Helper()
	args := []string{"info", "--output=json", "-U"}
	if format != "" {
		args = append(args, "-f", format)
	}
	out, err := exec.Command(tool(t, "qemu-img"), append(args, path)...).Output()
	if err != nil {
		t.Fatalf("qemu-img info %s: %v", path, err)
	}
	var i qemuInfo
	if err := json.Unmarshal(out, &i); err != nil {
		t.Fatal(err)
	}
	return i
}

func read(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func write(t testing.TB, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// makeISO builds a small ISO 9660 image with genisoimage.
func makeISO(t testing.TB, dir string) string {
	t.Helper()
	content := filepath.Join(dir, "iso-content")
	os.MkdirAll(content, 0o700)
	write(t, filepath.Join(content, "hello.txt"), bytes.Repeat([]byte("hello\n"), 1000))
	path := filepath.Join(dir, "disk.iso")
	run(t, "genisoimage", "-quiet", "-V", "GLINT", "-o", path, content)
	return path
}

// makePartitioned writes a 10 MiB raw disk with one partition in a GPT or
// DOS (MBR) label, with sfdisk.
func makePartitioned(t testing.TB, dir, label string) string {
	t.Helper()
	path := filepath.Join(dir, label+".raw")
	if err := os.WriteFile(path, make([]byte, 10<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool(t, "sfdisk"), "-q", path)
	cmd.Stdin = strings.NewReader("label: " + label + "\n,,L\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sfdisk: %v\n%s", err, out)
	}
	return path
}

// patch returns a copy of b with data written at off.
func patch(b []byte, off int, data []byte) []byte {
	c := bytes.Clone(b)
	copy(c[off:], data)
	return c
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func le64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// vmdkDescriptorAt returns the offset of the embedded descriptor of a
// sparse VMDK made by qemu-img.
func vmdkDescriptorAt(t testing.TB, b []byte) int {
	t.Helper()
	i := bytes.Index(b, []byte("# Disk DescriptorFile"))
	if i < 0 {
		t.Fatal("no embedded descriptor in the VMDK")
	}
	return i
}
