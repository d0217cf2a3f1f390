package imagecache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"time"
)

// The queue holds the images an admin asked to have cached (PUT
// /v2/cache/{id}); a prefetcher copies them one at a time. An entry is an
// empty file queue/<id>, so the queue survives a restart, ordered by the
// files' times as in Glance.

// Resolver finds the data of a queued image; an error drops the image from
// the queue (it is gone, not active, or not in a remote store).
type Resolver func(ctx context.Context, id string) (Source, error)

type prefetcher struct {
	wake chan struct{}
}

func (p *prefetcher) init() { p.wake = make(chan struct{}, 1) }

// Queue adds an image to the prefetch queue (a no-op when it is cached
// or queued already) and wakes the prefetcher.
func (c *Cache) Queue(id string) error {
	if !validID.MatchString(id) {
		return ErrInvalidID
	}
	// Under the lock that keeping a copy takes (run), so that a copy
	// kept meanwhile is not queued again after its dequeue.
	c.mu.Lock()
	if _, ok := c.entries[id]; ok {
		c.mu.Unlock()
		return nil
	}
	f, err := os.OpenFile(c.queuePath(id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	c.mu.Unlock()
	if err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	if f != nil {
		f.Close()
	}
	select {
	case c.prefetch.wake <- struct{}{}:
	default:
	}
	return nil
}

// Queued lists the queued image ids, oldest first.
func (c *Cache) Queued() []string {
	names, err := os.ReadDir(filepath.Join(c.opts.Dir, "queue"))
	if err != nil {
		return []string{}
	}
	type q struct {
		id string
		at time.Time
	}
	var qs []q
	for _, d := range names {
		if info, err := d.Info(); err == nil && validID.MatchString(d.Name()) {
			qs = append(qs, q{d.Name(), info.ModTime()})
		}
	}
	sort.Slice(qs, func(i, j int) bool {
		if !qs[i].at.Equal(qs[j].at) {
			return qs[i].at.Before(qs[j].at)
		}
		return qs[i].id < qs[j].id
	})
	out := make([]string, 0, len(qs))
	for _, e := range qs {
		out = append(out, e.id)
	}
	return out
}

// dequeue removes an image from the queue and tells whether it was there.
func (c *Cache) dequeue(id string) bool {
	return os.Remove(c.queuePath(id)) == nil
}

// ClearQueue empties the queue and returns how many entries it held.
func (c *Cache) ClearQueue() int {
	n := 0
	for _, id := range c.Queued() {
		if c.dequeue(id) {
			n++
		}
	}
	return n
}

// StartPrefetcher copies queued images, one at a time, until Close;
// resolve tells what each is.
func (c *Cache) StartPrefetcher(resolve Resolver) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(30 * time.Second)
		defer tick.Stop()
		for {
			c.prefetchQueued(resolve)
			select {
			case <-c.ctx.Done():
				return
			case <-c.prefetch.wake:
			case <-tick.C:
			}
		}
	}()
}

// prefetchQueued fills every queued image that is not cached yet.
func (c *Cache) prefetchQueued(resolve Resolver) {
	for _, id := range c.Queued() {
		if c.ctx.Err() != nil {
			return
		}
		if c.IsCached(id) {
			c.dequeue(id)
			continue
		}
		src, err := resolve(c.ctx, id)
		if err != nil {
			if c.ctx.Err() == nil {
				c.log.Warn("image cache: dropping a queued image", "image_id", id, "err", err)
				c.dequeue(id)
			}
			continue
		}
		if !cacheable(src) {
			c.log.Warn("image cache: a queued image has no checksum to verify a copy against", "image_id", id)
			c.dequeue(id)
			continue
		}
		fr, err := c.follow(c.ctx, src)
		if err != nil || fr == nil {
			c.log.Warn("image cache: cannot cache a queued image now", "image_id", id, "size", src.Size, "err", err)
			if src.Size > c.opts.MaxSize {
				c.dequeue(id) // it never fits
			}
			continue
		}
		// Wait for the fill; the reader only watches it.
		for {
			_, done, changed, _ := fr.f.visible()
			if done {
				break
			}
			select {
			case <-changed:
			case <-c.ctx.Done():
			}
			if c.ctx.Err() != nil {
				break
			}
		}
		_ = fr.Close() // it only watched the fill, which reports its own end
	}
}
