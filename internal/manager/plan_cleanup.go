package manager

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Cleanup of outdated images, as the OSISM tool's manage_outdated_images
// decides it: every managed image that is not a current image of a
// processed definition is a candidate; per definition, candidates are
// counted newest first (natural order of names, descending), and
// uuid_validity (read from the image: it is the promise made when the
// image was published) says how many stay. --hide, --deactivate and
// --delete with --yes-i-really-know-what-i-do say what happens to the
// others. Differences from the tool, each on the safe side:
//   - uuid_validity forever, notice, a date still ahead, or no
//     uuid_validity at all protect an image (the tool treats the first
//     three like last-0 and crashes on the last);
//   - an older version still listed in its definition is never deleted
//     (the tool would import it again on the next run);
//   - a protected image is not deleted (Glance would refuse);
//   - images whose definition is in no file are cleaned up by the same
//     rules when --images is a whole directory and no --filter is given
//     (the tool leaves them forever), all of them outdated (last-N keeps
//     none: there is no current image left to count from); otherwise
//     they are left alone.
//
// Cleanup plans against the images as they will be after this run's
// imports, as the tool decides after importing: an older version this
// run imports counts among the older images, so the one it pushes past
// uuid_validity goes in this run, not the next.

type candidate struct {
	img   *Image
	name  string // after this plan's renames
	link  string // the definition it belongs to
	plain bool
	// ref is the import that makes this image, for one this run creates.
	ref string
}

func (p *planner) cleanup() {
	o := p.in.Options
	var cands []candidate
	for i := range p.in.Images {
		img := &p.in.Images[i]
		name := p.names[img.ID]
		if p.managed[name] || p.handled[img.ID] {
			continue
		}
		if o.Filter != nil && !o.Filter.MatchString(name) {
			continue
		}
		link := linkName(img)
		cands = append(cands, candidate{img: img, name: name, link: link, plain: name == link})
	}
	cands = append(cands, p.importedCandidates()...)
	slices.SortStableFunc(cands, func(a, b candidate) int {
		if c := strings.Compare(a.link, b.link); c != 0 {
			return c
		}
		if a.plain != b.plain {
			if a.plain {
				return -1
			}
			return 1
		}
		return naturalCompare(b.name, a.name)
	})
	counter := map[string]int{}
	for _, c := range cands {
		def := p.defs[c.link]
		switch {
		case c.link == "":
			p.note(c.img, "", "no image_name or image_description property: not a catalog image, left alone")
			continue
		case def == nil && (!p.in.Catalog.Directory || o.Filter != nil):
			p.note(c.img, c.link, "no definition %q in the files read: left alone", c.link)
			continue
		case def != nil && c.plain:
			continue // the plain image of a definition this run does not process
		}
		counter[c.link]++
		p.decide(c, def, counter[c.link])
	}
}

// importedCandidates are the images this plan imports that cleanup must
// count: those that end up under a name no processed definition keeps
// current (older versions of multi definitions).
func (p *planner) importedCandidates() []candidate {
	final := map[string]string{} // import ref → name after the plan's renames
	for _, a := range p.out.Actions {
		if a.Kind == KindRename && a.ImageID == "" && a.Ref != "" {
			final[a.Ref] = a.NewName
		}
	}
	var out []candidate
	for _, a := range p.out.Actions {
		if (a.Kind != KindImport && a.Kind != KindReplace) || a.Import == nil {
			continue
		}
		name := a.Import.Name
		if n, ok := final[a.Ref]; ok {
			name = n
		}
		if p.managed[name] || (p.in.Options.Filter != nil && !p.in.Options.Filter.MatchString(name)) {
			continue
		}
		img := &Image{Name: name, Status: "active", Visibility: a.Import.Visibility, Properties: a.Import.Properties}
		if a.Import.Status == "deactivated" {
			img.Status = "deactivated"
		}
		link := linkName(img)
		out = append(out, candidate{img: img, name: name, link: link, plain: name == link, ref: a.Ref})
	}
	return out
}

