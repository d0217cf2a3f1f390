package dashboard

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

type editView struct {
	base
	editorView
	Image    *imageView
	F        imageForm
	Features features
	Error    string
	Choices  map[string][]string
	// ReadOnly are properties only the service sets (os_glance_*).
	ReadOnly []property
}

// formProperties are the properties with fields of their own in the
// image forms; the metadata editor shows the rest.
var formProperties = []string{"description", "architecture", "os_distro", "os_version"}

// reservedProperty reports properties only the service may set.
func reservedProperty(k string) bool { return strings.HasPrefix(k, "os_glance") }

func formFromImage(img *imageView) imageForm {
	f := imageForm{Name: img.Name, Description: img.Properties["description"], DiskFormat: img.DiskFormat,
		ContainerFormat: img.ContainerFormat, MinDisk: strconv.FormatInt(img.MinDisk, 10), MinRAM: strconv.FormatInt(img.MinRAM, 10),
		Architecture: img.Properties["architecture"], OSDistro: img.Properties["os_distro"], OSVersion: img.Properties["os_version"],
		Visibility: img.Visibility, Protected: img.Protected, Hidden: img.Hidden, Tags: strings.Join(img.Tags, ", "),
		Errors: map[string]string{}}
	for _, p := range img.PropertyList() {
		if slices.Contains(formProperties, p.Key) || reservedProperty(p.Key) {
			continue
		}
		f.Properties = append(f.Properties, p)
	}
	return f
}

func readOnlyProperties(img *imageView) []property {
	var out []property
	for _, p := range img.PropertyList() {
		if reservedProperty(p.Key) {
			out = append(out, p)
		}
	}
	return out
}

func (h *Handler) editView(r *http.Request, s *session, img *imageView, f imageForm) editView {
	ctx := r.Context()
	c := h.imageClient(s)
	v := editView{base: base{S: s}, Image: img, F: f, Features: detectFeatures(ctx, c), Choices: formChoices(s.Admin),
		ReadOnly: readOnlyProperties(img)}
	if img.Visibility == "public" && !slices.Contains(v.Choices["visibility"], "public") {
		v.Choices["visibility"] = append(v.Choices["visibility"], "public")
	}
	v.Catalog = h.imageCatalog(ctx, s, v.Features)
	return v
}

func (h *Handler) editForm(w http.ResponseWriter, r *http.Request, s *session) error {
	img, err := getImage(r.Context(), h.imageClient(s), r.PathValue("id"))
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Edit image", "project-images", "edit-form", h.editView(r, s, img, formFromImage(img)))
	return nil
}

// editImage saves the form as one JSON patch against the image as it is
// now: only what the user changed is sent, so concurrent edits of other
// fields are not overwritten.
func (h *Handler) editImage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	img, err := getImage(ctx, c, r.PathValue("id"))
	if err != nil {
		return err
	}
	f := readImageForm(r)
	if f.Visibility == "" {
		f.Visibility = img.Visibility
	}
	if img.Status == "queued" && f.DiskFormat != "" && !slices.Contains(diskFormats, f.DiskFormat) {
		f.Errors["disk_format"] = "Choose a disk format."
	}
	v := h.editView(r, s, img, f)
	again := func(status int, msg string) error {
		v.Error = msg
		h.show(w, r, s, status, "Edit image", "project-images", "edit-form", v)
		return nil
	}
	if len(f.Errors) > 0 {
		return again(http.StatusUnprocessableEntity, "")
	}
	if v.Violations = catalogAdvice(r, v.Catalog, f.Properties); len(v.Violations) > 0 {
		return again(http.StatusUnprocessableEntity, "")
	}
	ops := imagePatch(img, f)
	if len(ops) == 0 {
		h.done(w, r, Prefix+"images/"+url.PathEscape(img.ID), "Nothing changed.")
		return nil
	}
	if _, err := updateImage(ctx, c, img.ID, ops); err != nil {
		if ae := asAPIError(err); ae.Status < 500 && ae.Status != http.StatusUnauthorized && ae.Status != http.StatusNotFound {
			return again(http.StatusUnprocessableEntity, plainMessage(ae.Message))
		}
		return err
	}
	h.done(w, r, Prefix+"images/"+url.PathEscape(img.ID), "Image "+f.Name+" saved.")
	return nil
}

