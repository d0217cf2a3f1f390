package importchain_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/importchain"
)

// The images are made by the real qemu-img (qemu-utils) and compressed
// with the Go encoders or, for bzip2, the bzip2 tool; .ci/run installs
// what is missing.

func need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed (.ci/deps installs it, as README's test command does): %v", name, err)
	}
	return p
}

func qemuImg(t testing.TB, dir, name string, args ...string) []byte {
	t.Helper()
	path := filepath.Join(dir, name)
	full := append(append([]string{"create", "-q"}, args[:len(args)-1]...), path, args[len(args)-1])
	if out, err := exec.Command(need(t, "qemu-img"), full...).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img %v: %v %s", full, err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// work puts data in a fresh work directory, as the import does.
func work(t testing.TB, data []byte, disk string) *image.Work {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "data")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return &image.Work{ImageID: "img", Path: path, Dir: dir, Size: int64(len(data)), MaxSize: 1 << 30,
		DiskFormat: disk, ContainerFormat: "bare", Properties: map[string]string{}, SetProperties: map[string]string{}}
}

func plugins(t testing.TB, cfg importchain.Config, names ...string) []image.Plugin {
	t.Helper()
	if cfg.OutputFormat == "" {
		cfg.OutputFormat = "raw"
	}
	if cfg.ConvertTimeout == 0 {
		cfg.ConvertTimeout, cfg.ConvertMemory = time.Minute, 1<<30
	}
	ps, err := importchain.New(names, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func data(t testing.TB, w *image.Work) []byte {
	t.Helper()
	b, err := os.ReadFile(w.Path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(b)) != w.Size {
		t.Fatalf("work size %d, file %d bytes", w.Size, len(b))
	}
	return b
}

func compress(t testing.TB, kind string, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	switch kind {
	case "gzip":
		zw := gzip.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
	case "xz":
		zw, _ := xz.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
	case "zstd":
		zw, _ := zstd.NewWriter(&buf)
		zw.Write(raw)
		zw.Close()
	case "zip":
		zw := zip.NewWriter(&buf)
		f, _ := zw.Create("disk.qcow2")
		f.Write(raw)
		zw.Close()
	case "bzip2":
		cmd := exec.Command(need(t, "bzip2"), "-c")
		cmd.Stdin, cmd.Stdout = bytes.NewReader(raw), &buf
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestDecompression(t *testing.T) {
	img := qemuImg(t, t.TempDir(), "a.qcow2", "-f", "qcow2", "1G")
	dec := plugins(t, importchain.Config{}, "image_decompression")[0]
	for _, kind := range []string{"gzip", "bzip2", "xz", "zstd", "zip"} {
		w := work(t, compress(t, kind, img), "qcow2")
		if err := dec.Apply(context.Background(), w); err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		if got := data(t, w); !bytes.Equal(got, img) {
			t.Fatalf("%s: decompressed %d bytes that differ from the %d compressed", kind, len(got), len(img))
		}
	}
	// Not compressed: left alone. Meant to stay compressed: left alone.
	w := work(t, img, "qcow2")
	if err := dec.Apply(context.Background(), w); err != nil || !bytes.Equal(data(t, w), img) {
		t.Fatalf("uncompressed data changed: %v", err)
	}
	gz := compress(t, "gzip", img)
	w = work(t, gz, "qcow2")
	w.ContainerFormat = "compressed"
	if err := dec.Apply(context.Background(), w); err != nil || !bytes.Equal(data(t, w), gz) {
		t.Fatalf("container_format compressed was decompressed: %v", err)
	}
}

func TestDecompressionRefusals(t *testing.T) {
	dec := plugins(t, importchain.Config{}, "image_decompression")[0]
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, name := range []string{"a.img", "b.img"} {
		f, _ := zw.Create(name)
		f.Write([]byte("data"))
	}
	zw.Close()
	if err := dec.Apply(context.Background(), work(t, buf.Bytes(), "raw")); err == nil || !strings.Contains(err.Error(), "Archive contains more than one file.") {
		t.Errorf("two-file zip: %v", err)
	}
	// A bomb: 64 MiB of zeros in a few kB, with a 1 MiB cap.
	for _, kind := range []string{"gzip", "xz", "zstd", "bzip2", "zip"} {
		w := work(t, compress(t, kind, make([]byte, 64<<20)), "raw")
		w.MaxSize = 1 << 20
		if err := dec.Apply(context.Background(), w); err == nil || !strings.Contains(err.Error(), "decompresses to more than the size cap") {
			t.Errorf("%s bomb: %v", kind, err)
		}
		if entries, _ := os.ReadDir(w.Dir); len(entries) != 1 {
			t.Errorf("%s bomb left %d files", kind, len(entries))
		}
	}
	if err := dec.Apply(context.Background(), work(t, []byte{0x1f, 0x8b, 0x08, 0, 1, 2, 3}, "raw")); err == nil {
		t.Error("broken gzip accepted")
	}
}

func qemuVirtual(t testing.TB, path, format string) int64 {
	t.Helper()
	out, err := exec.Command(need(t, "qemu-img"), "info", "-f", format, "--output=json", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		VirtualSize int64 `json:"virtual-size"`
	}
	json.Unmarshal(out, &v)
	return v.VirtualSize
}

func TestConversion(t *testing.T) {
	dir := t.TempDir()
	conv := plugins(t, importchain.Config{}, "image_conversion")[0]
	for _, c := range []struct {
		disk string
		data []byte
	}{
		{"qcow2", qemuImg(t, dir, "a.qcow2", "-f", "qcow2", "64M")},
		{"vmdk", qemuImg(t, dir, "a.vmdk", "-f", "vmdk", "-o", "subformat=streamOptimized", "64M")},
		{"vhd", qemuImg(t, dir, "a.vhd", "-f", "vpc", "64M")},
		{"vhdx", qemuImg(t, dir, "a.vhdx", "-f", "vhdx", "64M")},
		{"vdi", qemuImg(t, dir, "a.vdi", "-f", "vdi", "64M")},
	} {
		w := work(t, c.data, c.disk)
		qemuFormat := c.disk
		if c.disk == "vhd" {
			qemuFormat = "vpc"
		}
		want := qemuVirtual(t, w.Path, qemuFormat)
		if err := conv.Apply(context.Background(), w); err != nil {
			t.Fatalf("%s: %v", c.disk, err)
		}
		if w.DiskFormat != "raw" || w.ContainerFormat != "bare" || !w.Inspected || w.VirtualSize != want || w.Size != want {
			t.Fatalf("%s converted: %+v (want virtual size %d)", c.disk, w, want)
		}
		if got := qemuVirtual(t, w.Path, "raw"); got != want {
			t.Fatalf("%s: qemu-img sees %d bytes of raw", c.disk, got)
		}
		if entries, _ := os.ReadDir(w.Dir); len(entries) != 1 {
			t.Fatalf("%s: %d files in the work directory", c.disk, len(entries))
		}
	}
	// To qcow2 as well; raw input is converted, qcow2 input kept.
	toQcow2 := plugins(t, importchain.Config{OutputFormat: "qcow2"}, "image_conversion")[0]
	w := work(t, make([]byte, 8<<20), "raw")
	if err := toQcow2.Apply(context.Background(), w); err != nil || w.DiskFormat != "qcow2" || w.VirtualSize != 8<<20 {
		t.Fatalf("raw to qcow2: %+v %v", w, err)
	}
	q := qemuImg(t, dir, "b.qcow2", "-f", "qcow2", "1G")
	w = work(t, q, "qcow2")
	if err := toQcow2.Apply(context.Background(), w); err != nil || !bytes.Equal(data(t, w), q) || w.VirtualSize != 1<<30 || !w.Inspected {
		t.Fatalf("qcow2 kept as qcow2: %+v %v", w, err)
	}
}

func TestConversionRefusals(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.raw")
	os.WriteFile(base, make([]byte, 1<<20), 0o600)
	conv := plugins(t, importchain.Config{}, "image_conversion")[0]
	for _, c := range []struct {
		name, disk string
		data       []byte
		want       string
	}{
		{"backing file", "qcow2", qemuImg(t, dir, "b.qcow2", "-f", "qcow2", "-b", base, "-F", "raw", "1G"), "Image has disallowed configuration: the qcow2 image has a backing file"},
		{"data file", "qcow2", qemuImg(t, dir, "d.qcow2", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "x.raw"), "1G"), "external data file"},
		{"mismatch", "qcow2", make([]byte, 1<<20), "Image format mismatch"},
		{"qcow2 as raw", "raw", qemuImg(t, dir, "c.qcow2", "-f", "qcow2", "1G"), "Image format mismatch"},
		{"vmdk descriptor", "vmdk", qemuImg(t, dir, "f.vmdk", "-f", "vmdk", "-o", "subformat=monolithicFlat", "1M"), "disallowed configuration"},
	} {
		w := work(t, c.data, c.name)
		w.DiskFormat = c.disk
		err := conv.Apply(context.Background(), w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if !bytes.Equal(data(t, w), c.data) || w.DiskFormat != c.disk {
			t.Errorf("%s: the refused data was changed", c.name)
		}
	}
	// The limits apply: an address space qemu-img cannot run in, a clock
	// that has run out.
	q := qemuImg(t, dir, "ok.qcow2", "-f", "qcow2", "1G")
	tiny := plugins(t, importchain.Config{ConvertTimeout: time.Minute, ConvertMemory: 4 << 20}, "image_conversion")[0]
	if err := tiny.Apply(context.Background(), work(t, q, "qcow2")); err == nil || !strings.Contains(err.Error(), "qemu-img convert failed") {
		t.Errorf("4 MiB address space: %v", err)
	}
	slow := plugins(t, importchain.Config{ConvertTimeout: time.Nanosecond, ConvertMemory: 1 << 30}, "image_conversion")[0]
	if err := slow.Apply(context.Background(), work(t, q, "qcow2")); err == nil || !strings.Contains(err.Error(), "did not finish") {
		t.Errorf("no time: %v", err)
	}
	// An ISO stays an ISO.
	iso := filepath.Join(dir, "iso")
	os.MkdirAll(iso, 0o700)
	os.WriteFile(filepath.Join(iso, "f"), []byte("x"), 0o600)
	if out, err := exec.Command(need(t, "genisoimage"), "-quiet", "-o", filepath.Join(dir, "a.iso"), iso).CombinedOutput(); err != nil {
		t.Fatalf("genisoimage: %v %s", err, out)
	}
	isoData, _ := os.ReadFile(filepath.Join(dir, "a.iso"))
	w := work(t, isoData, "iso")
	if err := conv.Apply(context.Background(), w); err != nil || w.DiskFormat != "iso" || !bytes.Equal(data(t, w), isoData) {
		t.Errorf("iso: %+v %v", w, err)
	}
}

func TestInject(t *testing.T) {
	inj := plugins(t, importchain.Config{Inject: map[string]string{"hw_disk_bus": "scsi", "os_glance_import_task": "x"},
		IgnoreUserRoles: []string{"admin"}}, "inject_image_metadata")[0]
	w := work(t, nil, "raw")
	w.Roles = []string{"member", "reader"}
	if err := inj.Apply(context.Background(), w); err != nil || len(w.SetProperties) != 1 || w.SetProperties["hw_disk_bus"] != "scsi" {
		t.Fatalf("member: %v %v", w.SetProperties, err)
	}
	w = work(t, nil, "raw")
	w.Roles = []string{"Admin"}
	if err := inj.Apply(context.Background(), w); err != nil || len(w.SetProperties) != 0 {
		t.Fatalf("admin: %v %v", w.SetProperties, err)
	}
}

// TestConversionBounded: conversion output is bounded by the work's
// MaxSize: a raw target larger than it is refused before qemu-img runs,
// any other output is cut off by the file-size limit, and nothing is left
// in the work directory.
func TestConversionBounded(t *testing.T) {
	dir := t.TempDir()
	toRaw := plugins(t, importchain.Config{}, "image_conversion")[0]
	w := work(t, qemuImg(t, dir, "big.qcow2", "-f", "qcow2", "64M"), "qcow2")
	w.MaxSize, w.MaxSizeWhy = 1<<20, "the quota"
	if err := toRaw.Apply(context.Background(), w); err == nil || !strings.Contains(err.Error(), "more than the quota; import aborted") {
		t.Errorf("qcow2 of 64 MiB to raw under 1 MiB: %v", err)
	}
	// 4 MiB of random data (incompressible) in a vmdk, to qcow2 under 1 MiB.
	noise := make([]byte, 4<<20)
	rand.Read(noise)
	rawPath := filepath.Join(dir, "noise.raw")
	os.WriteFile(rawPath, noise, 0o600)
	vmdkPath := filepath.Join(dir, "noise.vmdk")
	if out, err := exec.Command(need(t, "qemu-img"), "convert", "-q", "-f", "raw", "-O", "vmdk", rawPath, vmdkPath).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img convert: %v %s", err, out)
	}
	vmdk, _ := os.ReadFile(vmdkPath)
	toQcow2 := plugins(t, importchain.Config{OutputFormat: "qcow2"}, "image_conversion")[0]
	w = work(t, vmdk, "vmdk")
	w.MaxSize, w.MaxSizeWhy = 1<<20, "the quota"
	if err := toQcow2.Apply(context.Background(), w); err == nil || !strings.Contains(err.Error(), "grew to more than the quota; import aborted") {
		t.Errorf("vmdk of 4 MiB noise to qcow2 under 1 MiB: %v", err)
	}
	if entries, _ := os.ReadDir(w.Dir); len(entries) != 1 {
		t.Errorf("%d files in the work directory after the refusal", len(entries))
	}
}
