package importchain

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/image"
)

// converter is Glance's image_conversion: the data is converted to the
// output format with qemu-img, only after glint's inspector found it safe
// and in its declared format, and qemu-img's own view (qemu-img info)
// agrees. qemu-img always gets the format explicitly (never probes) and
// runs under prlimit: an address-space cap, a CPU-time cap and a file-size
// cap (the work's MaxSize, so a small qcow2 of compressed clusters cannot
// fill the disk), and a wall clock timeout. The output is inspected again
// before it is used.
type converter struct {
	target           string
	timeout          time.Duration
	memory           int64
	qemuImg, prlimit string
}

// qemuFormats maps Glance disk formats to qemu's driver names; formats
// missing here (iso, ami, ari, aki) are not converted.
var qemuFormats = map[string]string{
	"raw": "raw", "qcow2": "qcow2", "vmdk": "vmdk", "vhd": "vpc", "vhdx": "vhdx", "vdi": "vdi", "ploop": "parallels",
}

// Limits of qemu-img info, as Glance's QEMU_IMG_PROC_LIMITS (1 GiB, a
// little CPU): reading headers needs little.
const (
	infoMemory  = 1 << 30
	infoCPU     = 30 * time.Second
	infoTimeout = time.Minute
	// maxToolOutput bounds what is kept of qemu-img's output.
	maxToolOutput = 1 << 20
	// qemuStack is the stack limit of a qemu-img run, and so the stack
	// each of its threads reserves.
	qemuStack = 2 << 20
)

func newConverter(cfg Config) (*converter, error) {
	c := &converter{target: cfg.OutputFormat, timeout: cfg.ConvertTimeout, memory: cfg.ConvertMemory,
		qemuImg: cfg.QemuImg, prlimit: cfg.Prlimit}
	if c.target != "raw" && c.target != "qcow2" && c.target != "vmdk" {
		return nil, fmt.Errorf("importchain: output format %q is not raw, qcow2 or vmdk", c.target)
	}
	for _, tool := range []struct {
		path *string
		name string
	}{{&c.qemuImg, "qemu-img"}, {&c.prlimit, "prlimit"}} {
		if *tool.path != "" {
			continue
		}
		path, err := exec.LookPath(tool.name)
		if err != nil {
			return nil, fmt.Errorf("importchain: image_conversion needs %s (Debian: qemu-utils, util-linux): %w", tool.name, err)
		}
		*tool.path = path
	}
	return c, nil
}

func (converter) Name() string { return "image_conversion" }

func (c *converter) Apply(ctx context.Context, w *image.Work) error {
	if w.ContainerFormat != "bare" {
		return nil // not a bare disk: an ova, a docker tarball, ...
	}
	r, err := inspect(w.Path)
	if err != nil {
		return err
	}
	if _, err := r.Check(w.DiskFormat, w.ContainerFormat, w.Formats); err != nil {
		var rej *diskformat.Rejection
		if errors.As(err, &rej) && rej.Safety {
			return fmt.Errorf("Image has disallowed configuration: %s", strings.TrimPrefix(rej.Reason, "Image failed safety checks: "))
		}
		return fmt.Errorf("Image format mismatch: %v", err)
	}
	source, convertible := qemuFormats[w.DiskFormat]
	if !convertible {
		return nil // iso and the kernel/ramdisk formats are kept as they are
	}
	if err := c.agree(ctx, w, source); err != nil {
		return err
	}
	if w.DiskFormat == c.target {
		w.Inspected, w.VirtualSize = true, virtualOf(r)
		return nil
	}
	if c.target == "raw" && virtualOf(r) > w.MaxSize {
		return fmt.Errorf("the image converted to raw would be %d bytes, more than %s; import aborted", virtualOf(r), maxSizeWhy(w))
	}
	out := filepath.Join(w.Dir, "converted."+c.target)
	limit := strconv.FormatInt(int64(c.timeout.Seconds())+1, 10)
	_, err = c.run(ctx, c.timeout, c.memory, limit, "convert", "--fsize="+strconv.FormatInt(w.MaxSize, 10),
		"-q", "-f", source, "-O", c.target, w.Path, out)
	if err != nil {
		info, serr := os.Stat(out)
		os.Remove(out)
		if serr == nil && info.Size() >= w.MaxSize {
			return fmt.Errorf("the converted image grew to more than %s; import aborted", maxSizeWhy(w))
		}
		return fmt.Errorf("qemu-img convert failed: %w", err)
	}
	converted, err := inspect(out)
	if err == nil {
		_, err = converted.Check(c.target, "bare", w.Formats)
	}
	if err != nil {
		os.Remove(out)
		return fmt.Errorf("Converted image in unexpected format: %v", err)
	}
	if err := replace(w, out); err != nil {
		return err
	}
	w.DiskFormat, w.ContainerFormat = c.target, "bare"
	w.Inspected, w.VirtualSize = true, virtualOf(converted)
	return nil
}

