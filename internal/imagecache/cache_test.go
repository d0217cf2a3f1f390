package imagecache_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/imagecache"
)

// store is a real filesystem driver whose reads are counted, standing in
// for a remote store (the cache takes any driver; which are remote is the
// image service's decision).
type store struct {
	blob.Driver
	opens atomic.Int64
	gate  chan struct{} // when set, reads wait for it to close
}

func newStore(t *testing.T) *store {
	d, err := filesystem.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &store{Driver: d}
}

type gatedReader struct {
	io.ReadCloser
	gate chan struct{}
}

func (g gatedReader) Read(p []byte) (int, error) {
	<-g.gate
	return g.ReadCloser.Read(p)
}

func (s *store) put(t *testing.T, id string, data []byte) imagecache.Source {
	t.Helper()
	w, err := s.Writer(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := w.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, h := md5.Sum(data), sha512.Sum512(data)
	return imagecache.Source{ImageID: id, Size: int64(len(data)), MD5: hex.EncodeToString(m[:]),
		HashAlgo: "sha512", HashValue: hex.EncodeToString(h[:]),
		Open: func(ctx context.Context, off int64) (io.ReadCloser, error) {
			s.opens.Add(1)
			rc, err := s.Reader(ctx, id, off)
			if err != nil || s.gate == nil {
				return rc, err
			}
			return gatedReader{rc, s.gate}, nil
		}}
}

func random(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func open(t *testing.T, dir string, max int64) *imagecache.Cache {
	t.Helper()
	c, err := imagecache.Open(imagecache.Options{Dir: dir, MaxSize: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func read(t *testing.T, c *imagecache.Cache, src imagecache.Source, off int64) ([]byte, bool) {
	t.Helper()
	rc, hit, err := c.Read(context.Background(), src, off)
	if err != nil {
		t.Fatalf("read %s: %v", src.ImageID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %s: %v", src.ImageID, err)
	}
	return b, hit
}

// waitCached waits until the image's fill has been kept.
func waitCached(t *testing.T, c *imagecache.Cache, id string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !c.IsCached(id) {
		if time.Now().After(deadline) {
			t.Fatalf("%s was not cached", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFirstReadCachesLaterReadsHit(t *testing.T) {
	s := newStore(t)
	c := open(t, t.TempDir(), 1<<30)
	data := random(3<<20 + 17)
	src := s.put(t, "img-a", data)

	got, hit := read(t, c, src, 0)
	if hit || !bytes.Equal(got, data) {
		t.Fatalf("first read: hit %v, %d bytes", hit, len(got))
	}
	waitCached(t, c, "img-a")
	rc, hit, err := c.Read(context.Background(), src, 0)
	if err != nil || !hit {
		t.Fatalf("second read: hit %v err %v", hit, err)
	}
	if _, ok := rc.(*os.File); !ok {
		t.Fatalf("a hit is %T, not a file the kernel can send", rc)
	}
	got, _ = io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, data) || s.opens.Load() != 1 {
		t.Fatalf("hit: %d bytes, %d store reads", len(got), s.opens.Load())
	}
	// A range is served from the copy too.
	if got, hit := read(t, c, src, 1000); !hit || !bytes.Equal(got, data[1000:]) {
		t.Fatalf("range from the copy: hit %v", hit)
	}
	st := c.Stats()
	if st.Hits != 2 || st.Misses != 1 || st.FillBytes != int64(len(data)) || st.Entries != 1 || st.Size != int64(len(data)) {
		t.Fatalf("stats: %+v", st)
	}
	e := c.Cached()
	if len(e) != 1 || e[0].Hits != 2 || e[0].Size != int64(len(data)) || !e[0].LastAccessed.After(e[0].LastModified) {
		t.Fatalf("entries: %+v", e)
	}
	// The record changed (another image under the id): the copy goes.
	other := s.put(t, "img-a", random(100))
	if got, hit := read(t, c, other, 0); hit || len(got) != 100 {
		t.Fatalf("stale copy served: hit %v, %d bytes", hit, len(got))
	}
}

// TestConcurrentFirstReadsShareOneFetch: readers that arrive while the
// first fill runs follow it instead of reading the store themselves.
func TestConcurrentFirstReadsShareOneFetch(t *testing.T) {
	s := newStore(t)
	c := open(t, t.TempDir(), 1<<30)
	data := random(8 << 20)
	src := s.put(t, "img-b", data)
	s.gate = make(chan struct{})
	var wg sync.WaitGroup
	results := make([][]byte, 4)
	started := make(chan struct{}, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			rc, _, err := c.Read(context.Background(), src, 0)
			if err != nil {
				t.Error(err)
				return
			}
			defer rc.Close()
			results[i], err = io.ReadAll(rc)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	for range results {
		<-started
	}
	for c.Stats().Misses < 4 {
		time.Sleep(time.Millisecond)
	}
	close(s.gate) // every reader is in before the store sends a byte
	wg.Wait()
	for i, r := range results {
		if !bytes.Equal(r, data) {
			t.Fatalf("reader %d got %d bytes", i, len(r))
		}
	}
	if n := s.opens.Load(); n != 1 {
		t.Fatalf("%d reads from the store for 4 concurrent readers", n)
	}
}

// TestRangeOnUncachedImagePassesThrough: a partial read does not wait for
// (or start) a fill.
func TestRangeOnUncachedImagePassesThrough(t *testing.T) {
	s := newStore(t)
	c := open(t, t.TempDir(), 1<<30)
	data := random(1 << 20)
	src := s.put(t, "img-r", data)
	got, hit := read(t, c, src, 500)
	if hit || !bytes.Equal(got, data[500:]) {
		t.Fatal("range read")
	}
	if c.IsCached("img-r") || c.Stats().PassBytes != int64(len(data)-500) {
		t.Fatalf("a range read filled the cache: %+v", c.Stats())
	}
}

// TestBadDataIsNeverKeptNorWhollyServed: data that does not match the
// record is not kept, and the reader of the fill gets an error before
// the last byte.
func TestBadDataIsNeverKeptNorWhollyServed(t *testing.T) {
	s := newStore(t)
	c := open(t, t.TempDir(), 1<<30)
	data := random(2 << 20)
	src := s.put(t, "img-bad", data)
	src.MD5 = hex.EncodeToString(make([]byte, 16)) // not the data's
	rc, _, err := c.Read(context.Background(), src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil || len(got) >= len(data) {
		t.Fatalf("bad data: %d of %d bytes, err %v", len(got), len(data), err)
	}
	time.Sleep(50 * time.Millisecond)
	if c.IsCached("img-bad") {
		t.Fatal("bad data kept")
	}
	// Without any checksum nothing is cached: the read goes to the store.
	src = s.put(t, "img-nosum", data)
	src.MD5, src.HashAlgo, src.HashValue = "", "", ""
	if got, _ := read(t, c, src, 0); !bytes.Equal(got, data) {
		t.Fatal("unverifiable image read")
	}
	if c.IsCached("img-nosum") || c.Stats().PassBytes != int64(len(data)) {
		t.Fatal("an unverifiable image was cached")
	}
}

func TestPruneLRUAndRestart(t *testing.T) {
	s := newStore(t)
	dir := t.TempDir()
	c := open(t, dir, 3<<20)
	srcs := map[string]imagecache.Source{}
	for _, id := range []string{"one", "two", "three"} {
		srcs[id] = s.put(t, id, random(1<<20))
		read(t, c, srcs[id], 0)
		waitCached(t, c, id)
	}
	read(t, c, srcs["one"], 0) // "two" is now the least recently used
	big := s.put(t, "big", random(2<<20))
	read(t, c, big, 0)
	waitCached(t, c, "big")
	if c.IsCached("two") || c.IsCached("three") || !c.IsCached("one") || c.Stats().Size > 3<<20 {
		t.Fatalf("after making room: %+v %v", c.Stats(), c.Cached())
	}
	// Larger than the cache: served, never cached.
	huge := s.put(t, "huge", random(4<<20))
	read(t, c, huge, 0)
	if c.IsCached("huge") {
		t.Fatal("an image larger than the cache was cached")
	}
	c.Close()

	// A restart keeps the copies and removes what was incomplete.
	os.WriteFile(filepath.Join(dir, "incomplete", "crashed"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, "orphan"), []byte("x"), 0o600)
	c2 := open(t, dir, 3<<20)
	if !c2.IsCached("one") || !c2.IsCached("big") || len(c2.Cached()) != 2 {
		t.Fatalf("after restart: %v", c2.Cached())
	}
	if _, err := os.Stat(filepath.Join(dir, "incomplete", "crashed")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("incomplete file survived the restart")
	}
	if _, err := os.Stat(filepath.Join(dir, "orphan")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a file without a record survived the restart")
	}
	// A copy damaged on disk is dropped, not served.
	os.WriteFile(filepath.Join(dir, "one"), []byte("short"), 0o600)
	if got, hit := read(t, c2, srcs["one"], 0); hit || len(got) != 1<<20 {
		t.Fatalf("damaged copy: hit %v", hit)
	}
}

func TestQueueDeleteClear(t *testing.T) {
	s := newStore(t)
	c := open(t, t.TempDir(), 1<<30)
	a, b := s.put(t, "qa", random(1<<20)), s.put(t, "qb", random(1<<20))
	resolved := map[string]imagecache.Source{"qa": a}
	if err := c.Queue("qa"); err != nil {
		t.Fatal(err)
	}
	if err := c.Queue("qb"); err != nil {
		t.Fatal(err)
	}
	if err := c.Queue("../etc"); !errors.Is(err, imagecache.ErrInvalidID) {
		t.Fatalf("queue of a bad id: %v", err)
	}
	if q := c.Queued(); len(q) != 2 {
		t.Fatalf("queued: %v", q)
	}
	c.StartPrefetcher(func(_ context.Context, id string) (imagecache.Source, error) {
		if src, ok := resolved[id]; ok {
			return src, nil
		}
		return imagecache.Source{}, errors.New("not active")
	})
	waitCached(t, c, "qa")
	deadline := time.Now().Add(5 * time.Second)
	for len(c.Queued()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("queue not drained: %v", c.Queued())
		}
		time.Sleep(5 * time.Millisecond)
	}
	read(t, c, b, 0)
	waitCached(t, c, "qb")
	if !c.Delete("qa") || c.IsCached("qa") || c.Delete("qa") {
		t.Fatal("delete")
	}
	if n := c.ClearCache(); n != 1 || len(c.Cached()) != 0 {
		t.Fatalf("clear cache: %d", n)
	}
	// Without a prefetcher the queue stays as it is until cleared.
	q := open(t, t.TempDir(), 1<<30)
	q.Queue("x1")
	q.Queue("x2")
	if n := q.ClearQueue(); n != 2 || len(q.Queued()) != 0 {
		t.Fatalf("clear queue: %d", n)
	}
}

// TestStateOneMoment: State never shows an image both cached and queued
// (the API's cache listing, and Tempest after it, take a copy to mean
// the queue entry is gone), and a cached image is not queued again. The
// cache's log is read as the copies are kept: the probe asks State the
// moment each "image cached" is logged, which is after the copy was
// recorded; until the dequeue moved under the same lock, the image was
// still queued then.
func TestStateOneMoment(t *testing.T) {
	s := newStore(t)
	probe := &stateProbe{}
	c, err := imagecache.Open(imagecache.Options{Dir: t.TempDir(), MaxSize: 1 << 30, Log: slog.New(probe)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	probe.c.Store(c)
	resolved := map[string]imagecache.Source{}
	for i := range 10 {
		id := fmt.Sprintf("m%02d", i)
		resolved[id] = s.put(t, id, random(64<<10))
		if err := c.Queue(id); err != nil {
			t.Fatal(err)
		}
	}
	c.StartPrefetcher(func(_ context.Context, id string) (imagecache.Source, error) {
		return resolved[id], nil
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		cached, queued := c.State()
		if len(cached) == len(resolved) && len(queued) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not all cached: %d cached, queued %v", len(cached), queued)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := probe.seen.Load(); n != int64(len(resolved)) {
		t.Fatalf("the probe saw %d copies kept, not %d", n, len(resolved))
	}
	if bad := probe.both.Load(); bad != nil {
		t.Fatalf("%s was cached and queued at once", *bad)
	}
	if err := c.Queue("m00"); err != nil {
		t.Fatal(err)
	}
	if _, queued := c.State(); len(queued) != 0 {
		t.Fatalf("a cached image was queued: %v", queued)
	}
}

// stateProbe is a log handler that asks the cache's State whenever a copy
// is logged as kept.
type stateProbe struct {
	c    atomic.Pointer[imagecache.Cache]
	seen atomic.Int64
	both atomic.Pointer[string]
}

func (p *stateProbe) Enabled(context.Context, slog.Level) bool { return true }

func (p *stateProbe) Handle(_ context.Context, r slog.Record) error {
	c := p.c.Load()
	if r.Message != "image cached" || c == nil {
		return nil
	}
	p.seen.Add(1)
	cached, queued := c.State()
	for _, e := range cached {
		if slices.Contains(queued, e.ImageID) {
			id := e.ImageID
			p.both.Store(&id)
		}
	}
	return nil
}

func (p *stateProbe) WithAttrs([]slog.Attr) slog.Handler { return p }
func (p *stateProbe) WithGroup(string) slog.Handler      { return p }
