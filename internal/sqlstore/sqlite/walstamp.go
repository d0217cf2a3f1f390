//go:build unix

package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/glint-image/glint/internal/sqlstore"
)

// walStamp reads the header of the database's WAL index (the -shm file)
// as the store's stamp (sqlstore.Stamp): a value that changes with every
// transaction any connection of any process commits, read from shared
// memory without a statement, a lock or a system call. It is how SQLite's
// own readers learn that the database changed: the header holds a counter
// of transactions, the last valid frame of the WAL and the WAL's salts
// (https://sqlite.org/walformat.html, "The WAL-Index Header"). Its layout
// is fixed by the WAL-index version (3007000) every SQLite since 3.7.0
// writes, since processes of different versions share one -shm file.
//
// A writer updates the header's second copy, then the first; a reader
// that finds the two copies equal has read a header some commit left
// whole. Unequal copies (a commit publishing that very moment) give no
// stamp, and the store asks the database instead.
//
// The mapping must stay the file every connection uses. SQLite deletes
// the -shm file when the last connection to the database closes; pin, a
// connection of its own kept open for the store's life, holds the shared
// lock on the database that keeps any other connection from being the
// last one.
type walStamp struct {
	hdr atomic.Pointer[[walHeaderWords]uint32] // nil once closed
	db  *sql.DB
	pin *sql.Conn
}

// walHeaderWords is the size of the header's two copies, in 32-bit words
// (48 bytes each).
const walHeaderWords = 24

// walIndexVersion is the first word of every WAL-index header SQLite
// writes (WALINDEX_MAX_VERSION).
const walIndexVersion = 3007000

// openWALStamp pins a connection to the database at path and maps its
// WAL index. It fails when the database has no WAL index to read (not in
// WAL mode, or a header of another format): the store then works
// without a stamp.
func openWALStamp(ctx context.Context, path string) (_ *walStamp, err error) {
	db, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	ws := &walStamp{db: db}
	shm := path + "-shm"
	defer func() {
		if err != nil {
			_ = ws.close() // the error that made it give up matters more
		}
	}()
	if ws.pin, err = db.Conn(ctx); err != nil {
		return nil, err
	}
	// A read opens the WAL and its index, and leaves the connection
	// holding the database's shared lock, as WAL mode keeps it.
	var mode string
	if err := ws.pin.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return nil, err
	}
	if mode != "wal" {
		return nil, fmt.Errorf("sqlite: journal mode %s has no WAL index", mode)
	}
	var n int
	if err := ws.pin.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master").Scan(&n); err != nil {
		return nil, err
	}
	f, err := os.Open(shm)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The mapping outlives the file's descriptor. It is never unmapped: a
	// reader may still hold the header when the store closes, and one
	// page per opened store is all it costs.
	mem, err := syscall.Mmap(int(f.Fd()), 0, os.Getpagesize(), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("sqlite: map %s: %w", shm, err)
	}
	hdr := (*[walHeaderWords]uint32)(unsafe.Pointer(&mem[0]))
	if atomic.LoadUint32(&hdr[0]) != walIndexVersion {
		return nil, fmt.Errorf("sqlite: %s: WAL index version %d", shm, atomic.LoadUint32(&hdr[0]))
	}
	ws.hdr.Store(hdr)
	if _, ok := ws.read(); !ok {
		return nil, fmt.Errorf("sqlite: %s: no whole WAL index header", shm)
	}
	return ws, nil
}

// read returns the header as a stamp, or false when the two copies differ
// or the header is not an initialized one of the version mapped.
func (ws *walStamp) read() (sqlstore.Stamp, bool) {
	hdr := ws.hdr.Load()
	if hdr == nil {
		return sqlstore.Stamp{}, false
	}
	var words [walHeaderWords / 2]uint32
	for i := range words {
		words[i] = atomic.LoadUint32(&hdr[i])
		if atomic.LoadUint32(&hdr[len(words)+i]) != words[i] {
			return sqlstore.Stamp{}, false
		}
	}
	// isInit is the header's 13th byte: the first of word 3 in memory.
	if words[0] != walIndexVersion || (*[4]byte)(unsafe.Pointer(&words[3]))[0] != 1 {
		return sqlstore.Stamp{}, false
	}
	var st sqlstore.Stamp
	for i, w := range words {
		st[i/2] |= uint64(w) << (32 * (i % 2))
	}
	return st, true
}

// close stops the stamp and releases the pinned connection.
func (ws *walStamp) close() error {
	ws.hdr.Store(nil)
	var err error
	if ws.pin != nil {
		err = ws.pin.Close()
	}
	if cerr := ws.db.Close(); err == nil {
		err = cerr
	}
	return err
}
