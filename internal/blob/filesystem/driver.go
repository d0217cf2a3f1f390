// Package filesystem stores blobs as files under a local directory.
//
// Layout under the root directory:
//
//	blobs/<key>   committed blobs; a key's '/' separators become directories
//	tmp/          one temp file per open Writer
//
// tmp sits beside blobs so that Commit is a rename within one filesystem,
// which POSIX makes atomic: a reader sees either the old file or the new
// one, and a reader that already has the old file open keeps reading it.
//
// Blobs are sparse: aligned 4 KiB blocks of zeros are not written, so a
// raw image takes the space of its data, and reads hand out the holes'
// zeros without touching the disk (writer.go, sparse_linux.go).
package filesystem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/glint-image/glint/internal/blob"
)

// maxSegment is the longest file name most Linux filesystems accept
// (NAME_MAX). blob.ValidKey allows longer segments, but a key this driver
// cannot store is better refused up front than failed at Commit.
const maxSegment = 255

// Driver is a blob.Driver over a directory tree. It is safe for concurrent
// use, also by several processes sharing the same root.
type Driver struct {
	blobs string // absolute root/blobs
	tmp   string // absolute root/tmp
	// tree is held shared while a Commit creates directories and renames
	// into them, and exclusively while Delete prunes empty directories, so
	// a prune never removes a directory a Commit is about to use.
	tree sync.RWMutex
}

var (
	_ blob.Driver  = (*Driver)(nil)
	_ blob.Sweeper = (*Driver)(nil)
)

// New returns a driver rooted at root, creating root/blobs and root/tmp
// (mode 0700) if they do not exist.
func New(root string) (*Driver, error) {
	if root == "" {
		return nil, errors.New("filesystem: empty root directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("filesystem: root %q: %w", root, err)
	}
	d := &Driver{blobs: filepath.Join(abs, "blobs"), tmp: filepath.Join(abs, "tmp")}
	for _, dir := range []string{d.blobs, d.tmp} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("filesystem: %w", err)
		}
	}
	return d, nil
}

// FlatTmp is the directory NewFlat keeps its temp files in, inside the
// store directory. Its leading dot keeps it apart from every key
// (blob.ValidKey refuses segments starting with '.').
const FlatTmp = ".glint-tmp"

// NewFlat returns a driver whose blobs are the files directly under dir,
// named by their keys, as Glance's file store keeps images
// (<filesystem_store_datadir>/<image id>): glint serves the files of a
// Glance it took over where they are. Temp files go to dir/.glint-tmp.
// dir must exist: a missing one is a mistyped path, not a new store.
func NewFlat(dir string) (*Driver, error) {
	if dir == "" {
		return nil, errors.New("filesystem: empty store directory")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("filesystem: directory %q: %w", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("filesystem: store directory %s: %w", abs, errors.Join(err, errNotDir(fi)))
	}
	d := &Driver{blobs: abs, tmp: filepath.Join(abs, FlatTmp)}
	if err := os.MkdirAll(d.tmp, 0o700); err != nil {
		return nil, fmt.Errorf("filesystem: %w", err)
	}
	return d, nil
}

func errNotDir(fi os.FileInfo) error {
	if fi != nil && !fi.IsDir() {
		return errors.New("not a directory")
	}
	return nil
}

// Writer starts a blob in a fresh temp file; see writer.go.
func (d *Driver) Writer(ctx context.Context, key string) (blob.Writer, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(d.tmp, "upload-*")
	if err != nil {
		return nil, fmt.Errorf("filesystem: writer %q: %w", key, err)
	}
	return newWriter(d, key, path, f), nil
}

// Reader returns the open file positioned at offset. Returning *os.File
// itself (rather than a wrapper) keeps its WriterTo, so io.Copy to a
// socket can use sendfile; a file with holes gets a reader that skips
// them instead (sparse_linux.go).
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	path, err := d.path(key)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if offset < 0 {
		return nil, fmt.Errorf("filesystem: read %q at %d: %w", key, offset, blob.ErrInvalidOffset)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, d.notFound("read", key, err)
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist // a directory made for longer keys, not a blob
	}
	if err == nil && offset > fi.Size() {
		err = fmt.Errorf("size %d: %w", fi.Size(), blob.ErrInvalidOffset)
	}
	var r io.ReadCloser
	if err == nil {
		r, err = openRead(f, fi, offset)
	}
	if err != nil {
		f.Close()
		return nil, d.notFound(fmt.Sprintf("read at %d", offset), key, err)
	}
	return r, nil
}

