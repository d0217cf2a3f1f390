//go:build !ceph

package server_test

// buildTags are the tags the glint binary under test is built with: the
// same as this test binary's.
const buildTags = ""
