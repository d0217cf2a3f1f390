package image

import "context"

// VerbatimStore is the optional Store capability a migration from another
// image service (internal/glancemigrate) writes through: whole records as
// they are there, with their ids, statuses, timestamps and checksums,
// which the service's own methods rightly never let a client set.
type VerbatimStore interface {
	// PutImage writes img and its members exactly as given (id, status,
	// timestamps, deleted_at, checksums, location, properties, tags),
	// creating the record or replacing the one with that id, properties,
	// tags and members as whole sets, in one transaction: a reader sees
	// the old record or the new one, never a mix.
	PutImage(ctx context.Context, img *Image, members []*Member) error
}
