// Package imagecache keeps node-local copies of image data that lives in
// remote stores (S3, RBD: any blob driver that says it is remote), as
// Glance's image cache does: an image is copied to local disk on its
// first download (or when an admin queues it), later downloads are served
// from the copy (the kernel sends the file), and the copies are pruned to
// a size, least recently used first.
//
// Beyond Glance: concurrent first downloads of one image share one read
// from the store (the first starts the fill, every reader follows the
// growing file), a copy is kept only when its size and checksums match
// the image record, and a reader of a fill never receives the last byte
// of data that turned out not to match. The cache knows nothing of
// images, policy or HTTP; internal/image decides what may be cached.
package imagecache

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure a cache; zero values take Glance's defaults.
type Options struct {
	// Dir holds the copies (<id> and <id>.json), incomplete/ and queue/.
	Dir string
	// MaxSize is the most the copies may take, in bytes (Glance's
	// image_cache_max_size, 10 GiB). Fills make room first, so the
	// directory stays within it; an image larger than it is not cached.
	MaxSize int64
	// StallTime ends a fill whose store sends nothing for this long, and
	// is the age after which Clean removes an incomplete file no fill
	// owns (Glance's image_cache_stall_time, one day).
	StallTime time.Duration
	Log       *slog.Logger
	Now       func() time.Time
}

// Defaults.
const (
	DefaultMaxSize   = 10 << 30
	DefaultStallTime = 24 * time.Hour
)

// Source is an image the cache may copy: its record's size and
// checksums, and how to read its data from the store.
type Source struct {
	ImageID string
	Size    int64
	// MD5 is the image's checksum; HashAlgo and HashValue its
	// os_hash_algo and os_hash_value. At least one must be known.
	MD5, HashAlgo, HashValue string
	// Open reads the data from the store, from offset to the end.
	Open func(ctx context.Context, offset int64) (io.ReadCloser, error)
}

// Entry is one cached image, as GET /v2/cache lists it.
type Entry struct {
	ImageID      string    `json:"image_id"`
	Size         int64     `json:"size"`
	Hits         int64     `json:"hits"`
	LastAccessed time.Time `json:"last_accessed"`
	LastModified time.Time `json:"last_modified"`
	MD5          string    `json:"md5"`
	HashAlgo     string    `json:"hash_algo"`
	HashValue    string    `json:"hash_value"`
}

// matches tells whether the copy is of src's data.
func (e *Entry) matches(src Source) bool {
	return e.Size == src.Size && e.MD5 == src.MD5 && e.HashAlgo == src.HashAlgo && e.HashValue == src.HashValue
}

// Stats are the cache's counters since start, for a metrics exporter.
type Stats struct {
	// Hits are downloads served from a copy, Misses the ones that were
	// not (a fill started or joined, or a read passed to the store).
	Hits, Misses int64
	// HitBytes were sent from copies; FillBytes read from stores into
	// copies; PassBytes read from stores for requests the cache did not
	// take (ranges, images it may not keep).
	HitBytes, FillBytes, PassBytes int64
	// Entries and Size describe the copies now.
	Entries int
	Size    int64
}

// Cache is one node's image cache. It is safe for concurrent use.
type Cache struct {
	opts Options
	log  *slog.Logger

	mu      sync.Mutex
	entries map[string]*Entry
	fills   map[string]*fill
	total   int64 // bytes of the entries
	filling int64 // bytes reserved by fills in flight

	hits, misses, hitBytes, fillBytes, passBytes atomic.Int64

	ctx    context.Context // ends with Close: fills and the prefetcher stop
	cancel context.CancelFunc
	wg     sync.WaitGroup

	prefetch prefetcher
}

var validID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// ErrInvalidID is an image id the cache cannot name a file after.
var ErrInvalidID = errors.New("imagecache: invalid image id")

