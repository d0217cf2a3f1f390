//go:build ceph

package rbd

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ceph/go-ceph/rados"
	cephrbd "github.com/ceph/go-ceph/rbd"

	"github.com/glint-image/glint/internal/blob"
)

// Compiled reports whether this build can talk to Ceph.
const Compiled = true

var (
	_ blob.Driver  = (*Driver)(nil)
	_ blob.Sweeper = (*Driver)(nil)
)

// Driver stores blobs as RBD images in one pool.
type Driver struct {
	cfg   Config
	conn  *rados.Conn
	ioctx *rados.IOContext
	fsid  string
	chunk int
	// sweepAge is how old a writer's temporary image with no watcher
	// must be before Sweep removes it (tests shorten it).
	sweepAge time.Duration
}

// New validates cfg, connects to the cluster and opens the pool, so a
// wrong ceph.conf, key or pool fails at start rather than at the first
// upload.
func New(ctx context.Context, cfg Config) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.WithDefaults()
	conn, err := rados.NewConnWithUser(cfg.User)
	if cfg.User == "" {
		conn, err = rados.NewConn()
	}
	if err != nil {
		return nil, fmt.Errorf("rbd: %w", err)
	}
	if cfg.ConfFile != "" {
		err = conn.ReadConfigFile(cfg.ConfFile)
	} else {
		err = conn.ReadDefaultConfigFile()
	}
	if err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rbd: reading ceph.conf %q: %w", cfg.ConfFile, err)
	}
	timeout := strconv.Itoa(cfg.ConnectTimeout)
	opts := map[string]string{"client_mount_timeout": timeout, "rados_mon_op_timeout": timeout}
	if cfg.Keyring != "" {
		opts["keyring"] = cfg.Keyring
	}
	for k, v := range opts {
		if err := conn.SetConfigOption(k, v); err != nil {
			conn.Shutdown()
			return nil, fmt.Errorf("rbd: setting %s: %w", k, err)
		}
	}
	if err := connect(ctx, conn); err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rbd: connecting to the cluster as %q: %w", cfg.User, err)
	}
	fsid, err := conn.GetFSID()
	if err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rbd: %w", err)
	}
	ioctx, err := conn.OpenIOContext(cfg.Pool)
	if err != nil {
		conn.Shutdown()
		return nil, fmt.Errorf("rbd: opening pool %q: %w", cfg.Pool, err)
	}
	return &Driver{cfg: cfg, conn: conn, ioctx: ioctx, fsid: fsid, chunk: cfg.ChunkSizeMiB << 20,
		sweepAge: 10 * time.Minute}, nil
}

// connect connects, giving up when ctx ends (librados itself gives up
// after client_mount_timeout).
func connect(ctx context.Context, conn *rados.Conn) error {
	done := make(chan error, 1)
	go func() { done <- conn.Connect() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases the connection.
func (d *Driver) Close() error {
	d.ioctx.Destroy()
	d.conn.Shutdown()
	return nil
}

// FSID is the cluster's id, the first part of location URLs.
func (d *Driver) FSID() string { return d.fsid }

// Remote reports true: the data is in the cluster, not on this node, so
// the image cache keeps local copies (blob.Remote).
func (d *Driver) Remote() bool { return true }

// Pool is the pool the driver stores images in.
func (d *Driver) Pool() string { return d.cfg.Pool }

// URL is the location of the blob at key: its snapshot, which is what
// clones are made from.
func (d *Driver) URL(key string) string {
	return Location{FSID: d.fsid, Pool: d.cfg.Pool, Image: imageName(key), Snapshot: SnapshotName}.String()
}

// Reader opens the blob's snapshot, read-only: the snapshot never changes,
// so a reader sees one blob from start to end.
func (d *Driver) Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error) {
	if !blob.ValidKey(key) {
		return nil, blob.ErrInvalidKey
	}
	img, err := cephrbd.OpenImageReadOnly(d.ioctx, imageName(key), SnapshotName)
	if err != nil {
		return nil, notFound(err)
	}
	size, err := img.GetSize()
	if err != nil {
		img.Close()
		return nil, fmt.Errorf("rbd: %w", err)
	}
	if offset < 0 || uint64(offset) > size {
		img.Close()
		return nil, blob.ErrInvalidOffset
	}
	return newReader(ctx, img, offset, int64(size), d.chunk), nil
}

// Stat reports the size of the blob's snapshot.
func (d *Driver) Stat(ctx context.Context, key string) (blob.Info, error) {
	if !blob.ValidKey(key) {
		return blob.Info{}, blob.ErrInvalidKey
	}
	img, err := cephrbd.OpenImageReadOnly(d.ioctx, imageName(key), SnapshotName)
	if err != nil {
		return blob.Info{}, notFound(err)
	}
	defer img.Close()
	size, err := img.GetSize()
	if err != nil {
		return blob.Info{}, fmt.Errorf("rbd: %w", err)
	}
	return blob.Info{Size: int64(size)}, nil
}

// InUse returns blob.ErrInUse when clones were made from the blob's
// snapshot (Nova's and Cinder's disks), ErrNotFound when there is no blob.
func (d *Driver) InUse(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return blob.ErrInvalidKey
	}
	return d.inUse(imageName(key))
}

