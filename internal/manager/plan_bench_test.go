package manager

import (
	"fmt"
	"testing"
)

// BenchmarkCompute plans a large catalog at rest: 300 multi definitions
// with their current image and three predecessors each (1200 images).
// groupOf scans every image per definition, so this shows whether the
// planner stays cheap next to the listing it needs anyway.
func BenchmarkCompute(b *testing.B) {
	var defs []def
	var images []Image
	for i := range 300 {
		name := fmt.Sprintf("Distro %03d", i)
		defs = append(defs, def{name: name, versions: []string{"20240501"}})
		images = append(images, managedImage(fmt.Sprintf("c%d", i), name, name, "20240501"))
		for j, v := range []string{"20240416", "20240401", "20240301"} {
			images = append(images, managedImage(fmt.Sprintf("o%d-%d", i, j), name+" ("+v+")", name, v,
				"deprecated", "true", "replacement", name))
		}
	}
	cat := mustCatalog(defs...)
	o := defaultOptions()
	o.Hide = true
	in := Input{Catalog: cat, Images: images, Options: o, Now: planNow}
	b.ResetTimer()
	for b.Loop() {
		if p := Compute(in); len(p.Errors) > 0 {
			b.Fatal(p.Errors)
		}
	}
}
