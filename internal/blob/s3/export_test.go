package s3

// SetPartsPerStep lets tests see parts grow after a few parts instead of
// hundreds.
func SetPartsPerStep(d *Driver, n int) { d.partsPerStep = n }

// Object is the object name of key, prefix included.
func (d *Driver) Object(key string) string {
	o, _ := d.object(key)
	return o
}
