package imagecache

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/glint-image/glint/internal/checksum"
)

// fill copies one image from its store into incomplete/<id>, once, for
// every reader that wants it meanwhile. Readers follow the file as it
// grows; the last byte becomes visible only once size and checksums
// matched, so no reader gets the whole of bad data.
type fill struct {
	src Source

	mu      sync.Mutex
	written int64
	done    bool
	err     error
	changed chan struct{} // closed and replaced at every step

	// discard: the copy was deleted (or the cache cleared) while it was
	// made; it is not kept.
	discard atomic.Bool
}

// visible is how much of the file readers may have, whether the fill
// ended, and how; ch is closed at the next change.
func (f *fill) visible() (n int64, done bool, ch <-chan struct{}, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n = f.written
	if !f.done && n >= f.src.Size {
		n = f.src.Size - 1 // held back until verified
	}
	if f.done && f.err != nil {
		n = min(n, f.src.Size-1)
	}
	return n, f.done, f.changed, f.err
}

func (f *fill) step(written int64, done bool, err error) {
	f.mu.Lock()
	f.written, f.done, f.err = written, done, err
	close(f.changed)
	f.changed = make(chan struct{})
	f.mu.Unlock()
}

// follow returns a reader of src that follows its fill, starting one
// when none runs; nil when the image cannot be cached now (it does not
// fit).
func (c *Cache) follow(ctx context.Context, src Source) (*follower, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.fills[src.ImageID]
	if f == nil || f.src.Size != src.Size || f.src.MD5 != src.MD5 || f.src.HashValue != src.HashValue {
		if f != nil || src.Size > c.opts.MaxSize {
			return nil, nil
		}
		var err error
		if f, err = c.startLocked(src); f == nil || err != nil {
			return nil, err
		}
	}
	// The file exists while the fill is listed (it is renamed or
	// removed under c.mu), so the open cannot miss it.
	file, err := os.Open(c.incompletePath(src.ImageID))
	if err != nil {
		return nil, err
	}
	return &follower{ctx: ctx, f: f, file: file}, nil
}

// started waits until the fill has data or has ended: a store that
// cannot be read fails the request as a direct read would, before any
// byte of the answer is sent.
func (r *follower) started() error {
	for {
		n, done, changed, err := r.f.visible()
		if n > 0 || (done && err == nil) {
			return nil
		}
		if done {
			return err
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return r.ctx.Err()
		}
	}
}

// startLocked makes room for src and starts its fill; nil when the fills
// in flight leave no room. c.mu is held.
func (c *Cache) startLocked(src Source) (*fill, error) {
	c.pruneLocked(c.opts.MaxSize - src.Size)
	if c.total+c.filling+src.Size > c.opts.MaxSize {
		return nil, nil
	}
	file, err := os.OpenFile(c.incompletePath(src.ImageID), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	f := &fill{src: src, changed: make(chan struct{})}
	c.fills[src.ImageID] = f
	c.filling += src.Size
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.run(f, file)
	}()
	return f, nil
}

// run copies the data, verifies it and keeps it, or removes it.
func (c *Cache) run(f *fill, file *os.File) {
	id := f.src.ImageID
	n, err := c.copyFrom(f, file)
	if err == nil {
		err = file.Sync()
	}
	if cerr := file.Close(); err == nil {
		err = cerr
	}
	c.mu.Lock()
	delete(c.fills, id)
	c.filling -= f.src.Size
	if err == nil && f.discard.Load() {
		err = errors.New("the copy was deleted while it was made")
	}
	if err == nil {
		err = c.keepLocked(f.src)
	}
	if err != nil {
		os.Remove(c.incompletePath(id))
	} else {
		c.dequeue(id) // under the lock: State never shows it cached and queued
	}
	c.mu.Unlock()
	if err != nil {
		c.log.Warn("image cache: not keeping a copy", "image_id", id, "err", err)
	} else {
		c.log.Info("image cached", "image_id", id, "size", n)
	}
	f.step(n, true, err)
}

