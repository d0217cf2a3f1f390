package blob

import "context"

// Usage is what a store's committed blobs take.
type Usage struct {
	Blobs int64
	// Bytes sums the blobs' sizes: what they hold, zeros included.
	Bytes int64
	// Physical is the space they take in the store, where zeros left out
	// (file holes) take none; -1 when the store cannot tell.
	Physical int64
}

// UsageReporter is an optional capability: drivers that can sum their
// committed blobs do (`glint admin usage`, the store metrics). It reads
// every blob's metadata, so callers run it seldom.
type UsageReporter interface {
	Usage(ctx context.Context) (Usage, error)
}