// imagePatch is the JSON patch that turns img into what the form says.
func imagePatch(img *imageView, f imageForm) []patchOp {
	var ops []patchOp
	if f.Name != img.Name {
		ops = append(ops, patchOp{Op: "replace", Path: "/name", Value: f.Name})
	}
	if f.Visibility != img.Visibility {
		ops = append(ops, patchOp{Op: "replace", Path: "/visibility", Value: f.Visibility})
	}
	if f.Protected != img.Protected {
		ops = append(ops, patchOp{Op: "replace", Path: "/protected", Value: f.Protected})
	}
	if f.Hidden != img.Hidden {
		ops = append(ops, patchOp{Op: "replace", Path: "/os_hidden", Value: f.Hidden})
	}
	if tags := f.TagList(); !slices.Equal(tags, img.Tags) && !(len(tags) == 0 && len(img.Tags) == 0) {
		if tags == nil {
			tags = []string{}
		}
		ops = append(ops, patchOp{Op: "replace", Path: "/tags", Value: tags})
	}
	if n := int64(atoiOr0(f.MinDisk)); n != img.MinDisk {
		ops = append(ops, patchOp{Op: "replace", Path: "/min_disk", Value: n})
	}
	if n := int64(atoiOr0(f.MinRAM)); n != img.MinRAM {
		ops = append(ops, patchOp{Op: "replace", Path: "/min_ram", Value: n})
	}
	if img.Status == "queued" {
		if f.DiskFormat != "" && f.DiskFormat != img.DiskFormat {
			ops = append(ops, patchOp{Op: "replace", Path: "/disk_format", Value: f.DiskFormat})
		}
		if f.ContainerFormat != "" && f.ContainerFormat != img.ContainerFormat {
			ops = append(ops, patchOp{Op: "replace", Path: "/container_format", Value: f.ContainerFormat})
		}
	}
	want := map[string]string{}
	for _, p := range f.Properties {
		want[p.Key] = p.Value
	}
	for k, v := range map[string]string{"description": f.Description, "architecture": f.Architecture,
		"os_distro": f.OSDistro, "os_version": f.OSVersion} {
		if strings.TrimSpace(v) != "" {
			want[k] = v
		}
	}
	for _, k := range sortedKeys(img.Properties) {
		if reservedProperty(k) {
			continue
		}
		if _, keep := want[k]; !keep {
			ops = append(ops, patchOp{Op: "remove", Path: "/" + escapePointer(k)})
		}
	}
	for _, k := range sortedKeys(want) {
		old, had := img.Properties[k]
		switch {
		case !had:
			ops = append(ops, patchOp{Op: "add", Path: "/" + escapePointer(k), Value: want[k]})
		case old != want[k]:
			ops = append(ops, patchOp{Op: "replace", Path: "/" + escapePointer(k), Value: want[k]})
		}
	}
	return ops
}

// escapePointer escapes a JSON-pointer segment (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

type propertyRowView struct {
	Key, Value string
	Def        *propertyDef
}

// propertyRow is one new row of the metadata editor: empty, or for a
// property picked from a metadata-definition namespace, with an input
// that fits its type.
func (h *Handler) propertyRow(w http.ResponseWriter, r *http.Request, s *session) error {
	q := r.URL.Query()
	v := propertyRowView{}
	if ns, name := q.Get("namespace"), q.Get("property"); ns != "" && name != "" {
		def, err := h.namespaceProperty(r.Context(), s, ns, name)
		if err != nil {
			return err
		}
		v.Key, v.Def = def.Name, def
		v.Value = def.Default
	}
	h.writeFragment(w, http.StatusOK, "property-row", v)
	return nil
}
