package metadef

import (
	"context"
	"embed"
	"io/fs"
	"time"
)

// The definitions glint loads into an empty catalog on its first start:
// the compute namespaces Horizon's image metadata editor and Nova users
// look for, and the SCS image metadata standard the OSISM image manager
// writes. Property names, types and allowed values follow OpenStack (Glance's
// etc/metadefs and Nova's image property fields, which make hw_pmu and
// its like booleans where Glance's files say "true"/"false" strings); the
// firmware properties have a namespace of their own. The texts are
// glint's.
//
//go:embed shipped/*.json
var shippedFiles embed.FS

// shippedKey marks the catalog as seeded; a later glint that ships more
// would seed under a new key.
const shippedKey = "shipped-v1"

// Shipped returns the definitions glint ships.
func Shipped() ([]*Definition, error) {
	sub, err := fs.Sub(shippedFiles, "shipped")
	if err != nil {
		return nil, err
	}
	return readShipped(sub)
}

// SeedShipped loads the shipped definitions the first time a catalog is
// opened, and never again: namespaces an operator deleted stay deleted.
func SeedShipped(ctx context.Context, st Store, now time.Time) (bool, error) {
	defs, err := Shipped()
	if err != nil {
		return false, err
	}
	return st.SeedOnce(ctx, shippedKey, defs, now.UTC().Truncate(time.Microsecond))
}
