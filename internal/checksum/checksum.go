// Package checksum names the hash algorithms Glance records in
// os_hash_algo (hashing.algorithm), so every reader of stored data checks
// os_hash_value with the same table.
package checksum

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// New returns a hash for one of Glance's os_hash_algo names, or nil for
// a name it does not know.
func New(algo string) hash.Hash {
	switch algo {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha224":
		return sha256.New224()
	case "sha256":
		return sha256.New()
	case "sha384":
		return sha512.New384()
	case "sha512":
		return sha512.New()
	}
	return nil
}
