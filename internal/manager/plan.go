package manager

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Image is an image found in the cloud, reduced to what planning reads.
type Image struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Status     string            `json:"status"`
	Visibility string            `json:"visibility"`
	Owner      string            `json:"owner"`
	DiskFormat string            `json:"disk_format,omitempty"`
	Tags       []string          `json:"tags"`
	Size       int64             `json:"size,omitempty"` // 0: no data (yet)
	MinDisk    int               `json:"min_disk"`
	MinRAM     int               `json:"min_ram"`
	Protected  bool              `json:"protected"`
	Hidden     bool              `json:"os_hidden"`
	CreatedAt  time.Time         `json:"created_at"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Options are the switches of a run that change the plan.
type Options struct {
	// Tag marks managed images (--tag, managed_by_osism by default).
	Tag string
	// Filter limits the run to definitions whose name matches, and keeps
	// cleanup away from images whose name does not (--filter).
	Filter *regexp.Regexp
	// Latest imports only the newest version of each definition.
	Latest bool
	// Force processes definitions with enable: false too.
	Force bool
	// Keep never touches outdated images of non-multi definitions.
	Keep bool
	// Hide, Deactivate and Delete are the cleanup switches. Delete is
	// --delete together with --yes-i-really-know-what-i-do.
	Hide, Deactivate, Delete bool
	// UseOSHidden sets os_hidden: false on the newest image of each
	// definition, true on the others (or the version's hidden).
	UseOSHidden bool
	// Deprecate marks images that a newer one replaced with
	// deprecated=true and replacement=<name of the newer image>.
	Deprecate bool
}

// Upstream is what was found upstream for a definition's version latest:
// the digest from its checksum file and the Last-Modified date of its URL.
type Upstream struct {
	Digest   string // bare hex
	Modified string // YYYYMMDD, "" when the server gave none
	Err      string // why the digest could not be found
}

// Input is everything the planner reads.
type Input struct {
	Catalog  *Catalog
	Images   []Image // the managed images: tagged, and public or owned by the caller
	Upstream map[string]Upstream
	Options  Options
	Now      time.Time
}

// Kind names what an action does.
type Kind string

const (
	KindImport     Kind = "import"     // create, send data, verify, publish
	KindReplace    Kind = "replace"    // delete an empty leftover of a failed import, then import
	KindUpdate     Kind = "update"     // properties, tags, min_disk, min_ram, os_hidden
	KindRename     Kind = "rename"     //
	KindVisibility Kind = "visibility" // publish with the definition's visibility
	KindHide       Kind = "hide"       // visibility community (cleanup)
	KindDeactivate Kind = "deactivate" //
	KindReactivate Kind = "reactivate" //
	KindDelete     Kind = "delete"     //
)

// Action is one step of a plan.
type Action struct {
	Kind       Kind   `json:"action"`
	Definition string `json:"definition,omitempty"`
	Version    string `json:"version,omitempty"`
	// Image is the image's name when the action runs; ImageID is empty
	// for an image this plan imports (Ref names it instead).
	Image   string `json:"image"`
	ImageID string `json:"image_id,omitempty"`
	Ref     string `json:"ref,omitempty"`
	// After is the Ref of an import this action needs: it is skipped
	// when that import fails.
	After string `json:"after,omitempty"`
	// Cleanup actions run only when everything before them succeeded.
	Cleanup bool `json:"cleanup,omitempty"`

	Import *ImportSpec `json:"import,omitempty"`
	Update *Update     `json:"update,omitempty"`
	// NewName for rename, Visibility for visibility.
	NewName    string `json:"new_name,omitempty"`
	Visibility string `json:"visibility,omitempty"`
	Reason     string `json:"reason,omitempty"`
	// Check is what a dry run found upstream for an import (DryRunCheck).
	Check string `json:"check,omitempty"`
}

// ImportSpec is how to make one image.
type ImportSpec struct {
	Name       string            `json:"name"`
	ID         string            `json:"id,omitempty"`
	DiskFormat string            `json:"disk_format"`
	MinDisk    int               `json:"min_disk"`
	MinRAM     int               `json:"min_ram"`
	Tags       []string          `json:"tags"`
	Properties map[string]string `json:"properties"`
	OSHidden   *bool             `json:"os_hidden,omitempty"`
	// URL is fetched; Checksum ("<algo>:<hex>") is verified when set.
	URL      string `json:"url"`
	Checksum string `json:"checksum,omitempty"`
	// Visibility and Status are applied once the data is in: the image
	// is created private, as the OSISM tool does, so nobody sees it
	// before it is complete.
	Visibility string `json:"visibility"`
	Status     string `json:"status"`
}

// Update is a change of an image's fields and properties.
type Update struct {
	Set        map[string]string `json:"set,omitempty"`
	Remove     []string          `json:"remove,omitempty"`
	AddTags    []string          `json:"add_tags,omitempty"`
	RemoveTags []string          `json:"remove_tags,omitempty"`
	MinDisk    *int              `json:"min_disk,omitempty"`
	MinRAM     *int              `json:"min_ram,omitempty"`
	OSHidden   *bool             `json:"os_hidden,omitempty"`
}

func (u *Update) empty() bool {
	return u == nil || (len(u.Set) == 0 && len(u.Remove) == 0 && len(u.AddTags) == 0 && len(u.RemoveTags) == 0 &&
		u.MinDisk == nil && u.MinRAM == nil && u.OSHidden == nil)
}

// Note is something the plan decided not to do, and why.
type Note struct {
	Definition string `json:"definition,omitempty"`
	Image      string `json:"image,omitempty"`
	ImageID    string `json:"image_id,omitempty"`
	Message    string `json:"message"`
}

// DefinitionError stops one definition; like the OSISM tool, any such
// error also skips the cleanup of the whole run, because a definition
// that failed would make its images look outdated.
type DefinitionError struct {
	Definition string `json:"definition"`
	Message    string `json:"message"`
}

// Plan is the ordered list of actions that brings the cloud to the
// definitions, with what was left alone and why.
type Plan struct {
	Actions []Action          `json:"actions"`
	Notes   []Note            `json:"notes,omitempty"`
	Errors  []DefinitionError `json:"errors,omitempty"`
}

// Compute is the planner: a pure function of the definitions, the images
// found and the options. Applying its result and computing again gives
// an empty plan.
func Compute(in Input) Plan {
	p := &planner{in: in, byName: map[string][]*Image{}, byLink: map[string][]*Image{}, names: map[string]string{},
		managed: map[string]bool{}, handled: map[string]bool{}, defs: map[string]*Definition{}}
	for i := range in.Images {
		img := &in.Images[i]
		p.byName[img.Name] = append(p.byName[img.Name], img)
		p.byLink[linkName(img)] = append(p.byLink[linkName(img)], img)
		p.names[img.ID] = img.Name
	}
	for i := range in.Catalog.Definitions {
		d := &in.Catalog.Definitions[i]
		p.defs[d.Name] = d
	}
	for i := range in.Catalog.Definitions {
		d := &in.Catalog.Definitions[i]
		if !p.selected(d) {
			continue
		}
		dp := &defPlan{planner: p, d: d}
		if err := dp.plan(); err != nil {
			p.out.Errors = append(p.out.Errors, DefinitionError{Definition: d.Name, Message: err.Error()})
			continue
		}
		p.out.Actions = append(p.out.Actions, dp.actions...)
		p.out.Notes = append(p.out.Notes, dp.notes...)
	}
	if len(p.out.Errors) > 0 {
		p.note(nil, "", "cleanup of outdated images skipped because of the errors above")
	} else {
		p.cleanup()
	}
	if p.out.Actions == nil {
		p.out.Actions = []Action{}
	}
	return p.out
}

// planner is the state of one Compute.
type planner struct {
	in     Input
	out    Plan
	byName map[string][]*Image
	byLink map[string][]*Image // by linkName; "" holds the unlinked
	// names is each image's name once the plan's renames are done.
	names map[string]string
	// managed are the names the processed definitions keep: the current
	// images. Every other managed image is a cleanup candidate.
	managed map[string]bool
	// handled are images the plan already deletes or replaces.
	handled map[string]bool
	defs    map[string]*Definition
}

// selected tells whether the run processes a definition.
func (p *planner) selected(d *Definition) bool {
	if !d.Enable && !p.in.Options.Force {
		return false
	}
	return p.in.Options.Filter == nil || p.in.Options.Filter.MatchString(d.Name)
}

func (p *planner) note(img *Image, def, format string, args ...any) {
	n := Note{Definition: def, Message: fmt.Sprintf(format, args...)}
	if img != nil {
		n.Image, n.ImageID = p.names[img.ID], img.ID
		if img.ID == "" {
			n.Image = img.Name // imported by this plan
		}
	}
	p.out.Notes = append(p.out.Notes, n)
}

// one is the image called name, or an error when several are.
func (p *planner) one(name string) (*Image, error) {
	found := p.byName[name]
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, img := range found {
		ids[i] = img.ID
	}
	sort.Strings(ids)
	return nil, fmt.Errorf("%d managed images are called %q (%s): rename or delete all but one", len(found), name,
		strings.Join(ids, ", "))
}

// linkName is the definition an image belongs to: the image_name
// property glint and the tool write, else image_description (which the
// tool uses, and which a custom description breaks).
func linkName(img *Image) string {
	if n := img.Properties["image_name"]; n != "" {
		return n
	}
	return img.Properties["image_description"]
}

// groupOf is every managed image of a definition.
func (p *planner) groupOf(d *Definition) []*Image {
	out := slices.Clone(p.byLink[d.Name])
	for _, img := range p.byName[d.Name] {
		if !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	for _, img := range p.byLink[""] {
		if _, ok := d.versionOf(img.Name); ok && d.Multi && !slices.Contains(out, img) {
			out = append(out, img)
		}
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
