package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/glint-image/glint/internal/imageclient"
)

// Admin → Metadata Definitions: Horizon's panel over the catalog of the
// metadefs API. Every call goes through imageclient with the admin's
// token, so the catalog's own policy decides what they may change.

// maxImport bounds a namespace document read from the import form; the
// largest shipped definition is a few tens of KiB.
const maxImport = 512 << 10

// nsName keeps a namespace name usable in a path: the API's names are
// at most 80 characters and never hold a slash.
func nsName(s string) string {
	if s == "" || len(s) > 80 || strings.ContainsAny(s, "/\\?#%") {
		return ""
	}
	return s
}

type namespaceRow struct {
	*imageclient.Namespace
}

// Title is the display name, or the namespace when it has none.
func (n namespaceRow) Title() string {
	if n.DisplayName != "" {
		return n.DisplayName
	}
	return n.Namespace.Namespace
}

// ResourceTypes are the namespace's resource types, sorted.
func (n namespaceRow) ResourceTypes() []string {
	out := make([]string, 0, len(n.Associations))
	for _, a := range n.Associations {
		out = append(out, a.Name)
	}
	sort.Strings(out)
	return out
}

// Path is the namespace's page.
func (n namespaceRow) Path() string {
	return Prefix + "admin/metadefs/" + url.PathEscape(n.Namespace.Namespace)
}

type metadefsPage struct {
	base
	Rows []namespaceRow
	// L is the page's place in the list; Prev and Next its neighbours.
	L          nsListing
	Prev, Next string
}

func (h *Handler) requireAdmin(s *session) error {
	if !s.Admin {
		return &pageError{Status: http.StatusForbidden, Message: "The admin panels need the admin role in the current project."}
	}
	return nil
}

// metadefsList lists the namespaces with their resource types, a page
// at a time.
func (h *Handler) metadefsList(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.requireAdmin(s); err != nil {
		return err
	}
	l, list, more, err := namespacePageOf(r.Context(), h.imageClient(s), parseNSListing(r.URL.Query()))
	if err != nil {
		return err
	}
	v := metadefsPage{base: base{S: s}}
	for _, n := range list {
		v.Rows = append(v.Rows, namespaceRow{n})
	}
	v.pager(l, more)
	if hxTarget(r) == "namespace-list" {
		h.writeFragment(w, http.StatusOK, "namespace-list", v)
		return nil
	}
	h.writePage(w, r, s, http.StatusOK, "Metadata Definitions", "admin-metadefs", "metadefs-page", v)
	return nil
}

// defRow is one property definition, for the namespace page.
type defRow struct {
	*propertyDef
	// Limits are its bounds and allowed values in words.
	Limits []string
}

type objectView struct {
	Name, Description string
	Required          []string
	Properties        []defRow
}

type namespacePage struct {
	base
	NS         namespaceRow
	Properties []defRow
	Objects    []objectView
	Tags       []string
}

func defRows(props map[string]json.RawMessage) []defRow {
	out := make([]defRow, 0, len(props))
	for _, name := range sortedRaw(props) {
		var rp rawProperty
		if json.Unmarshal(props[name], &rp) != nil {
			continue
		}
		d := rp.def(name)
		out = append(out, defRow{propertyDef: d, Limits: d.limits()})
	}
	return out
}

// limits says in words what values a property takes.
func (p *propertyDef) limits() []string {
	var out []string
	if len(p.Enum) > 0 {
		out = append(out, "one of "+strings.Join(p.Enum, ", "))
	}
	if len(p.ItemEnum) > 0 {
		out = append(out, "items from "+strings.Join(p.ItemEnum, ", "))
	}
	if p.Minimum != nil {
		out = append(out, "at least "+fmtNum(p.Minimum))
	}
	if p.Maximum != nil {
		out = append(out, "at most "+fmtNum(p.Maximum))
	}
	if p.MaxLength != nil {
		out = append(out, "up to "+itoa(*p.MaxLength)+" characters")
	}
	if p.Pattern != "" {
		// The form is explained by the description; the expression
		// itself stays out of sight.
		out = append(out, "a set form (see the description)")
	}
	if p.Default != "" {
		out = append(out, "default "+p.Default)
	}
	return out
}

func itoa(n int) string { return strconv.Itoa(n) }

