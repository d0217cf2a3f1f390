package dashboard

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"

	"github.com/glint-image/glint/internal/imageclient"
)

// imageForm is the create and edit form, as submitted (and shown again
// with its errors).
type imageForm struct {
	Name, Description                 string
	Source, URL                       string
	DiskFormat, ContainerFormat       string
	MinDisk, MinRAM                   string
	Architecture, OSDistro, OSVersion string
	Visibility                        string
	Protected, Hidden                 bool
	// Tags are comma-separated in the form.
	Tags       string
	Store      string
	Properties []property
	Errors     map[string]string
}

type createView struct {
	base
	editorView
	F        imageForm
	Features features
	Error    string
	Choices  map[string][]string
}

// editorView is what the metadata editor of both forms needs: the
// catalog when the server has one, and the values that break it.
type editorView struct {
	Catalog    *catalog
	Violations []string
}

// Def is the catalog's definition of a property, or nil.
func (e editorView) Def(key string) *propertyDef {
	if e.Catalog == nil {
		return nil
	}
	return e.Catalog.Defs[key]
}

// catalogAdvice returns the values that break the catalog, unless the
// user chose to save them anyway.
func catalogAdvice(r *http.Request, cat *catalog, props []property) []string {
	if r.PostFormValue("ignore_catalog") == "on" {
		return nil
	}
	return cat.violations(props)
}

// formChoices are the select options of the image forms.
func formChoices(admin bool) map[string][]string {
	vis := []string{"private", "shared", "community"}
	if admin {
		// publicize_image is admin-only by default; others would only be
		// refused.
		vis = append(vis, "public")
	}
	return map[string][]string{"disk_format": diskFormats, "container_format": containerFmts,
		"architecture": architectures, "visibility": vis}
}

func (h *Handler) createForm(w http.ResponseWriter, r *http.Request, s *session) error {
	f := detectFeatures(r.Context(), h.imageClient(s))
	v := createView{base: base{S: s}, Features: f, Choices: formChoices(s.Admin),
		F: imageForm{Source: "file", DiskFormat: "qcow2", ContainerFormat: "bare", Visibility: "private", Errors: map[string]string{}}}
	v.Catalog = h.imageCatalog(r.Context(), s, f)
	h.show(w, r, s, http.StatusOK, "Create image", "project-images", "create-form", v)
	return nil
}

// readImageForm reads and checks the fields the create and edit forms
// share. Numbers and choices are checked here so the user gets the
// message next to the field; the API checks everything again.
func readImageForm(r *http.Request) imageForm {
	f := imageForm{
		Name:            strings.TrimSpace(r.PostFormValue("name")),
		Description:     r.PostFormValue("description"),
		Source:          r.PostFormValue("source"),
		URL:             strings.TrimSpace(r.PostFormValue("url")),
		DiskFormat:      r.PostFormValue("disk_format"),
		ContainerFormat: r.PostFormValue("container_format"),
		MinDisk:         strings.TrimSpace(r.PostFormValue("min_disk")),
		MinRAM:          strings.TrimSpace(r.PostFormValue("min_ram")),
		Architecture:    strings.TrimSpace(r.PostFormValue("architecture")),
		OSDistro:        strings.TrimSpace(r.PostFormValue("os_distro")),
		OSVersion:       strings.TrimSpace(r.PostFormValue("os_version")),
		Visibility:      r.PostFormValue("visibility"),
		Protected:       r.PostFormValue("protected") == "on",
		Hidden:          r.PostFormValue("hidden") == "on",
		Tags:            r.PostFormValue("tags"),
		Store:           r.PostFormValue("store"),
		Errors:          map[string]string{},
	}
	if f.Name == "" {
		f.Errors["name"] = "Enter a name."
	} else if len(f.Name) > 255 {
		f.Errors["name"] = "A name has at most 255 characters."
	}
	for _, n := range []struct{ key, val string }{{"min_disk", f.MinDisk}, {"min_ram", f.MinRAM}} {
		if n.val == "" {
			continue
		}
		if v, err := strconv.ParseInt(n.val, 10, 32); err != nil || v < 0 {
			f.Errors[n.key] = "Enter a whole number, 0 or more."
		}
	}
	for _, tag := range f.TagList() {
		if len(tag) > 255 {
			f.Errors["tags"] = "A tag has at most 255 characters."
		}
	}
	if len(f.TagList()) > 128 {
		f.Errors["tags"] = "An image has at most 128 tags."
	}
	if f.Visibility != "" && !slices.Contains(visChoices, f.Visibility) {
		f.Errors["visibility"] = "Choose a visibility."
	}
	keys, values := r.PostForm["prop_key"], r.PostForm["prop_value"]
	seen := map[string]bool{}
	for i, k := range keys {
		k = strings.TrimSpace(k)
		val := ""
		if i < len(values) {
			val = values[i]
		}
		if k == "" && val == "" {
			continue
		}
		f.Properties = append(f.Properties, property{Key: k, Value: val})
		switch {
		case k == "":
			f.Errors["properties"] = "Every property needs a name."
		case len(k) > 255 || len(val) > 65535:
			f.Errors["properties"] = "Property " + k + " is too long."
		case imageclient.IsCore(k) || k == "description":
			f.Errors["properties"] = k + " is set with its own field, not as a custom property."
		case seen[k]:
			f.Errors["properties"] = "Property " + k + " appears twice."
		}
		seen[k] = true
	}
	return f
}