func virtualOf(r diskformat.Report) int64 {
	if r.VirtualSize > 0 {
		return r.VirtualSize
	}
	return r.Size
}

// qemuInfo is the part of qemu-img info's JSON that is checked.
type qemuInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
	FormatSpecific  struct {
		Data struct {
			DataFile   *string `json:"data-file"`
			CreateType string  `json:"create-type"`
		} `json:"data"`
	} `json:"format-specific"`
}

// agree runs qemu-img info on the data, with the format given, and
// refuses what Glance's image_conversion refuses: another format, a
// backing file, a data file, a VMDK create type not allowed.
func (c *converter) agree(ctx context.Context, w *image.Work, source string) error {
	out, err := c.run(ctx, infoTimeout, infoMemory, strconv.Itoa(int(infoCPU.Seconds())), "info", "", "-f", source, "--output=json", w.Path)
	if err != nil {
		return fmt.Errorf("qemu-img info failed: %w", err)
	}
	var info qemuInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return fmt.Errorf("qemu-img info gave no JSON: %v", err)
	}
	switch {
	case info.Format != source:
		return errors.New("Image metadata disagrees about format")
	case info.BackingFilename != "":
		return errors.New("QCOW images with backing files are not allowed")
	case info.FormatSpecific.Data.DataFile != nil:
		return errors.New("QCOW images with data-file set are not allowed")
	}
	if source == "vmdk" {
		allowed := w.Formats.VMDKAllowedTypes
		if allowed == nil {
			allowed = diskformat.DefaultVMDKTypes
		}
		if !slices.Contains(allowed, info.FormatSpecific.Data.CreateType) {
			return errors.New("Invalid VMDK create-type specified")
		}
	}
	return nil
}

// run runs qemu-img's subcommand under prlimit (address space, CPU
// seconds and, when fsize is not "", a file-size limit) and a wall clock
// timeout, and returns its standard output.
func (c *converter) run(ctx context.Context, timeout time.Duration, memory int64, cpu, sub, fsize string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The address-space cap counts every thread's stack reservation, and
	// glibc reserves RLIMIT_STACK (8 MiB by default) for each: qemu-img's
	// I/O pool grows to 64 threads when I/O is slow, so a busy machine
	// could push a small conversion over the cap ("failed to allocate
	// memory for stack"). A 2 MiB stack per thread keeps the cap about
	// the data qemu-img holds.
	full := []string{"--as=" + strconv.FormatInt(memory, 10), "--stack=" + strconv.Itoa(qemuStack), "--cpu=" + cpu}
	if fsize != "" {
		full = append(full, fsize)
	}
	full = append(append(full, "--", c.qemuImg, sub), args...)
	cmd := exec.CommandContext(ctx, c.prlimit, full...)
	var stdout, stderr limitedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = []string{"LC_ALL=C"}
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("qemu-img did not finish within %s", timeout)
	}
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return nil, errors.New(msg)
	}
	return stdout.Bytes(), nil
}

// limitedBuffer keeps the first maxToolOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxToolOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