// Stat reports the size of the committed blob at key.
func (d *Driver) Stat(ctx context.Context, key string) (blob.Info, error) {
	path, err := d.path(key)
	if err != nil {
		return blob.Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return blob.Info{}, err
	}
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err != nil {
		return blob.Info{}, d.notFound("stat", key, err)
	}
	return blob.Info{Size: fi.Size()}, nil
}

// Delete removes the blob and then the directories its key created, so
// the tree does not fill up with empty directories.
//
// The removal is not fsynced: if a crash loses it, the blob comes back as
// an orphan, which is harmless garbage rather than lost data.
func (d *Driver) Delete(ctx context.Context, key string) error {
	path, err := d.path(key)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// os.Remove would happily remove an empty directory, which is not a
	// blob; only regular files are.
	fi, err := os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		err = fs.ErrNotExist
	}
	if err == nil {
		err = os.Remove(path)
	}
	if err != nil {
		return d.notFound("delete", key, err)
	}
	d.prune(filepath.Dir(path))
	return nil
}

// Sweep removes everything under root/tmp: the temp files of writers a
// crashed process never committed or cancelled. It must run before any
// Writer is opened (at process start), since it cannot tell a live temp
// file from a stale one.
func (d *Driver) Sweep(ctx context.Context) error {
	entries, err := os.ReadDir(d.tmp)
	if err != nil {
		return fmt.Errorf("filesystem: sweep: %w", err)
	}
	var errs []error
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.RemoveAll(filepath.Join(d.tmp, e.Name())); err != nil {
			errs = append(errs, err)
		}
	}
	errs = append(errs, d.sweepPartials(ctx)) // resume.go
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("filesystem: sweep: %w", err)
	}
	return nil
}

// path maps a key to its file, or fails with blob.ErrInvalidKey. ValidKey
// rules out "..", absolute paths and empty segments, so the result always
// lies strictly inside d.blobs.
func (d *Driver) path(key string) (string, error) {
	if !blob.ValidKey(key) || hasLongSegment(key) {
		return "", fmt.Errorf("filesystem: key %q: %w", key, blob.ErrInvalidKey)
	}
	return filepath.Join(d.blobs, filepath.FromSlash(key)), nil
}

func hasLongSegment(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > maxSegment {
			return true
		}
	}
	return false
}

// notFound wraps err for op on key, translating "no such file" into
// blob.ErrNotFound. ENOTDIR counts too: it means a prefix of the key is a
// blob (key "a/b" when "a" is a file), so there is no blob at key.
func (d *Driver) notFound(op, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
		err = blob.ErrNotFound
	}
	return fmt.Errorf("filesystem: %s %q: %w", op, key, err)
}

// prune removes dir and its ancestors while they are empty, stopping at
// d.blobs. rmdir refuses non-empty directories, so blobs are never at
// risk; d.tree keeps it from removing a directory a Commit in this
// process has created but not yet renamed into.
func (d *Driver) prune(dir string) {
	d.tree.Lock()
	defer d.tree.Unlock()
	for dir != d.blobs && strings.HasPrefix(dir, d.blobs+string(filepath.Separator)) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

// install renames the finished temp file to dst, creating its parent
// directories, and syncs the parent so the new name survives a crash.
func (d *Driver) install(tmp, dst string) error {
	var err error
	// Another process sharing the root (d.tree only covers this one) can
	// prune a directory between mkdirs and the rename, since it was empty
	// at that instant. That shows up as ENOENT, and trying again fixes it.
	for range 3 {
		if err = d.place(tmp, dst); err == nil {
			// Once the file is in, no prune can remove its directory.
			return syncDir(filepath.Dir(dst))
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return err
}

func (d *Driver) place(tmp, dst string) error {
	d.tree.RLock()
	defer d.tree.RUnlock()
	if err := d.mkdirs(filepath.Dir(dst)); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// mkdirs creates dir and its missing ancestors below d.blobs (mode 0700),
// syncing each new directory's parent: without that, a crash could lose
// the directory, and the blob inside it, even after Commit returned.
func (d *Driver) mkdirs(dir string) error {
	if dir == d.blobs {
		return nil
	}
	fi, err := os.Stat(dir)
	if err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s: %w", dir, syscall.ENOTDIR)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if err := d.mkdirs(parent); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return syncDir(parent)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// URL is the blob's file:// URL, as Glance's file store writes it.
func (d *Driver) URL(key string) string {
	return (&url.URL{Scheme: "file", Path: filepath.Join(d.blobs, filepath.FromSlash(key))}).String()
}