// TagList is the form's tags, trimmed, without empty or repeated ones.
func (f imageForm) TagList() []string {
	var out []string
	for _, t := range strings.Split(f.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

func atoiOr0(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func (h *Handler) createImage(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	f := readImageForm(r)
	feat := detectFeatures(ctx, c)
	switch f.Source {
	case "file":
	case "url":
		if !feat.WebDownload() {
			f.Errors["source"] = "This cloud does not offer creating images from a URL."
		} else if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			f.Errors["url"] = "Enter an http or https URL."
		}
	default:
		f.Errors["source"] = "Choose where the image data comes from."
	}
	if f.DiskFormat == "" || !slices.Contains(diskFormats, f.DiskFormat) {
		f.Errors["disk_format"] = "Choose a disk format."
	}
	if f.ContainerFormat == "" {
		f.ContainerFormat = "bare"
	}
	cat := h.imageCatalog(ctx, s, feat)
	var violations []string
	again := func(msg string) error {
		v := createView{base: base{S: s}, editorView: editorView{Catalog: cat, Violations: violations}, F: f, Features: feat,
			Error: msg, Choices: formChoices(s.Admin)}
		h.show(w, r, s, http.StatusUnprocessableEntity, "Create image", "project-images", "create-form", v)
		return nil
	}
	if len(f.Errors) > 0 {
		return again("")
	}
	if violations = catalogAdvice(r, cat, f.Properties); len(violations) > 0 {
		return again("")
	}
	props := map[string]string{}
	for _, p := range f.Properties {
		props[p.Key] = p.Value
	}
	for k, v := range map[string]string{"description": f.Description, "architecture": f.Architecture,
		"os_distro": f.OSDistro, "os_version": f.OSVersion} {
		if strings.TrimSpace(v) != "" {
			props[k] = v
		}
	}
	vis := images.ImageVisibility(f.Visibility)
	opts := images.CreateOpts{Name: f.Name, DiskFormat: f.DiskFormat, ContainerFormat: f.ContainerFormat,
		MinDisk: atoiOr0(f.MinDisk), MinRAM: atoiOr0(f.MinRAM), Protected: &f.Protected, Properties: props, Tags: f.TagList()}
	if f.Hidden {
		opts.Hidden = &f.Hidden
	}
	if f.Visibility != "" {
		opts.Visibility = &vis
	}
	img, err := createImage(ctx, c, opts)
	if err != nil {
		if ae := asAPIError(err); ae.Status < 500 && ae.Status != http.StatusUnauthorized {
			return again(ae.Message)
		}
		return err
	}
	if f.Source == "url" {
		if err := webDownload(ctx, c, img.ID, f.URL); err != nil {
			// Leave nothing half-done: an image whose import never
			// started is removed again.
			if derr := deleteImage(ctx, c, img.ID); derr != nil {
				h.log.WarnContext(ctx, "dashboard: removing an image whose import failed to start", "image", img.ID, "err", derr)
			}
			return again("The import could not start: " + asAPIError(err).Message)
		}
		h.done(w, r, Prefix+"images/"+url.PathEscape(img.ID), "Image "+img.Name+" is being imported from the URL.")
		return nil
	}
	// The browser now streams the file to the upload route; this answer
	// tells its script where, and the new row follows the status.
	store := ""
	if f.Store != "" && slices.ContainsFunc(feat.Stores, func(st storeInfo) bool { return st.ID == f.Store }) {
		store = f.Store
	}
	trigger, _ := json.Marshal(map[string]any{
		"glint-upload":      map[string]string{"id": img.ID, "name": img.Name, "url": Prefix + "images/" + url.PathEscape(img.ID) + "/file", "store": store},
		"glint-close-modal": true,
		"glint-refresh":     true,
	})
	if !isHTMX(r) {
		// Without the script there is no upload; the image waits queued.
		http.Redirect(w, r, Prefix+"images/"+url.PathEscape(img.ID), http.StatusSeeOther)
		return nil
	}
	w.Header().Set("HX-Trigger", string(trigger))
	w.Header().Set("HX-Reswap", "none")
	h.writeFragment(w, http.StatusOK, "toast", toast{Kind: "ok", Text: "Image " + img.Name + " created; uploading its data."})
	return nil
}