// Open opens (creating) the cache directory: incomplete files of an
// earlier run are removed, and copies whose record or size is wrong.
func Open(opts Options) (*Cache, error) {
	if opts.Dir == "" {
		return nil, errors.New("imagecache: no directory")
	}
	if opts.MaxSize <= 0 {
		opts.MaxSize = DefaultMaxSize
	}
	if opts.StallTime <= 0 {
		opts.StallTime = DefaultStallTime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	for _, sub := range []string{"", "incomplete", "queue"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("imagecache: %w", err)
		}
	}
	c := &Cache{opts: opts, log: opts.Log, entries: map[string]*Entry{}, fills: map[string]*fill{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	// No fill survives its process: what is incomplete is garbage.
	if err := os.RemoveAll(filepath.Join(opts.Dir, "incomplete")); err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(opts.Dir, "incomplete"), 0o700); err != nil {
		return nil, fmt.Errorf("imagecache: %w", err)
	}
	if err := c.load(); err != nil {
		return nil, err
	}
	c.prefetch.init()
	return c, nil
}

// load reads the entries' records; a copy without a record, or whose
// file has another size, is removed.
func (c *Cache) load() error {
	names, err := os.ReadDir(c.opts.Dir)
	if err != nil {
		return fmt.Errorf("imagecache: %w", err)
	}
	seen := map[string]bool{}
	for _, d := range names {
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".json") {
			continue
		}
		id := strings.TrimSuffix(name, ".json")
		var e Entry
		raw, err := os.ReadFile(filepath.Join(c.opts.Dir, name))
		if err == nil {
			err = json.Unmarshal(raw, &e)
		}
		info, serr := os.Stat(c.dataPath(id))
		if err != nil || serr != nil || e.ImageID != id || info.Size() != e.Size {
			c.log.Warn("image cache: dropping a damaged entry", "image_id", id)
			c.removeFiles(id)
			continue
		}
		c.entries[id], seen[id] = &e, true
		c.total += e.Size
	}
	for _, d := range names {
		if !d.IsDir() && !strings.HasSuffix(d.Name(), ".json") && !seen[d.Name()] && !strings.HasPrefix(d.Name(), ".") {
			os.Remove(filepath.Join(c.opts.Dir, d.Name()))
		}
	}
	return nil
}

func (c *Cache) dataPath(id string) string       { return filepath.Join(c.opts.Dir, id) }
func (c *Cache) metaPath(id string) string       { return filepath.Join(c.opts.Dir, id+".json") }
func (c *Cache) incompletePath(id string) string { return filepath.Join(c.opts.Dir, "incomplete", id) }
func (c *Cache) queuePath(id string) string      { return filepath.Join(c.opts.Dir, "queue", id) }

func (c *Cache) removeFiles(id string) {
	os.Remove(c.metaPath(id))
	os.Remove(c.dataPath(id))
}