func (d *Driver) inUse(name string) error {
	img, err := cephrbd.OpenImageReadOnly(d.ioctx, name, SnapshotName)
	if err != nil {
		return notFound(err)
	}
	defer img.Close()
	_, children, err := img.ListChildren()
	if err != nil {
		return fmt.Errorf("rbd: listing clones of %s@%s: %w", name, SnapshotName, err)
	}
	if len(children) > 0 {
		return fmt.Errorf("%w: the snapshot %s@%s has %d clone(s)", blob.ErrInUse, name, SnapshotName, len(children))
	}
	return nil
}

// Delete removes the blob's snapshot and image, as Glance does: refused
// with blob.ErrInUse, and nothing changed, while clones of the snapshot
// exist.
func (d *Driver) Delete(ctx context.Context, key string) error {
	if !blob.ValidKey(key) {
		return blob.ErrInvalidKey
	}
	if err := d.inUse(imageName(key)); err != nil {
		return err
	}
	return d.remove(imageName(key))
}

// remove unprotects and removes the snapshot, then the image. A missing
// snapshot (a writer's image before its commit) is fine.
func (d *Driver) remove(name string) error {
	img, err := cephrbd.OpenImage(d.ioctx, name, cephrbd.NoSnapshot)
	if err != nil {
		return notFound(err)
	}
	snap := img.GetSnapshot(SnapshotName)
	if err := snap.Unprotect(); err != nil && !isErrno(err, syscall.ENOENT) && !isErrno(err, syscall.EINVAL) {
		img.Close()
		if isErrno(err, syscall.EBUSY) {
			return fmt.Errorf("%w: %s@%s has clones", blob.ErrInUse, name, SnapshotName)
		}
		return fmt.Errorf("rbd: unprotecting %s@%s: %w", name, SnapshotName, err)
	}
	if err := snap.Remove(); err != nil && !isErrno(err, syscall.ENOENT) {
		img.Close()
		return fmt.Errorf("rbd: removing %s@%s: %w", name, SnapshotName, err)
	}
	if err := img.Close(); err != nil {
		return fmt.Errorf("rbd: %w", err)
	}
	err = cephrbd.RemoveImage(d.ioctx, name)
	switch {
	case err == nil:
		return nil
	case isErrno(err, syscall.EBUSY):
		return fmt.Errorf("%w: %s is open elsewhere (has watchers)", blob.ErrInUse, name)
	case isErrno(err, syscall.ENOTEMPTY):
		return fmt.Errorf("%w: %s has snapshots of its own", blob.ErrInUse, name)
	}
	return notFound(err)
}