// metadefsShow is one namespace: its fields, resource types, properties,
// objects and tags.
func (h *Handler) metadefsShow(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.requireAdmin(s); err != nil {
		return err
	}
	name := nsName(r.PathValue("ns"))
	if name == "" {
		return errNotFound
	}
	ns, err := imageclient.GetNamespace(r.Context(), h.imageClient(s), name, "")
	if err != nil {
		return err
	}
	v := namespacePage{base: base{S: s}, NS: namespaceRow{ns}, Properties: defRows(ns.Properties)}
	for _, o := range ns.Objects {
		v.Objects = append(v.Objects, objectView{Name: o.Name, Description: o.Description, Required: o.Required, Properties: defRows(o.Properties)})
	}
	sort.Slice(v.Objects, func(i, j int) bool { return v.Objects[i].Name < v.Objects[j].Name })
	for _, t := range ns.Tags {
		v.Tags = append(v.Tags, t.Name)
	}
	sort.Strings(v.Tags)
	h.writePage(w, r, s, http.StatusOK, v.NS.Title(), "admin-metadefs", "namespace-page", v)
	return nil
}

type importView struct {
	base
	JSON  string
	Error string
}

func (h *Handler) metadefsImportForm(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.requireAdmin(s); err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Import namespace", "admin-metadefs", "namespace-import", importView{base: base{S: s}})
	return nil
}

// importDocument reads the namespace document from the form: the chosen
// file, or else the pasted text.
func importDocument(r *http.Request) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(maxForm); err != nil {
			return "", badInput("The form could not be read: it is too large or malformed.")
		}
		if f, _, err := r.FormFile("file"); err == nil {
			// Only read: a failed close loses nothing.
			defer func() { _ = f.Close() }()
			b, err := io.ReadAll(io.LimitReader(f, maxImport+1))
			if err != nil {
				return "", err
			}
			if len(b) > maxImport {
				return "", badInput("The file is larger than 512 KiB; no namespace definition is that large.")
			}
			if len(bytes.TrimSpace(b)) > 0 {
				return string(b), nil
			}
		}
	}
	return r.PostFormValue("json"), nil
}

// checkDocument says what is wrong with a namespace document before the
// API is asked, in people's words.
func checkDocument(doc string) string {
	doc = strings.TrimSpace(doc)
	if doc == "" {
		return "Choose a namespace definition file (JSON) or paste its text."
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &fields); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return "This is not valid JSON (at character " + itoa(int(se.Offset)) + "). A namespace definition is one JSON object, as Glance's etc/metadefs files are."
		}
		return "A namespace definition is one JSON object, as Glance's etc/metadefs files are."
	}
	var name string
	if json.Unmarshal(fields["namespace"], &name) != nil || strings.TrimSpace(name) == "" {
		return `The definition has no "namespace" field: every namespace needs a name such as "OS::Compute::Example".`
	}
	return ""
}

func (h *Handler) metadefsImport(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := h.requireAdmin(s); err != nil {
		return err
	}
	doc, err := importDocument(r)
	if err != nil {
		return err
	}
	again := func(msg string) error {
		if len(doc) > 64<<10 {
			doc = "" // a file's text is not shown again in the box
		}
		h.show(w, r, s, http.StatusUnprocessableEntity, "Import namespace", "admin-metadefs", "namespace-import",
			importView{base: base{S: s}, JSON: doc, Error: msg})
		return nil
	}
	if msg := checkDocument(doc); msg != "" {
		return again(msg)
	}
	ns, err := imageclient.CreateNamespace(r.Context(), h.imageClient(s), json.RawMessage(doc))
	if err != nil {
		ae := asAPIError(err)
		switch {
		case ae.Status == http.StatusConflict:
			return again("A namespace with this name already exists. Delete it first, or change the name in the file.")
		case ae.Status < 500 && ae.Status != http.StatusUnauthorized:
			return again("The definition was refused: " + ae.Message)
		}
		return err
	}
	h.done(w, r, Prefix+"admin/metadefs", "Namespace "+namespaceRow{ns}.Title()+" imported.")
	return nil
}

type namespaceFormView struct {
	base
	NS    namespaceRow
	Error string
	// FromPage: the delete dialog was opened on the namespace's page,
	// which is gone afterwards.
	FromPage bool
}

func (h *Handler) namespaceFor(r *http.Request, s *session) (*imageclient.Namespace, error) {
	if err := h.requireAdmin(s); err != nil {
		return nil, err
	}
	name := nsName(r.PathValue("ns"))
	if name == "" {
		return nil, errNotFound
	}
	return imageclient.GetNamespace(r.Context(), h.imageClient(s), name, "")
}

