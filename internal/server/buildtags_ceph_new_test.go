//go:build ceph && !pacific

package server_test

// buildTags: the RBD build against Ceph 18 or later.
const buildTags = "ceph"
