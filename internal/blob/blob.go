// Package blob is the contract for image data storage. A Driver stores opaque
// byte streams under keys; hashing, size limits and image semantics live
// outside drivers (internal/image). internal/blob/blobtest is the
// conformance suite every driver runs.
package blob

import (
	"context"
	"errors"
	"io"
	"regexp"
)

// Driver stores blobs. All methods take ctx first and honour cancellation
// where they block.
type Driver interface {
	// Writer starts a new blob at key. Nothing is visible under key until
	// Commit succeeds; Cancel (or a failed Commit) leaves nothing behind.
	// Committing over an existing key replaces it atomically.
	Writer(ctx context.Context, key string) (Writer, error)

	// Reader opens the blob at key from offset to its end. ErrNotFound if
	// there is no committed blob; ErrInvalidOffset if offset is negative or
	// past the end.
	Reader(ctx context.Context, key string, offset int64) (io.ReadCloser, error)

	// Stat describes the committed blob at key, or ErrNotFound.
	Stat(ctx context.Context, key string) (Info, error)

	// Delete removes the committed blob at key, or returns ErrNotFound.
	Delete(ctx context.Context, key string) error
}

// Writer receives one blob's bytes.
type Writer interface {
	io.Writer
	// Size is the number of bytes written so far.
	Size() int64
	// Commit makes the blob durable and visible under its key.
	Commit(ctx context.Context) error
	// Cancel discards everything written. It is safe after Commit (no-op)
	// and safe to call twice.
	Cancel(ctx context.Context) error
}

// SizeHinter is an optional capability of a Writer: told the blob's final
// size before the first Write, a driver can allocate it once instead of
// growing it as bytes come (an RBD image is sized once, as Glance's rbd
// driver creates it at the image size when it knows it). The hint is not
// trusted: more or fewer bytes may be written, and the committed blob is
// what was written. Call it through HintSize, which looks through
// wrapping writers.
type SizeHinter interface {
	SizeHint(size int64)
}

// HintSize tells w, or the writer it wraps (metrics), the blob's final
// size when it can use it; nothing otherwise, or when size is negative
// (not known).
func HintSize(w Writer, size int64) {
	for w != nil && size >= 0 {
		if h, ok := w.(SizeHinter); ok {
			h.SizeHint(size)
			return
		}
		u, ok := w.(interface{ Unwrap() Writer })
		if !ok {
			return
		}
		w = u.Unwrap()
	}
}

// Info describes a committed blob.
type Info struct {
	Size int64
}

// Sweeper is an optional capability: drivers that keep temporary state for
// writers (a temp file, an open multipart upload) remove what a crashed
// process left behind. Call it at start, before serving.
type Sweeper interface {
	Sweep(ctx context.Context) error
}

var (
	ErrNotFound      = errors.New("blob: not found")
	ErrInvalidKey    = errors.New("blob: invalid key")
	ErrInvalidOffset = errors.New("blob: invalid offset")
	// ErrUnavailable marks a failure to reach the store (refused or cut
	// connections, timeouts): the same call may succeed later.
	ErrUnavailable = errors.New("blob: store unavailable")
	// ErrInUse: the blob cannot be deleted because something outside
	// glint depends on it (clones of an RBD snapshot); nothing was changed.
	ErrInUse = errors.New("blob: in use")
	// ErrReadOnly: the store takes no writes (Glance's http store).
	ErrReadOnly = errors.New("blob: read-only store")
)

// ReadOnly is an optional capability: a store that only serves data it
// is pointed at (http locations) and never takes an upload, an import or
// a copy.
type ReadOnly interface {
	ReadOnly() bool
}

// IsReadOnly tells whether d takes no writes.
func IsReadOnly(d Driver) bool {
	r, ok := As[ReadOnly](d)
	return ok && r.ReadOnly()
}

// Locator is an optional capability: drivers whose blobs have a URL an
// operator or a client such as Nova can use (Glance's location URLs)
// say what it is. URLs never carry secrets.
type Locator interface {
	URL(key string) string
}

// Resolver is an optional capability: drivers that take location URLs
// (Glance's locations API) map a URL back to a key. ok is false when the
// URL is not of the driver's kind; err, when it is but cannot be one of
// the driver's blobs (another cluster, another pool or bucket).
type Resolver interface {
	KeyFor(url string) (key string, ok bool, err error)
}

// InUseChecker is an optional capability: drivers whose blobs can be in
// use outside glint (RBD snapshots that disks were cloned from) say so
// before an image is deleted, so the deletion is refused with nothing
// changed. InUse returns ErrInUse, ErrNotFound or nil.
type InUseChecker interface {
	InUse(ctx context.Context, key string) error
}

// keyPattern: one or more segments of letters, digits, '.', '_' and '-',
// separated by '/', none starting with '.', so keys never escape a root
// directory and map cleanly onto object names.
var keyPattern = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]*(/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$`)

// ValidKey reports whether key is acceptable to every driver.
func ValidKey(key string) bool {
	return len(key) <= 512 && keyPattern.MatchString(key)
}

// Wrapper is a driver that decorates another (metrics); As looks through
// it for the optional capabilities the decorator does not pass on.
type Wrapper interface {
	Unwrap() Driver
}

// As finds capability T in d or in the drivers it wraps.
func As[T any](d Driver) (T, bool) {
	for d != nil {
		if c, ok := d.(T); ok {
			return c, true
		}
		w, ok := d.(Wrapper)
		if !ok {
			break
		}
		d = w.Unwrap()
	}
	var zero T
	return zero, false
}
