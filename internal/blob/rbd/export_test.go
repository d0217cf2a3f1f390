//go:build ceph

package rbd

import (
	"time"

	"github.com/glint-image/glint/internal/blob"
)

// SetSweepAge lets tests sweep temporary images of any age.
func SetSweepAge(d *Driver, age time.Duration) { d.sweepAge = age }

// Abandon closes a writer's image without removing it, as a crash would
// leave it.
func Abandon(w blob.Writer) {
	wr := w.(*writer)
	wr.img.Close()
	wr.img = nil
	wr.committed = true // so Cancel leaves it too
}
