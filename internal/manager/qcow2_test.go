package manager

import (
	"crypto/sha256"
	"encoding/binary"
)

// qcow2Image builds a small valid qcow2 file (version 3, 64 KiB
// clusters, no backing file, no data clusters) of virtual size 1 GiB.
// seed goes into the unused rest of the header cluster, so that every
// seed gives different bytes and so different checksums. The image
// format inspector of glint's upload path accepts it as qcow2.
func qcow2Image(seed string) []byte {
	const cluster = 1 << 16
	img := make([]byte, 4*cluster)
	be := binary.BigEndian
	copy(img[0:4], "QFI\xfb")
	be.PutUint32(img[4:], 3)               // version
	be.PutUint32(img[20:], 16)             // cluster_bits
	be.PutUint64(img[24:], 1<<30)          // virtual size
	be.PutUint32(img[36:], 2)              // l1_size: 1 GiB / (8192 entries * 64 KiB)
	be.PutUint64(img[40:], 3*cluster)      // l1_table_offset
	be.PutUint64(img[48:], 1*cluster)      // refcount_table_offset
	be.PutUint32(img[56:], 1)              // refcount_table_clusters
	be.PutUint32(img[96:], 4)              // refcount_order: 16-bit refcounts
	be.PutUint32(img[100:], 104)           // header_length
	be.PutUint64(img[cluster:], 2*cluster) // refcount table -> refcount block
	for i := 0; i < 4; i++ {               // clusters 0-3 are in use
		be.PutUint16(img[2*cluster+2*i:], 1)
	}
	// After the end-of-extensions marker (zero at 104) the header cluster
	// is free: fill some of it with the seed's hash chain.
	h := sha256.Sum256([]byte(seed))
	for off := 4096; off < 4096+32*64; off += 32 {
		copy(img[off:], h[:])
		h = sha256.Sum256(h[:])
	}
	return img
}