func (h *Handler) metadefsEditForm(w http.ResponseWriter, r *http.Request, s *session) error {
	ns, err := h.namespaceFor(r, s)
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Edit namespace", "admin-metadefs", "namespace-edit", namespaceFormView{base: base{S: s}, NS: namespaceRow{ns}})
	return nil
}

// update sends a namespace's own fields with changes; the name and the
// owner stay.
func (h *Handler) updateNamespace(r *http.Request, s *session, ns *imageclient.Namespace, change func(*imageclient.NamespaceUpdate)) error {
	u := imageclient.NamespaceUpdate{Namespace: ns.Namespace, DisplayName: ns.DisplayName, Description: ns.Description,
		Visibility: ns.Visibility, Protected: ns.Protected, Owner: ns.Owner}
	change(&u)
	_, err := imageclient.UpdateNamespace(r.Context(), h.imageClient(s), ns.Namespace, u)
	return err
}

func (h *Handler) metadefsEdit(w http.ResponseWriter, r *http.Request, s *session) error {
	ns, err := h.namespaceFor(r, s)
	if err != nil {
		return err
	}
	display := strings.TrimSpace(r.PostFormValue("display_name"))
	desc := strings.TrimSpace(r.PostFormValue("description"))
	vis := choose(r.PostFormValue("visibility"), []string{"public", "private"})
	again := func(msg string) error {
		edited := *ns
		edited.DisplayName, edited.Description = display, desc
		h.show(w, r, s, http.StatusUnprocessableEntity, "Edit namespace", "admin-metadefs", "namespace-edit",
			namespaceFormView{base: base{S: s}, NS: namespaceRow{&edited}, Error: msg})
		return nil
	}
	if vis == "" {
		return again("Choose whether the namespace is public or private.")
	}
	if len(display) > 80 {
		return again("The display name may have at most 80 characters.")
	}
	err = h.updateNamespace(r, s, ns, func(u *imageclient.NamespaceUpdate) {
		u.DisplayName, u.Description, u.Visibility = display, desc, vis
		u.Protected = r.PostFormValue("protected") == "on"
	})
	if err != nil {
		if ae := asAPIError(err); ae.Status < 500 && ae.Status != http.StatusUnauthorized {
			return again(ae.Message)
		}
		return err
	}
	h.done(w, r, Prefix+"admin/metadefs", "Namespace "+namespaceRow{ns}.Title()+" saved.")
	return nil
}

// metadefsProtect protects or unprotects a namespace (a protected one
// cannot be deleted).
func (h *Handler) metadefsProtect(w http.ResponseWriter, r *http.Request, s *session) error {
	ns, err := h.namespaceFor(r, s)
	if err != nil {
		return err
	}
	protect := r.PostFormValue("protected") == "true"
	if err := h.updateNamespace(r, s, ns, func(u *imageclient.NamespaceUpdate) { u.Protected = protect }); err != nil {
		return err
	}
	msg := "Namespace " + namespaceRow{ns}.Title() + " is now protected."
	if !protect {
		msg = "Namespace " + namespaceRow{ns}.Title() + " is no longer protected; it can be deleted."
	}
	next := Prefix + "admin/metadefs"
	if n := r.PostFormValue("next"); n != "" {
		next = safeNext(n)
	}
	h.done(w, r, next, msg)
	return nil
}

func (h *Handler) metadefsDeleteConfirm(w http.ResponseWriter, r *http.Request, s *session) error {
	ns, err := h.namespaceFor(r, s)
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Delete namespace", "admin-metadefs", "namespace-delete", namespaceFormView{base: base{S: s}, NS: namespaceRow{ns},
		FromPage: r.URL.Query().Get("from") == "page"})
	return nil
}

func (h *Handler) metadefsDelete(w http.ResponseWriter, r *http.Request, s *session) error {
	ns, err := h.namespaceFor(r, s)
	if err != nil {
		return err
	}
	if err := imageclient.DeleteNamespace(r.Context(), h.imageClient(s), ns.Namespace); err != nil {
		if ae := asAPIError(err); ae.Status == http.StatusForbidden && ns.Protected {
			return badInput("Namespace " + namespaceRow{ns}.Title() + " is protected: unprotect it first.")
		}
		return err
	}
	if isHTMX(r) && r.PostFormValue("from") == "page" {
		// Deleted from its own page: go back to the list.
		w.Header().Set("HX-Redirect", Prefix+"admin/metadefs")
	}
	h.done(w, r, Prefix+"admin/metadefs", "Namespace "+namespaceRow{ns}.Title()+" deleted.")
	return nil
}