// keepLocked moves a verified copy into place and records it.
func (c *Cache) keepLocked(src Source) error {
	now := c.opts.Now().UTC()
	e := Entry{ImageID: src.ImageID, Size: src.Size, LastAccessed: now, LastModified: now,
		MD5: src.MD5, HashAlgo: src.HashAlgo, HashValue: src.HashValue}
	if err := os.Rename(c.incompletePath(src.ImageID), c.dataPath(src.ImageID)); err != nil {
		return err
	}
	if err := c.saveMeta(e); err != nil {
		os.Remove(c.dataPath(src.ImageID))
		return err
	}
	if old := c.entries[src.ImageID]; old != nil {
		c.total -= old.Size
	}
	c.entries[src.ImageID] = &e
	c.total += e.Size
	return nil
}

// fillChunk is how much is read from the store between two steps readers
// see.
const fillChunk = 1 << 20

// copyFrom reads the store into file, hashing as it goes, and checks the
// size and checksums at the end. A store that sends nothing for
// StallTime ends the fill.
func (c *Cache) copyFrom(f *fill, file *os.File) (int64, error) {
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	stall := time.AfterFunc(c.opts.StallTime, cancel)
	defer stall.Stop()
	body, err := f.src.Open(ctx, 0)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	sums := newSums(f.src.HashAlgo)
	buf := make([]byte, fillChunk)
	var n int64
	for {
		k, rerr := io.ReadFull(body, buf)
		if k > 0 {
			stall.Reset(c.opts.StallTime)
			if n+int64(k) > f.src.Size {
				return n, fmt.Errorf("the store holds more than the image's %d bytes", f.src.Size)
			}
			if _, err := file.Write(buf[:k]); err != nil {
				return n, err
			}
			sums.Write(buf[:k])
			n += int64(k)
			c.fillBytes.Add(int64(k))
			f.step(n, false, nil)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			if ctx.Err() != nil && c.ctx.Err() == nil {
				return n, fmt.Errorf("the store sent nothing for %s", c.opts.StallTime)
			}
			return n, rerr
		}
	}
	if n != f.src.Size {
		return n, fmt.Errorf("the store holds %d bytes, the image %d", n, f.src.Size)
	}
	return n, sums.check(f.src)
}

// follower reads a fill's file as it grows.
type follower struct {
	ctx  context.Context
	f    *fill
	file *os.File
	pos  int64
}

func (r *follower) Read(p []byte) (int, error) {
	for {
		avail, done, changed, err := r.f.visible()
		if r.pos < avail {
			k := min(int64(len(p)), avail-r.pos)
			n, rerr := r.file.ReadAt(p[:k], r.pos)
			r.pos += int64(n)
			if rerr == io.EOF && n > 0 {
				rerr = nil
			}
			return n, rerr
		}
		if done {
			if err != nil {
				return 0, fmt.Errorf("image %s: %w", r.f.src.ImageID, err)
			}
			return 0, io.EOF
		}
		select {
		case <-changed:
		case <-r.ctx.Done():
			return 0, r.ctx.Err()
		}
	}
}

func (r *follower) Close() error { return r.file.Close() }

// sums computes the checksums a copy is verified against.
type sums struct {
	md5  hash.Hash
	algo hash.Hash
}

func newSums(algo string) *sums {
	s := &sums{md5: md5.New()}
	if h := checksum.New(algo); h != nil {
		s.algo = h
	}
	return s
}

func (s *sums) Write(p []byte) {
	s.md5.Write(p)
	if s.algo != nil {
		s.algo.Write(p)
	}
}

func (s *sums) check(src Source) error {
	if src.MD5 != "" && hex.EncodeToString(s.md5.Sum(nil)) != src.MD5 {
		return errors.New("the data's md5 does not match the image's checksum")
	}
	if s.algo != nil && src.HashValue != "" && hex.EncodeToString(s.algo.Sum(nil)) != src.HashValue {
		return fmt.Errorf("the data's %s does not match the image's os_hash_value", src.HashAlgo)
	}
	return nil
}

func hashKnown(algo string) bool { return algo == "" || checksum.New(algo) != nil }
