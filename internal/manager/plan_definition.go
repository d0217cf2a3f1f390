package manager

import (
	"fmt"
	"strings"
)

// defPlan plans one definition: which versions to import, what to
// rename, and what to change on the images it already has.
type defPlan struct {
	*planner
	d       *Definition
	actions []Action
	notes   []Note
	// done are the images this definition already has a target for.
	done map[string]bool
	// replacement is the name of the image that replaces the older ones.
	replacement string
}

// role is what an image is to its definition.
type role int

const (
	// roleCurrent: the plain-named newest image of a multi definition, or
	// an image of a listed version of a non-multi one. Everything about
	// it follows the definition.
	roleCurrent role = iota
	// roleOlder: an older version of a multi definition that is still
	// listed, under its "Name (version)" name. Its properties and tags
	// follow the definition; its visibility and status belong to cleanup.
	roleOlder
	// roleReplaced: a version no longer listed. Only the deprecation
	// marks (and os_hidden) are set; cleanup decides the rest.
	roleReplaced
)

func (dp *defPlan) plan() error {
	dp.done = map[string]bool{}
	dp.replacement = dp.replacementName()
	if dp.d.Multi {
		return dp.planMulti()
	}
	return dp.planSingle()
}

func (dp *defPlan) add(a Action) {
	a.Definition = dp.d.Name
	dp.actions = append(dp.actions, a)
}

func (dp *defPlan) noteOn(img *Image, format string, args ...any) {
	n := Note{Definition: dp.d.Name, Message: fmt.Sprintf(format, args...)}
	if img != nil {
		n.Image, n.ImageID = dp.names[img.ID], img.ID
	}
	dp.notes = append(dp.notes, n)
}

// slot finds the image called name. An image with no data (queued, or
// killed) is the leftover of an import that did not finish: it comes back
// as leftover, to be replaced. An import still running is an error: a
// second run must not race the first.
func (dp *defPlan) slot(name string) (img *Image, leftover bool, err error) {
	img, err = dp.one(name)
	if err != nil || img == nil {
		return nil, false, err
	}
	switch img.Status {
	case "active", "deactivated":
		return img, false, nil
	case "queued", "killed":
		return img, true, nil
	}
	return nil, false, fmt.Errorf("image %q (%s) is %s: an import is still running; run again when it is done",
		name, img.ID, img.Status)
}

// upstream is what was found for the definition's version latest.
func (dp *defPlan) upstream() (Upstream, error) {
	up, ok := dp.in.Upstream[dp.d.Name]
	switch {
	case !ok:
		return up, fmt.Errorf("no checksum looked up for version latest")
	case up.Err != "":
		return up, fmt.Errorf("version latest: %s", up.Err)
	case up.Digest == "":
		return up, fmt.Errorf("version latest: no digest for %s in its checksum file", dp.d.Name)
	}
	return up, nil
}