// decide plans what happens to the n-th candidate of its definition.
func (p *planner) decide(c candidate, def *Definition, n int) {
	o := p.in.Options
	uv := c.img.Properties["uuid_validity"]
	if uv == "" && def != nil {
		uv = def.Meta["uuid_validity"]
	}
	keep, protect := retention(uv, p.in.Now)
	orphan := ""
	if def == nil {
		// last-N counts predecessors of a current image; a removed
		// definition has none, so all its images are outdated.
		orphan, keep = " (its definition was removed)", 0
	}
	switch {
	case o.Keep && (def == nil || !def.Multi):
		p.note(c.img, c.link, "kept: --keep keeps outdated versions of non-multi definitions%s", orphan)
	case protect != "":
		p.note(c.img, c.link, "%s%s", protect, orphan)
	case n > keep:
		var spare string
		switch {
		case def != nil && p.selected(def) && def.lists(c.name):
			spare = "not deleted: its version is still listed in the definition"
		case c.img.Protected:
			spare = "not deleted: the image is protected"
		case def != nil && def.Keep:
			spare = "not deleted: the definition has keep: true"
		}
		if o.Delete && spare == "" {
			p.retire(c, "outdated"+orphan, true, true)
			p.cleanupAction(c, KindDelete, "outdated"+orphan)
			return
		}
		if o.Delete {
			p.retireOrNote(c, "outdated"+orphan+"; "+spare, true, true)
			return
		}
		p.retireOrNote(c, fmt.Sprintf("outdated%s: would be deleted, but deletion is disabled (--delete --yes-i-really-know-what-i-do)", orphan),
			o.Deactivate, o.Hide)
	default:
		p.retireOrNote(c, fmt.Sprintf("kept: %d of the %d older images uuid_validity %s keeps%s", n, keep, uv, orphan), false, o.Hide)
	}
}

// retireOrNote deactivates and hides a candidate, as far as asked and
// needed, giving why as the actions' reason; a candidate with no action
// gets why as a note instead. An image is either in the action table or
// under "left alone", never both.
func (p *planner) retireOrNote(c candidate, why string, deactivate, hide bool) {
	if !p.retire(c, why, deactivate, hide) {
		p.note(c.img, c.link, "%s", why)
	}
}

// retire deactivates and hides a candidate, as far as asked and needed,
// and tells whether it planned anything.
func (p *planner) retire(c candidate, reason string, deactivate, hide bool) bool {
	acted := false
	if deactivate && c.img.Status == "active" {
		p.cleanupAction(c, KindDeactivate, reason)
		acted = true
	}
	if hide && c.img.Visibility != "community" {
		p.cleanupAction(c, KindHide, reason)
		acted = true
	}
	return acted
}

func (p *planner) cleanupAction(c candidate, kind Kind, reason string) {
	a := Action{Kind: kind, Definition: c.link, Image: c.name, ImageID: c.img.ID, Cleanup: true, Reason: reason}
	if c.ref != "" {
		a.Ref, a.After = c.ref, c.ref // an image this run imports
	}
	if kind == KindHide {
		a.Visibility = "community"
	}
	p.out.Actions = append(p.out.Actions, a)
}

// lists tells whether name is the versioned name of a listed version.
func (d *Definition) lists(name string) bool {
	for _, v := range d.Versions {
		if d.versionedName(v.Version) == name {
			return true
		}
	}
	return false
}

// retention reads uuid_validity: how many older images stay (last-N
// keeps the newest N-1 besides the current one), or why none is removed.
func retention(uv string, now time.Time) (keep int, protect string) {
	switch {
	case uv == "":
		return 0, "no uuid_validity property: left alone"
	case uv == "none", uv == "forever":
		return 0, fmt.Sprintf("uuid_validity %s: never removed", uv)
	case uv == "notice":
		return 0, "uuid_validity notice: removed only by hand, after notice"
	case strings.HasPrefix(uv, "last-"):
		n, err := strconv.Atoi(uv[len("last-"):])
		if err != nil {
			return 0, fmt.Sprintf("uuid_validity %q is not last-<number>: left alone", uv)
		}
		return max(n-1, 0), ""
	}
	if day, err := time.Parse(time.DateOnly, uv); err == nil {
		if now.Before(day.AddDate(0, 0, 1)) {
			return 0, fmt.Sprintf("uuid_validity: valid until %s", uv)
		}
		return 0, ""
	}
	return 0, fmt.Sprintf("uuid_validity %q is not understood: left alone", uv)
}
