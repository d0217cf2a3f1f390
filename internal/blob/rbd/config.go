// Package rbd is a blob.Driver on Ceph RBD, laid out as Glance's RBD store
// lays out images so that Nova and Cinder can clone from them: one RBD
// image per blob in a pool, named by its key (an image id), with a
// protected snapshot "snap" taken when the blob is committed. Reads come
// from that snapshot; the location of a blob is rbd://fsid/pool/key/snap.
//
// The driver talks to Ceph through librados and librbd (go-ceph, cgo), so
// it is compiled in only with the build tag "ceph"; without it New says
// how to get it. The settings live in rbdconfig (pure Go, so the
// configuration checks them without the driver); the URL helpers here are
// pure Go and always present.
package rbd

import "github.com/glint-image/glint/internal/blob/rbd/rbdconfig"

// Config is an rbd store's settings (rbdconfig.Config).
type Config = rbdconfig.Config

// SnapshotName is the snapshot every committed blob has, the one location
// URLs name and clones are made from (Glance's DEFAULT_SNAPNAME).
const SnapshotName = "snap"
