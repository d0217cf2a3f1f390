package blob

// Remote is an optional capability: a driver whose data is not on this
// machine's disk (S3, RBD) says so, and the image cache keeps local copies
// of the images it holds. Drivers without it are local.
type Remote interface {
	Remote() bool
}

// IsRemote tells whether d keeps its data off this machine.
func IsRemote(d Driver) bool {
	r, ok := As[Remote](d)
	return ok && r.Remote()
}