func (dp *defPlan) planMulti() error {
	d := dp.d
	dp.managed[d.Name] = true
	vs := d.sortedVersions()
	if len(vs) == 0 {
		return nil
	}
	newest := &vs[len(vs)-1]
	var up Upstream
	if newest.Version == Latest {
		var err error
		if up, err = dp.upstream(); err != nil {
			return err
		}
	}
	plain, err := dp.one(d.Name)
	if err != nil {
		return err
	}
	if plain != nil && plain.Status != "active" && plain.Status != "deactivated" {
		return fmt.Errorf("image %q (%s) is %s: fix or delete it by hand", d.Name, plain.ID, plain.Status)
	}

	// Which version does the plain-named image hold? internal_version
	// says; an image without one is taken for the newest.
	holdsNewest, plainLabel, fixLabel := false, "", false
	if plain != nil {
		iv := plain.Properties["internal_version"]
		if newest.Version == Latest {
			holdsNewest = plain.Properties["upstream_checksum"] == up.Digest
			plainLabel = iv
			if iv == "" || iv == Latest {
				// As the tool does: an old latest image is named after
				// the day it was made, and that is recorded.
				plainLabel, fixLabel = plain.CreatedAt.UTC().Format("20060102"), true
			}
		} else {
			if iv == "" {
				iv = newest.Version
			}
			holdsNewest = iv == newest.Version
			plainLabel = iv
		}
	}

	internal := func(v *Version, img *Image) string {
		if v.Version != Latest {
			return v.Version
		}
		if img != nil && img.Properties["internal_version"] != "" && img.Properties["upstream_checksum"] == up.Digest {
			return img.Properties["internal_version"] // same data: keep the date it was imported with
		}
		if up.Modified != "" {
			return up.Modified
		}
		return Latest
	}

	if holdsNewest {
		dp.reconcile(plain, newest, roleCurrent, internal(newest, plain), up.Digest, "")
	} else {
		// The newest comes in under its versioned name, the plain image
		// (if any) moves to its own versioned name, then the newest takes
		// the plain name: the same order as the tool, so the plain name is
		// missing only between two consecutive renames.
		vname := d.versionedName(newest.Version)
		cand, leftover, err := dp.slot(vname)
		if err != nil {
			return err
		}
		if cand != nil && !leftover && newest.Version == Latest && cand.Properties["upstream_checksum"] != up.Digest {
			return fmt.Errorf("image %q (%s) is left from an earlier run and holds other data than upstream now: "+
				"delete or rename it", vname, cand.ID)
		}
		var oldName string
		if plain != nil {
			oldName = d.versionedName(plainLabel)
			if other, err := dp.one(oldName); err != nil {
				return err
			} else if other != nil && other != plain {
				return fmt.Errorf("cannot move %q (%s) aside: %q (%s) exists already", d.Name, plain.ID, oldName, other.ID)
			}
		}
		ref := ""
		if cand != nil && !leftover {
			dp.reconcile(cand, newest, roleCurrent, internal(newest, cand), up.Digest, "")
		} else {
			var gone *Image
			if leftover {
				gone = cand
			}
			ref = dp.importVersion(newest, vname, gone, roleCurrent, internal(newest, nil), up.Digest)
		}
		if plain != nil {
			dp.rename(plain, "", oldName, ref)
			var label *Version
			for i := range vs[:len(vs)-1] {
				if vs[i].Version == plainLabel {
					label = &vs[i]
				}
			}
			extra := map[string]string{}
			if fixLabel {
				extra["internal_version"] = plainLabel
			}
			if label != nil {
				dp.reconcileAfter(plain, label, roleOlder, label.Version, "", ref, extra)
			} else {
				dp.reconcileAfter(plain, nil, roleReplaced, "", "", ref, extra)
			}
		}
		if cand != nil && !leftover {
			dp.rename(cand, "", d.Name, ref)
		} else {
			dp.rename(nil, ref, d.Name, ref)
		}
	}

	for i := range vs[:len(vs)-1] {
		v := &vs[i]
		vname := d.versionedName(v.Version)
		if plain != nil && !holdsNewest && plainLabel == v.Version {
			continue // the plain image moves to this name
		}
		img, leftover, err := dp.slot(vname)
		if err != nil {
			return err
		}
		switch {
		case img != nil && !leftover:
			dp.reconcile(img, v, roleOlder, v.Version, "", "")
		case dp.in.Options.Latest:
			dp.noteOn(img, "version %s not imported: --latest imports only the newest", v.Version)
		default:
			var gone *Image
			if leftover {
				gone = img
			}
			dp.importVersion(v, vname, gone, roleOlder, v.Version, "")
		}
	}
	dp.markReplaced()
	return nil
}

func (dp *defPlan) planSingle() error {
	d := dp.d
	vs := d.sortedVersions()
	for i := range vs {
		v := &vs[i]
		name := d.versionedName(v.Version)
		dp.managed[name] = true
		img, leftover, err := dp.slot(name)
		if err != nil {
			return err
		}
		switch {
		case img != nil && !leftover:
			dp.reconcile(img, v, roleCurrent, v.Version, "", "")
		case dp.in.Options.Latest && len(vs) > 1 && i < len(vs)-1:
			dp.noteOn(img, "version %s not imported: --latest imports only the newest", v.Version)
		default:
			var gone *Image
			if leftover {
				gone = img
			}
			dp.importVersion(v, name, gone, roleCurrent, v.Version, "")
		}
	}
	dp.markReplaced()
	return nil
}

// markReplaced plans the deprecation marks for every other image of the
// definition: those its current images replaced.
func (dp *defPlan) markReplaced() {
	for _, img := range dp.groupOf(dp.d) {
		if dp.done[img.ID] || dp.handled[img.ID] || img.Status != "active" && img.Status != "deactivated" {
			continue
		}
		if dp.managed[dp.names[img.ID]] {
			continue
		}
		dp.reconcileAfter(img, nil, roleReplaced, "", "", "", nil)
	}
}

// replacementName is what replaces the definition's older images.
func (dp *defPlan) replacementName() string {
	d := dp.d
	if d.Multi {
		return d.Name
	}
	vs := d.sortedVersions()
	if len(vs) == 0 {
		return ""
	}
	return d.versionedName(vs[len(vs)-1].Version)
}

