package sqlstore

import (
	"hash/maphash"
	"sync"

	"github.com/glint-image/glint/internal/image"
)

// recordCache keeps decoded image records, each with the revision it was
// read at (migration 00028: a trigger changes an image's revision with
// every change to its row, properties or tags). A listing reads only its
// page's ids and revisions, and takes from the cache each record whose
// revision matches the one its query just read: a record is never served
// at a revision other than the database's in that query's snapshot, so
// the cache needs no invalidation and stays correct when other processes
// (other glint nodes on one PostgreSQL, an admin command on the SQLite
// file) write. What a caller may see is decided by the query, per caller;
// the cache holds only what the database holds, keyed by image id: records
// read, and records a save leaves, computed from the cached record it
// started from at the revision it read under its lock (cacheSaved) and
// kept only once it commits.
//
// It is bounded by entries, in shards each with its own lock; a full
// shard drops an arbitrary entry (Go's map iteration order) for a new
// one. A record is some 1-2 KiB, so the default of DefaultRecordCache
// entries is some 10-20 MiB whatever the catalog's size.
type recordCache struct {
	seed   maphash.Seed
	shards [recordShards]recordShard
}

const recordShards = 16

// DefaultRecordCache is how many image records a store keeps decoded
// unless told otherwise (SetRecordCache).
const DefaultRecordCache = 10000

type recordShard struct {
	mu  sync.Mutex
	max int
	m   map[string]cachedRecord
}

type cachedRecord struct {
	rev int64
	img *image.Image
	// stamp is the database's stamp (SetStamp) read before a query that
	// found the record current, the zero Stamp if none was: while the
	// database's stamp is still this one, nothing has been committed
	// since, and the record is current without a query.
	stamp Stamp
}

// Stamp is a value of the whole database that changes with every
// transaction any process commits to it, read without a statement: for
// SQLite, the header of its WAL index (package sqlite). The zero Stamp
// is no database's.
type Stamp [6]uint64

// SetStamp gives the store a reader of its database's stamp. With one,
// a show of an image whose record the cache holds from a query made
// since the last commit to the database asks the database nothing: the
// record is the database's. read reports false when it cannot tell (a
// commit publishing that moment, the store closed); the store then asks
// the database for the image's revision, as without a stamp.
func (s *Store) SetStamp(read func() (Stamp, bool)) { s.stamp = read }

// readStamp is the database's stamp, or the zero Stamp.
func (s *Store) readStamp() Stamp {
	if s.stamp == nil {
		return Stamp{}
	}
	if st, ok := s.stamp(); ok {
		return st
	}
	return Stamp{}
}

// newRecordCache returns a cache of at most n records, or nil for n <= 0.
func newRecordCache(n int) *recordCache {
	if n <= 0 {
		return nil
	}
	c := &recordCache{seed: maphash.MakeSeed()}
	per := max(1, (n+recordShards-1)/recordShards)
	for i := range c.shards {
		c.shards[i].max = per
		c.shards[i].m = make(map[string]cachedRecord)
	}
	return c
}

func (c *recordCache) shard(id string) *recordShard {
	return &c.shards[maphash.String(c.seed, id)%recordShards]
}

// get returns a copy of the record of id if it is cached at revision
// rev. The copy is shallow: its properties, tags and the values its
// optional fields point to are shared with the cache and with other
// callers, and nobody writes them (ListImages' contract).
func (c *recordCache) get(id string, rev int64) *image.Image {
	e, ok := c.entry(id)
	if !ok || e.rev != rev {
		return nil
	}
	img := *e.img
	return &img
}

// current returns a copy of the record of id (as get) if it was found
// current after the database's stamp was st, which is not zero.
func (c *recordCache) current(id string, st Stamp) *image.Image {
	e, ok := c.entry(id)
	if !ok || e.stamp != st {
		return nil
	}
	img := *e.img
	return &img
}

// entry is the cache's entry of id, if any.
func (c *recordCache) entry(id string) (cachedRecord, bool) {
	sh := c.shard(id)
	sh.mu.Lock()
	e, ok := sh.m[id]
	sh.mu.Unlock()
	return e, ok
}

// confirm notes that the record of id at revision rev was found current
// by a query made after the database's stamp was st.
func (c *recordCache) confirm(id string, rev int64, st Stamp) {
	sh := c.shard(id)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[id]; ok && e.rev == rev {
		e.stamp = st
		sh.m[id] = e
	}
}

// has reports whether the cache holds a record of id, at any revision.
func (c *recordCache) has(id string) bool {
	_, ok := c.entry(id)
	return ok
}

// put keeps img, read at revision rev by a query made after the
// database's stamp was st (or the zero Stamp); the caller gives up img.
func (c *recordCache) put(img *image.Image, rev int64, st Stamp) {
	sh := c.shard(img.ID)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if e, ok := sh.m[img.ID]; ok && e.rev > rev {
		// A slower reader of an older snapshot: keep the newer record.
		// (Revisions of one row only grow; see migration 00028.)
		return
	}
	if _, ok := sh.m[img.ID]; !ok && len(sh.m) >= sh.max {
		for id := range sh.m {
			delete(sh.m, id)
			break
		}
	}
	sh.m[img.ID] = cachedRecord{rev: rev, img: img, stamp: st}
}

// len is the number of cached records.
func (c *recordCache) len() int {
	n := 0
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.Lock()
		n += len(sh.m)
		sh.mu.Unlock()
	}
	return n
}
