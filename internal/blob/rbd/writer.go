//go:build ceph

package rbd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"syscall"

	cephrbd "github.com/ceph/go-ceph/rbd"

	"github.com/glint-image/glint/internal/blob"
)

// maxGrowth caps one resize step of an image whose size is not known in
// advance, as Glance's (8 GiB).
const maxGrowth = 8 << 30

// writer fills a temporary image in chunks and, on Commit, snapshots and
// protects it and renames it to the key's name. Writes go at the running
// offset; the image is grown ahead of them: once to the blob's size when
// the writer was told it (SizeHint), as Glance's rbd driver creates the
// image at the size it knows, else in steps that start at one chunk and
// double. Commit cuts it to the bytes written either way.
type writer struct {
	ctx       context.Context
	d         *Driver
	img       *cephrbd.Image // nil once closed
	tmp, name string
	buf       []byte // the chunk being filled
	off       int64  // bytes written to the image before buf
	capacity  uint64 // the image's size now
	growth    uint64 // the next resize step
	hint      uint64 // the size the blob is said to have; 0: not known
	committed bool
	err       error // sticky: after a failed write only Cancel helps
}

func newWriter(ctx context.Context, d *Driver, img *cephrbd.Image, tmp, name string) *writer {
	return &writer{ctx: ctx, d: d, img: img, tmp: tmp, name: name,
		buf: make([]byte, 0, d.chunk), growth: uint64(d.chunk)}
}

func (w *writer) Size() int64 { return w.off + int64(len(w.buf)) }

// SizeHint is blob.SizeHinter: the next growth goes to size in one
// resize. The image is not resized here, so a hint costs nothing and
// fails nothing; a blob that turns out larger grows on in steps.
func (w *writer) SizeHint(size int64) { w.hint = uint64(max(size, 0)) }

func (w *writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.img == nil {
		return 0, errors.New("rbd: write after Commit or Cancel")
	}
	n := 0
	for len(p) > 0 {
		k := copy(w.buf[len(w.buf):cap(w.buf)], p)
		w.buf = w.buf[:len(w.buf)+k]
		p, n = p[k:], n+k
		if len(w.buf) == cap(w.buf) {
			if err := w.flush(); err != nil {
				w.err = err
				return n, err
			}
		}
	}
	return n, nil
}

// flush writes the buffered chunk at the running offset, growing the
// image first when the chunk would pass its end. A chunk of zeros is not
// written when thin provisioning is on: the image reads zeros there.
func (w *writer) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.ctx.Err(); err != nil {
		return err
	}
	end := uint64(w.off) + uint64(len(w.buf))
	if end > w.capacity {
		size := max(end, w.capacity+w.growth)
		if w.hint >= end {
			size = w.hint
		}
		if err := w.img.Resize(size); err != nil {
			return fmt.Errorf("rbd: growing %s to %d bytes: %w", w.tmp, size, err)
		}
		w.capacity = size
		w.growth = min(2*w.growth, maxGrowth)
	}
	if !(w.d.cfg.ThinProvisioning && allZero(w.buf)) {
		if _, err := w.img.WriteAt(w.buf, w.off); err != nil {
			return fmt.Errorf("rbd: writing %s at %d: %w", w.tmp, w.off, err)
		}
	}
	w.off += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}

func allZero(p []byte) bool {
	for len(p) >= 8 {
		if p[0]|p[1]|p[2]|p[3]|p[4]|p[5]|p[6]|p[7] != 0 {
			return false
		}
		p = p[8:]
	}
	for _, b := range p {
		if b != 0 {
			return false
		}
	}
	return true
}

// Commit writes what is buffered, cuts the image to the bytes written,
// takes and protects the snapshot, and renames the image into place.
func (w *writer) Commit(ctx context.Context) error {
	if w.committed {
		return nil
	}
	if w.err != nil {
		return w.err
	}
	if w.img == nil {
		return errors.New("rbd: Commit after Cancel")
	}
	if err := w.seal(ctx); err != nil {
		w.err = err
		return err
	}
	if err := w.d.install(w.tmp, w.name); err != nil {
		w.err = err
		return err
	}
	w.committed = true
	return nil
}

// seal finishes the temporary image: every byte written, its exact size,
// the protected snapshot, and closed.
func (w *writer) seal(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if uint64(w.off) != w.capacity {
		if err := w.img.Resize(uint64(w.off)); err != nil {
			return fmt.Errorf("rbd: resizing %s to %d bytes: %w", w.tmp, w.off, err)
		}
		w.capacity = uint64(w.off)
	}
	if err := w.img.Flush(); err != nil {
		return fmt.Errorf("rbd: flushing %s: %w", w.tmp, err)
	}
	snap, err := w.img.CreateSnapshot(SnapshotName)
	if err != nil {
		return fmt.Errorf("rbd: snapshotting %s: %w", w.tmp, err)
	}
	if err := snap.Protect(); err != nil {
		return fmt.Errorf("rbd: protecting %s@%s: %w", w.tmp, SnapshotName, err)
	}
	img := w.img
	w.img = nil
	if err := img.Close(); err != nil {
		return fmt.Errorf("rbd: closing %s: %w", w.tmp, err)
	}
	return nil
}

// install renames a sealed temporary image to name. An image already
// there (an overwrite) is moved aside first and removed after, unless
// clones of it exist: then it stays, under its temporary name, for its
// clones' sake, and Sweep leaves it alone while they do.
func (d *Driver) install(tmp, name string) error {
	var aside []string
	defer func() {
		for _, old := range aside {
			if err := d.inUse(old); err == nil {
				d.remove(old)
			}
		}
	}()
	for range 8 {
		err := cephrbd.GetImage(d.ioctx, tmp).Rename(name)
		if err == nil {
			return nil
		}
		if !isErrno(err, syscall.EEXIST) {
			return fmt.Errorf("rbd: renaming %s to %s: %w", tmp, name, err)
		}
		var suffix [8]byte
		rand.Read(suffix[:])
		old := name + tempMark + "old" + hex.EncodeToString(suffix[:])
		err = cephrbd.GetImage(d.ioctx, name).Rename(old)
		switch {
		case err == nil:
			aside = append(aside, old)
		case isErrno(err, syscall.ENOENT):
			// Another writer moved it; try again.
		default:
			return fmt.Errorf("rbd: moving the old %s aside: %w", name, err)
		}
	}
	return fmt.Errorf("rbd: could not rename %s to %s: other writers keep replacing it", tmp, name)
}

// Cancel removes the temporary image. It is a no-op after Commit.
func (w *writer) Cancel(ctx context.Context) error {
	if w.committed {
		return nil
	}
	if w.img != nil {
		w.img.Close()
		w.img = nil
	}
	if w.err == nil {
		w.err = errors.New("rbd: writer cancelled")
	}
	err := w.d.remove(w.tmp)
	if errors.Is(err, blob.ErrNotFound) {
		return nil
	}
	return err
}
