package s3

// Remote reports that the data lives off this machine, so the image
// cache keeps local copies of it (blob.Remote).
func (d *Driver) Remote() bool { return true }
