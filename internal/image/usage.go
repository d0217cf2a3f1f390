package image

import (
	"context"
	"fmt"

	"github.com/glint-image/glint/internal/blob"
)

// StoreUsage is what one store holds: its blobs as the driver counts them
// (logical bytes, and physical ones where zeros are left out) and what
// shared data saves in it. Image sizes, checksums and quotas stay logical,
// as Glance defines them; this is the operator's view of the disks.
type StoreUsage struct {
	Store string
	// Counted is false for a driver that cannot sum its blobs (rbd);
	// Blobs then says nothing.
	Counted bool
	Blobs   blob.Usage
	Sharing StoreSharing
	// Shares tells whether uploads to the store share identical data.
	Shares bool
}

// StorageUsage reports every store, in id order. Counting walks every
// blob's metadata (a directory tree, an object listing): run it seldom.
func StorageUsage(ctx context.Context, refs DataRefs, stores Stores) ([]StoreUsage, error) {
	sharing, err := refs.DataSharing(ctx)
	if err != nil {
		return nil, fmt.Errorf("shared data: %w", err)
	}
	byStore := map[string]StoreSharing{}
	for _, s := range sharing {
		byStore[s.Store] = s
	}
	var out []StoreUsage
	for _, id := range stores.IDs() {
		u := StoreUsage{Store: id, Sharing: byStore[id], Shares: stores.shares(id)}
		u.Sharing.Store = id
		if r, ok := blob.As[blob.UsageReporter](stores.Drivers[id]); ok {
			if u.Blobs, err = r.Usage(ctx); err != nil {
				return nil, fmt.Errorf("store %s: %w", id, err)
			}
			u.Counted = true
		}
		out = append(out, u)
	}
	return out, nil
}
