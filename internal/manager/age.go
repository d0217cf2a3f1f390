package manager

import (
	"fmt"
	"time"
)

// AgeWarnings is --check-age: managed images whose image_build_date is
// more than maxAge days older than the newest build_date their
// definition lists (for non-multi definitions, of the same version), as
// the tool warns. It only warns.
func AgeWarnings(in Input, maxAge int) []Note {
	defs := map[string]*Definition{}
	for i := range in.Catalog.Definitions {
		d := &in.Catalog.Definitions[i]
		defs[d.Name] = d
	}
	var notes []Note
	for _, img := range in.Images {
		d := defs[linkName(&img)]
		built, err := time.Parse(time.DateOnly, img.Properties["image_build_date"])
		if d == nil || err != nil {
			continue
		}
		var newest time.Time
		for _, v := range d.Versions {
			if !d.Multi && v.Version != img.Properties["os_version"] {
				continue
			}
			if t, err := time.Parse(time.DateOnly, v.BuildDate); err == nil && t.After(newest) {
				newest = t
			}
		}
		if days := int(newest.Sub(built).Hours() / 24); !newest.IsZero() && days > maxAge {
			notes = append(notes, Note{Definition: d.Name, Image: img.Name, ImageID: img.ID,
				Message: fmt.Sprintf("built %d days before the newest build in its definition (--max-age %d)", days, maxAge)})
		}
	}
	return notes
}