// saveMeta writes an entry's record next to its data (temp and rename,
// so a crash leaves the old record or the new one).
func (c *Cache) saveMeta(e Entry) error {
	raw, err := json.Marshal(e)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.opts.Dir, ".meta-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(raw)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), c.metaPath(e.ImageID))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// Read returns src's data from offset. A copy serves it (an *os.File, so
// the kernel can send it); otherwise a whole-image read starts or joins
// the image's fill and follows it, and a partial read (offset > 0) goes
// to the store at once rather than wait for a fill. hit tells which.
func (c *Cache) Read(ctx context.Context, src Source, offset int64) (body io.ReadCloser, hit bool, err error) {
	if !validID.MatchString(src.ImageID) {
		return nil, false, ErrInvalidID
	}
	if f, err := c.openCopy(src, offset); f != nil || err != nil {
		return f, f != nil, err
	}
	c.misses.Add(1)
	if offset == 0 && cacheable(src) {
		r, err := c.follow(ctx, src)
		if err != nil {
			return nil, false, err
		}
		if r != nil {
			if err := r.started(); err != nil {
				_ = r.Close() // the start's failure is the one to report
				return nil, false, err
			}
			return r, false, nil
		}
	}
	rc, err := src.Open(ctx, offset)
	if err != nil {
		return nil, false, err
	}
	return &countingReader{rc: rc, n: &c.passBytes}, false, nil
}

// cacheable: a copy can be checked only against a known size and a
// checksum.
func cacheable(src Source) bool {
	return src.Size > 0 && (src.MD5 != "" || (src.HashAlgo != "" && src.HashValue != "")) && hashKnown(src.HashAlgo)
}

// openCopy opens the copy of src at offset, or returns nil when there is
// none (a copy of other data is dropped).
func (c *Cache) openCopy(src Source, offset int64) (*os.File, error) {
	c.mu.Lock()
	e := c.entries[src.ImageID]
	if e != nil && !e.matches(src) {
		c.dropLocked(src.ImageID)
		e = nil
	}
	if e == nil {
		c.mu.Unlock()
		return nil, nil
	}
	f, err := os.Open(c.dataPath(src.ImageID))
	if err == nil {
		var info os.FileInfo
		if info, err = f.Stat(); err == nil && info.Size() != e.Size {
			err = errors.New("size changed")
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		c.log.Warn("image cache: dropping an unreadable copy", "image_id", src.ImageID, "err", err)
		c.dropLocked(src.ImageID)
		c.mu.Unlock()
		return nil, nil
	}
	e.Hits++
	e.LastAccessed = c.opts.Now().UTC()
	snapshot := *e
	c.mu.Unlock()
	if err := c.saveMeta(snapshot); err != nil {
		c.log.Warn("image cache: saving an entry's record", "image_id", src.ImageID, "err", err)
	}
	if offset > 0 {
		if _, err := f.Seek(offset, io.SeekStart); err != nil {
			f.Close()
			return nil, err
		}
	}
	c.hits.Add(1)
	c.hitBytes.Add(snapshot.Size - offset)
	return f, nil
}

// dropLocked removes an entry and its files; c.mu is held.
func (c *Cache) dropLocked(id string) bool {
	e, ok := c.entries[id]
	if ok {
		delete(c.entries, id)
		c.total -= e.Size
	}
	c.removeFiles(id)
	return ok
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	c.mu.Lock()
	n, size := len(c.entries), c.total
	c.mu.Unlock()
	return Stats{Hits: c.hits.Load(), Misses: c.misses.Load(), HitBytes: c.hitBytes.Load(),
		FillBytes: c.fillBytes.Load(), PassBytes: c.passBytes.Load(), Entries: n, Size: size}
}

// Cached lists the entries, oldest copy first.
func (c *Cache) Cached() []Entry {
	c.mu.Lock()
	out := c.entriesLocked()
	c.mu.Unlock()
	return sortEntries(out)
}

// State lists the entries, oldest copy first, and the queued image ids,
// oldest first, as of one moment: an image whose copy was just kept is
// cached and no longer queued (run dequeues it under the same lock), never
// both.
func (c *Cache) State() (cached []Entry, queued []string) {
	c.mu.Lock()
	cached, queued = c.entriesLocked(), c.Queued()
	c.mu.Unlock()
	return sortEntries(cached), queued
}

func (c *Cache) entriesLocked() []Entry {
	out := make([]Entry, 0, len(c.entries))
	for _, e := range c.entries {
		out = append(out, *e)
	}
	return out
}

func sortEntries(out []Entry) []Entry {
	sort.Slice(out, func(i, j int) bool {
		if !out[i].LastModified.Equal(out[j].LastModified) {
			return out[i].LastModified.Before(out[j].LastModified)
		}
		return out[i].ImageID < out[j].ImageID
	})
	return out
}

// IsCached tells whether an image has a copy.
func (c *Cache) IsCached(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.entries[id]
	return ok
}

// Delete drops an image's copy (a fill in flight is not kept) and its
// queue entry; it tells whether there was either.
func (c *Cache) Delete(id string) bool {
	if !validID.MatchString(id) {
		return false
	}
	c.mu.Lock()
	had := c.dropLocked(id)
	if f := c.fills[id]; f != nil {
		f.discard.Store(true)
		had = true
	}
	c.mu.Unlock()
	return c.dequeue(id) || had
}

// ClearCache drops every copy (and every fill in flight) and returns how
// many copies there were.
func (c *Cache) ClearCache() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := len(c.entries)
	for id := range c.entries {
		c.dropLocked(id)
	}
	for _, f := range c.fills {
		f.discard.Store(true)
	}
	return n
}

// Prune removes the least recently used copies until the copies and the
// fills in flight fit in MaxSize, and returns what it removed.
func (c *Cache) Prune() (files int, bytes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pruneLocked(c.opts.MaxSize)
}

// pruneLocked removes least recently used copies until total+filling is
// at most limit.
func (c *Cache) pruneLocked(limit int64) (files int, bytes int64) {
	if c.total+c.filling <= limit {
		return 0, 0
	}
	lru := make([]*Entry, 0, len(c.entries))
	for _, e := range c.entries {
		lru = append(lru, e)
	}
	sort.Slice(lru, func(i, j int) bool { return lru[i].LastAccessed.Before(lru[j].LastAccessed) })
	for _, e := range lru {
		if c.total+c.filling <= limit {
			break
		}
		files, bytes = files+1, bytes+e.Size
		c.dropLocked(e.ImageID)
	}
	return files, bytes
}

// Clean removes incomplete files no fill owns that are older than
// StallTime (after a crash, Open has removed them all already) and
// returns how many.
func (c *Cache) Clean() int {
	dir := filepath.Join(c.opts.Dir, "incomplete")
	names, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	cutoff := c.opts.Now().Add(-c.opts.StallTime)
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, d := range names {
		info, err := d.Info()
		if err != nil || c.fills[d.Name()] != nil || info.ModTime().After(cutoff) {
			continue
		}
		if os.Remove(filepath.Join(dir, d.Name())) == nil {
			n++
		}
	}
	return n
}

// Close stops the fills and the prefetcher and waits for them.
func (c *Cache) Close() error {
	c.cancel()
	c.wg.Wait()
	return nil
}

// countingReader counts what a reader delivers.
type countingReader struct {
	rc io.ReadCloser
	n  *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	n, err := r.rc.Read(p)
	r.n.Add(int64(n))
	return n, err
}

func (r *countingReader) Close() error { return r.rc.Close() }
