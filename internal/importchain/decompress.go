package importchain

import (
	"archive/zip"
	"bytes"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/glint-image/glint/internal/image"
)

// decompress is Glance's image_decompression, with more formats: data
// compressed with gzip, bzip2, xz or zstd, or a zip archive of exactly one
// file, is replaced by its content. The format is told by magic bytes,
// never by a name; an image with container_format compressed is left as
// it is (it is meant to stay compressed). The output may not pass the
// work's MaxSize (the size cap or the owner's remaining image_size_total),
// whatever the archive claims: decompression stops at that bound, and the
// decoders' memory is bounded against bombs.
type decompress struct{}

func (decompress) Name() string { return "image_decompression" }

// Decoder memory bounds: xz's dictionary (xz -9 uses 64 MiB) and zstd's
// window and total memory.
const (
	xzDictCap     = 64 << 20
	zstdMaxWindow = 128 << 20
	zstdMaxMemory = 256 << 20
)

var magics = []struct {
	kind string
	sig  []byte
}{
	{"gzip", []byte{0x1f, 0x8b, 0x08}},
	{"bzip2", []byte("BZh")},
	{"xz", []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}},
	{"zstd", []byte{0x28, 0xb5, 0x2f, 0xfd}},
	{"zip", []byte{'P', 'K', 0x03, 0x04}},
}

func (decompress) Apply(ctx context.Context, w *image.Work) error {
	if w.ContainerFormat == "compressed" {
		return nil
	}
	kind, err := sniff(w.Path)
	if err != nil || kind == "" {
		return err
	}
	out := filepath.Join(w.Dir, "decompressed")
	if err := decompressFile(ctx, kind, w.Path, out, w.MaxSize); err != nil {
		if errors.Is(err, errTooLarge) {
			os.Remove(out)
			return fmt.Errorf("the %s data decompresses to more than %s; import aborted", kind, maxSizeWhy(w))
		}
		os.Remove(out)
		return fmt.Errorf("decompressing the %s data: %w", kind, err)
	}
	return replace(w, out)
}

func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	for _, m := range magics {
		if bytes.HasPrefix(head[:n], m.sig) {
			return m.kind, nil
		}
	}
	return "", nil
}

var errTooLarge = errors.New("the output is larger than the import may store")

// maxSizeWhy names the bound on a plugin's output.
func maxSizeWhy(w *image.Work) string {
	if w.MaxSizeWhy != "" {
		return w.MaxSizeWhy
	}
	return fmt.Sprintf("the size cap (%d bytes)", w.MaxSize)
}

func decompressFile(ctx context.Context, kind, in, out string, maxSize int64) error {
	var src io.Reader
	var closeSrc func()
	if kind == "zip" {
		zr, err := zip.OpenReader(in)
		if err != nil {
			return err
		}
		defer zr.Close()
		var files []*zip.File
		for _, f := range zr.File {
			if !f.FileInfo().IsDir() {
				files = append(files, f)
			}
		}
		if len(files) != 1 {
			return errors.New("Archive contains more than one file.")
		}
		rc, err := files[0].Open()
		if err != nil {
			return err
		}
		defer rc.Close()
		src = rc
	} else {
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		defer f.Close()
		if src, closeSrc, err = decoder(kind, f); err != nil {
			return err
		}
		if closeSrc != nil {
			defer closeSrc()
		}
	}
	dst, err := os.OpenFile(out, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(dst, &ctxReader{ctx: ctx, r: io.LimitReader(src, maxSize+1)})
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > maxSize {
		err = errTooLarge
	}
	return err
}

func decoder(kind string, f io.Reader) (io.Reader, func(), error) {
	switch kind {
	case "gzip":
		zr, err := gzip.NewReader(f)
		return zr, nil, err
	case "bzip2":
		return bzip2.NewReader(f), nil, nil
	case "xz":
		xr, err := xz.ReaderConfig{DictCap: xzDictCap}.NewReader(f)
		return xr, nil, err
	case "zstd":
		zr, err := zstd.NewReader(f, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow),
			zstd.WithDecoderMaxMemory(zstdMaxMemory))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	}
	return nil, nil, fmt.Errorf("unknown compression %s", kind)
}

// ctxReader stops a long decompression when its import is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
