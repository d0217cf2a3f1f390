// Package importchain holds the import plugins, Glance's
// image_import_plugins: image_decompression, image_conversion (qemu-img,
// after glint's own format inspector passed the data, under time and
// memory limits), inject_image_metadata and no_op. Each works on the
// image's data as a local file (image.Work) between staging and the
// stores; internal/image runs them in the configured order.
package importchain

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/image"
)

// Config is what the plugins need from the configuration.
type Config struct {
	// OutputFormat is image_conversion's target: raw, qcow2 or vmdk.
	OutputFormat string
	// ConvertTimeout bounds one qemu-img run; ConvertMemory its address
	// space in bytes.
	ConvertTimeout time.Duration
	ConvertMemory  int64
	// QemuImg and Prlimit are the programs run (default: found on PATH).
	QemuImg, Prlimit string
	// Inject and IgnoreUserRoles are inject_image_metadata's.
	Inject          map[string]string
	IgnoreUserRoles []string
}

// New builds the plugins named, in order.
func New(names []string, cfg Config, log *slog.Logger) ([]image.Plugin, error) {
	var out []image.Plugin
	for _, name := range names {
		switch name {
		case "image_decompression":
			out = append(out, decompress{})
		case "image_conversion":
			c, err := newConverter(cfg)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		case "inject_image_metadata":
			out = append(out, inject{props: cfg.Inject, ignore: cfg.IgnoreUserRoles})
		case "no_op":
			out = append(out, noOp{log: log})
		default:
			return nil, fmt.Errorf("importchain: unknown import plugin %q", name)
		}
	}
	return out, nil
}

// inject adds the configured properties to imports by callers without an
// ignored role (Glance's inject_image_metadata; reserved os_glance_*
// names are dropped, as there).
type inject struct {
	props  map[string]string
	ignore []string
}

func (inject) Name() string { return "inject_image_metadata" }

func (p inject) Apply(_ context.Context, w *image.Work) error {
	for _, role := range w.Roles {
		for _, ignored := range p.ignore {
			if strings.EqualFold(role, ignored) {
				return nil
			}
		}
	}
	for k, v := range p.props {
		if !strings.HasPrefix(k, "os_glance") {
			w.SetProperties[k] = v
		}
	}
	return nil
}

type noOp struct{ log *slog.Logger }

func (noOp) Name() string { return "no_op" }

func (p noOp) Apply(ctx context.Context, w *image.Work) error {
	p.log.DebugContext(ctx, "no_op import plugin ran", "image_id", w.ImageID)
	return nil
}

// inspect reads a local file through the format inspector.
func inspect(path string) (diskformat.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return diskformat.Report{}, err
	}
	defer f.Close()
	in := diskformat.New()
	if _, err := io.Copy(in, f); err != nil {
		return diskformat.Report{}, err
	}
	return in.Report(), nil
}

// replace makes out the work's data, removing the old file.
func replace(w *image.Work, out string) error {
	info, err := os.Stat(out)
	if err != nil {
		return err
	}
	if err := os.Remove(w.Path); err != nil {
		return err
	}
	w.Path, w.Size = out, info.Size()
	return nil
}
