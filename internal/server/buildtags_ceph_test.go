//go:build ceph && pacific

package server_test

// buildTags: the RBD build against Ceph 16.2 (see README).
const buildTags = "ceph,pacific"