// Sweep removes the temporary images of writers that never committed or
// cancelled (a crashed process): those with no watcher (a live writer
// holds its image open) created more than ten minutes ago, so it is safe
// while other nodes upload.
func (d *Driver) Sweep(ctx context.Context) error {
	names, err := cephrbd.GetImageNames(d.ioctx)
	if err != nil {
		return fmt.Errorf("rbd: sweep: listing images: %w", err)
	}
	var errs []error
	for _, name := range names {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !strings.Contains(name, tempMark) || !d.abandoned(name) {
			continue
		}
		// Images kept for their clones (see install) stay.
		err := d.remove(name)
		if err != nil && !errors.Is(err, blob.ErrNotFound) && !errors.Is(err, blob.ErrInUse) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// abandoned reports whether a temporary image is old and unwatched.
func (d *Driver) abandoned(name string) bool {
	img, err := cephrbd.OpenImageReadOnly(d.ioctx, name, cephrbd.NoSnapshot)
	if err != nil {
		return false
	}
	defer img.Close()
	watchers, err := img.ListWatchers()
	if err != nil || len(watchers) > 0 {
		return false
	}
	created, err := img.GetCreateTimestamp()
	if err != nil {
		return false
	}
	age := d.sweepAge
	if strings.Contains(name, tempMark+partialMark) {
		age = blob.KeepPartials // a checkpointed upload (resume.go), closed between its PUTs
	}
	return time.Since(time.Unix(created.Sec, created.Nsec)) > age
}

// Writer creates a temporary image and returns a writer filling it; the
// image is renamed to the key's name only on Commit.
func (d *Driver) Writer(ctx context.Context, key string) (blob.Writer, error) {
	if !blob.ValidKey(key) {
		return nil, blob.ErrInvalidKey
	}
	var suffix [8]byte
	rand.Read(suffix[:])
	return d.writer(ctx, key, imageName(key)+tempMark+hex.EncodeToString(suffix[:]))
}

// writer creates the temporary image tmp and a writer filling it.
func (d *Driver) writer(ctx context.Context, key, tmp string) (*writer, error) {
	name := imageName(key)
	opts := cephrbd.NewRbdImageOptions()
	defer opts.Destroy()
	// Object size = chunk size, as Glance sets the order from
	// rbd_store_chunk_size; features from the cluster's
	// rbd_default_features (layering at least, for clones).
	if err := opts.SetUint64(cephrbd.ImageOptionOrder, uint64(orderOf(d.chunk))); err != nil {
		return nil, fmt.Errorf("rbd: %w", err)
	}
	if err := cephrbd.CreateImage(d.ioctx, tmp, 0, opts); err != nil {
		return nil, fmt.Errorf("rbd: creating %s: %w", tmp, err)
	}
	img, err := cephrbd.OpenImage(d.ioctx, tmp, cephrbd.NoSnapshot)
	if err != nil {
		cephrbd.RemoveImage(d.ioctx, tmp)
		return nil, fmt.Errorf("rbd: opening %s: %w", tmp, err)
	}
	return newWriter(ctx, d, img, tmp, name), nil
}

// imageName is the RBD image holding the blob at key. Keys are image ids
// (named as Glance names them) or paths such as staging/<id>; RBD names
// cannot hold '/', and '~' never occurs in a key, so the mapping is
// one-to-one.
func imageName(key string) string { return strings.ReplaceAll(key, "/", "~") }

// orderOf is log2 of a power of two.
func orderOf(n int) int {
	o := 0
	for n > 1 {
		n >>= 1
		o++
	}
	return o
}

// notFound turns librbd's ENOENT into blob.ErrNotFound, and a cluster
// that does not answer in time into blob.ErrUnavailable.
func notFound(err error) error {
	switch {
	case errors.Is(err, cephrbd.ErrNotFound) || isErrno(err, syscall.ENOENT):
		return blob.ErrNotFound
	case isErrno(err, syscall.ETIMEDOUT), isErrno(err, syscall.ESHUTDOWN), isErrno(err, syscall.ENOTCONN):
		return fmt.Errorf("rbd: %w: %w", blob.ErrUnavailable, err)
	}
	return fmt.Errorf("rbd: %w", err)
}

// isErrno reports whether a go-ceph error carries errno e.
func isErrno(err error, e syscall.Errno) bool {
	var coded interface{ ErrorCode() int }
	if errors.As(err, &coded) {
		return coded.ErrorCode() == -int(e)
	}
	return false
}

// KeyFor maps an rbd:// URL of this cluster and pool, naming the snapshot
// every glint image has, back to its key.
func (d *Driver) KeyFor(url string) (string, bool, error) {
	if !strings.HasPrefix(url, "rbd://") {
		return "", false, nil
	}
	l, err := ParseURL(url)
	switch {
	case err != nil:
		return "", true, err
	case l.FSID != d.fsid:
		return "", true, fmt.Errorf("%s is on another Ceph cluster (this store's is %s)", url, d.fsid)
	case l.Pool != d.cfg.Pool:
		return "", true, fmt.Errorf("%s is in pool %s, this store's is %s", url, l.Pool, d.cfg.Pool)
	case l.Snapshot != SnapshotName:
		return "", true, fmt.Errorf("%s names snapshot %s; images are read and cloned from %q", url, l.Snapshot, SnapshotName)
	}
	key, ok := KeyOf(l.Image)
	if !ok || !blob.ValidKey(key) {
		return "", true, fmt.Errorf("%s names an image glint cannot hold", url)
	}
	return key, true, nil
}