// marks are the deprecation properties of an image that role says was
// replaced, or nil.
func (dp *defPlan) marks(r role) map[string]string {
	repl := dp.replacement
	if !dp.in.Options.Deprecate || r == roleCurrent || repl == "" {
		return nil
	}
	return map[string]string{propDeprecated: "true", propReplacement: repl}
}

// want is the target state of an image of version v in role r.
func (dp *defPlan) want(img *Image, v *Version, r role, internal, digest string, extra map[string]string) *want {
	d, o := dp.d, dp.in.Options
	w := &want{props: map[string]string{}}
	if r != roleReplaced {
		w.props = properties(d, v, internal, digest)
		w.prune = true
		w.marks = o.Deprecate
		w.tags = dp.tags(d)
		var size int64
		if img != nil {
			size = img.Size
		}
		w.minDisk, w.minRAM = ptr(minDisk(d, size)), ptr(d.MinRAM)
	}
	for k, val := range dp.marks(r) {
		w.props[k] = val
	}
	for k, val := range extra {
		w.props[k] = val
	}
	if o.UseOSHidden {
		hidden := r != roleCurrent
		if v != nil && v.Hidden != nil {
			hidden = *v.Hidden
		}
		w.osHidden = &hidden
	}
	if r == roleCurrent {
		w.visibility = d.Visibility
		if v.Visibility != "" {
			w.visibility = v.Visibility
		}
		w.status = d.Status
	}
	return w
}

func (dp *defPlan) reconcile(img *Image, v *Version, r role, internal, digest, after string) {
	dp.reconcileAfter(img, v, r, internal, digest, after, nil)
}

// reconcileAfter plans the changes that bring an existing image to its
// target, after the import named by after (if any).
func (dp *defPlan) reconcileAfter(img *Image, v *Version, r role, internal, digest, after string, extra map[string]string) {
	dp.done[img.ID] = true
	w := dp.want(img, v, r, internal, digest, extra)
	base := Action{Image: dp.names[img.ID], ImageID: img.ID, After: after}
	if v != nil {
		base.Version = v.Version
	}
	if u := w.diff(img); u != nil {
		a := base
		a.Kind, a.Update = KindUpdate, u
		dp.add(a)
	}
	switch {
	case w.status == "active" && img.Status == "deactivated":
		a := base
		a.Kind = KindReactivate
		dp.add(a)
	case w.status == "deactivated" && img.Status == "active":
		a := base
		a.Kind = KindDeactivate
		dp.add(a)
	}
	if w.visibility != "" && w.visibility != img.Visibility {
		a := base
		a.Kind, a.Visibility = KindVisibility, w.visibility
		dp.add(a)
	}
}

// importVersion plans the import of version v as name, replacing the
// leftover gone if there is one, and returns the new image's ref.
func (dp *defPlan) importVersion(v *Version, name string, gone *Image, r role, internal, digest string) string {
	d := dp.d
	w := dp.want(nil, v, r, internal, digest, nil)
	checksum := v.Checksum
	if checksum == "" && digest != "" {
		checksum = digestAlgorithm(digest) + ":" + strings.ToLower(digest)
	}
	spec := &ImportSpec{Name: name, ID: v.ID, DiskFormat: d.Format, MinDisk: d.MinDisk, MinRAM: d.MinRAM,
		Tags: w.tags, Properties: w.props, OSHidden: w.osHidden, URL: v.fetchURL(), Checksum: checksum,
		Visibility: d.Visibility, Status: d.Status}
	if v.Visibility != "" {
		spec.Visibility = v.Visibility
	}
	a := Action{Kind: KindImport, Image: name, Version: v.Version, Ref: name, Import: spec}
	if gone != nil {
		a.Kind, a.ImageID = KindReplace, gone.ID
		a.Reason = fmt.Sprintf("%s is %s with no data, left by an import that did not finish", gone.ID, gone.Status)
		dp.handled[gone.ID] = true
	}
	dp.add(a)
	return name
}

// rename plans a rename of img (or of the image ref imports) to name.
func (dp *defPlan) rename(img *Image, ref, name, after string) {
	a := Action{Kind: KindRename, NewName: name, After: after}
	if img != nil {
		a.Image, a.ImageID = dp.names[img.ID], img.ID
		dp.names[img.ID] = name
	} else {
		a.Image, a.Ref = ref, ref
	}
	if a.After == a.Ref {
		a.After = ""
	}
	dp.add(a)
}

// digestAlgorithm tells a bare digest's algorithm by its length.
func digestAlgorithm(hex string) string {
	for algo, n := range digestLengths {
		if len(hex) == n {
			return algo
		}
	}
	return "unknown"
}
