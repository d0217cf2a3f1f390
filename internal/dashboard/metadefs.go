package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"

	"github.com/glint-image/glint/internal/metadef"
)

// The metadata editor offers properties from the server's metadata
// definitions (Glance's metadefs API: namespaces of typed properties with
// allowed values), when the server has them. Everything is read with the
// user's token, so the user sees the namespaces the API shows them.

const imageResourceType = "OS::Glance::Image"

type namespaceRef struct {
	Namespace, DisplayName, Description string
}

// Title is what the picker shows.
func (n namespaceRef) Title() string {
	if n.DisplayName != "" {
		return n.DisplayName
	}
	return n.Namespace
}

// propertyDef is one property of a namespace.
type propertyDef struct {
	Name, Title, Description, Type string
	Enum                           []string
	Minimum, Maximum               *float64
	MaxLength                      *int
	Pattern, Default               string
	// ItemEnum is the allowed values of an array property's items.
	ItemEnum []string
}

// option is one choice of a select.
type option struct {
	Value    string
	Selected bool
	// Outside marks the current value when the definition does not list
	// it, so that saving the form keeps it rather than silently picking
	// another.
	Outside bool
}

// Options are the select's choices for value: the enum (or true/false),
// plus value itself when it is not among them.
func (p *propertyDef) Options(value string) []option {
	values := p.Enum
	if len(values) == 0 && p.Type == "boolean" {
		values = []string{"true", "false"}
	}
	var out []option
	found := false
	for _, v := range values {
		sel := v == value
		found = found || sel
		out = append(out, option{Value: v, Selected: sel})
	}
	if !found && value != "" {
		out = append([]option{{Value: value, Selected: true, Outside: true}}, out...)
	}
	return out
}

// Choice reports whether the property is picked from a list.
func (p *propertyDef) Choice() bool { return len(p.Enum) > 0 || p.Type == "boolean" }

// InputType is the HTML input type for the property.
func (p *propertyDef) InputType() string {
	switch p.Type {
	case "integer", "number":
		return "number"
	}
	return "text"
}

// Step is the number input's step.
func (p *propertyDef) Step() string {
	if p.Type == "integer" {
		return "1"
	}
	return "any"
}

func fmtNum(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

// Min and Max render the bounds for the input.
func (p *propertyDef) Min() string { return fmtNum(p.Minimum) }
func (p *propertyDef) Max() string { return fmtNum(p.Maximum) }

// catalogPage bounds one page of the namespace listing; maxNamespaces
// the namespaces one form reads.
const (
	catalogPage   = 100
	maxNamespaces = 500
)

// namespaces lists the image namespaces the user sees, sorted by title.
func (h *Handler) namespaces(ctx context.Context, s *session) []namespaceRef {
	var out []namespaceRef
	marker := ""
	for len(out) < maxNamespaces {
		var body struct {
			Namespaces []struct {
				Namespace   string `json:"namespace"`
				DisplayName string `json:"display_name"`
				Description string `json:"description"`
			} `json:"namespaces"`
		}
		q := url.Values{"resource_types": {imageResourceType}, "limit": {strconv.Itoa(catalogPage)},
			"sort_key": {"namespace"}, "sort_dir": {"asc"}}
		if marker != "" {
			q.Set("marker", marker)
		}
		if err := getJSON(ctx, h.imageClient(s), "v2/metadefs/namespaces?"+q.Encode(), &body); err != nil {
			h.log.InfoContext(ctx, "dashboard: listing metadata namespaces failed", "err", err)
			break
		}
		for _, n := range body.Namespaces {
			out = append(out, namespaceRef{Namespace: n.Namespace, DisplayName: n.DisplayName, Description: n.Description})
		}
		if len(body.Namespaces) < catalogPage {
			break
		}
		marker = body.Namespaces[len(body.Namespaces)-1].Namespace
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title() < out[j].Title() })
	return out
}

// catalog is the image property definitions the user sees: for typed
// inputs in the metadata editor, and to check values before saving. Like
// Glance, glint never refuses a property because of the catalog; the
// dashboard asks before saving one that breaks it.
type catalog struct {
	Namespaces []namespaceRef
	// Defs is the first definition of each property name.
	Defs  map[string]*propertyDef
	check *metadef.Catalog
}

// imageCatalog reads the catalog, or returns nil when the server has no
// metadata definitions.
func (h *Handler) imageCatalog(ctx context.Context, s *session, f features) *catalog {
	if !f.Metadefs {
		return nil
	}
	cat := &catalog{Namespaces: h.namespaces(ctx, s), Defs: map[string]*propertyDef{}, check: &metadef.Catalog{}}
	for _, ns := range cat.Namespaces {
		raw, err := h.rawNamespace(ctx, s, ns.Namespace)
		if err != nil {
			h.log.InfoContext(ctx, "dashboard: reading a metadata namespace failed", "namespace", ns.Namespace, "err", err)
			continue
		}
		for _, set := range raw.sets() {
			for _, name := range sortedRaw(set) {
				if err := cat.check.Add(ns.Namespace, name, set[name]); err != nil {
					continue
				}
				if _, ok := cat.Defs[name]; !ok {
					var rp rawProperty
					if json.Unmarshal(set[name], &rp) == nil {
						cat.Defs[name] = rp.def(name)
					}
				}
			}
		}
	}
	return cat
}

// violations lists the properties whose values break the catalog.
func (c *catalog) violations(props []property) []string {
	if c == nil || len(props) == 0 {
		return nil
	}
	m := map[string]string{}
	for _, p := range props {
		m[p.Key] = p.Value
	}
	var out []string
	for _, v := range c.check.Check(m) {
		out = append(out, fmt.Sprintf("%s = %q %s (namespace %s)", v.Property, v.Value, v.Problem, v.Namespace))
	}
	return out
}

// namespaceDoc is a namespace as shown with ?resource_type=: property
// names with the association's prefix applied.
type namespaceDoc struct {
	Properties map[string]json.RawMessage `json:"properties"`
	Objects    []struct {
		Properties map[string]json.RawMessage `json:"properties"`
	} `json:"objects"`
}

func (d namespaceDoc) sets() []map[string]json.RawMessage {
	out := []map[string]json.RawMessage{d.Properties}
	for _, o := range d.Objects {
		out = append(out, o.Properties)
	}
	return out
}

func sortedRaw(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func (h *Handler) rawNamespace(ctx context.Context, s *session, ns string) (namespaceDoc, error) {
	var d namespaceDoc
	path := "v2/metadefs/namespaces/" + url.PathEscape(ns) + "?" + url.Values{"resource_type": {imageResourceType}}.Encode()
	err := getJSON(ctx, h.imageClient(s), path, &d)
	return d, err
}

type rawProperty struct {
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	Enum        []any           `json:"enum"`
	Minimum     *float64        `json:"minimum"`
	Maximum     *float64        `json:"maximum"`
	MaxLength   *int            `json:"maxLength"`
	Pattern     string          `json:"pattern"`
	Default     json.RawMessage `json:"default"`
	Items       *struct {
		Enum []any `json:"enum"`
	} `json:"items"`
}

func strs(list []any) []string {
	out := make([]string, 0, len(list))
	for _, v := range list {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		default:
			b, _ := json.Marshal(x)
			out = append(out, string(b))
		}
	}
	return out
}

func (rp rawProperty) def(name string) *propertyDef {
	d := &propertyDef{Name: name, Title: rp.Title, Description: rp.Description, Type: rp.Type, Enum: strs(rp.Enum),
		Minimum: rp.Minimum, Maximum: rp.Maximum, MaxLength: rp.MaxLength, Pattern: rp.Pattern}
	if rp.Items != nil {
		d.ItemEnum = strs(rp.Items.Enum)
	}
	if len(rp.Default) > 0 {
		var s string
		if json.Unmarshal(rp.Default, &s) == nil {
			d.Default = s
		} else {
			d.Default = string(rp.Default)
		}
	}
	if d.Title == "" {
		d.Title = name
	}
	return d
}

// namespaceProperties returns a namespace's properties, its objects'
// included, with the image resource type's prefix applied by the API.
func (h *Handler) namespaceProperties(ctx context.Context, s *session, ns string) ([]*propertyDef, error) {
	d, err := h.rawNamespace(ctx, s, ns)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*propertyDef
	for _, set := range d.sets() {
		for _, name := range sortedRaw(set) {
			var rp rawProperty
			if seen[name] || json.Unmarshal(set[name], &rp) != nil {
				continue
			}
			seen[name] = true
			out = append(out, rp.def(name))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title < out[j].Title })
	return out, nil
}

func (h *Handler) namespaceProperty(ctx context.Context, s *session, ns, name string) (*propertyDef, error) {
	list, err := h.namespaceProperties(ctx, s, ns)
	if err != nil {
		return nil, err
	}
	for _, d := range list {
		if d.Name == name {
			return d, nil
		}
	}
	return nil, &pageError{Status: http.StatusNotFound, Message: "The namespace has no property " + name + "."}
}

type metadefView struct {
	Namespace  string
	Properties []*propertyDef
}

// metadefProperties is the property picker of one namespace.
func (h *Handler) metadefProperties(w http.ResponseWriter, r *http.Request, s *session) error {
	ns := r.URL.Query().Get("md_namespace")
	v := metadefView{Namespace: ns}
	if ns != "" {
		list, err := h.namespaceProperties(r.Context(), s, ns)
		if err != nil {
			return err
		}
		v.Properties = list
	}
	h.writeFragment(w, http.StatusOK, "metadef-properties", v)
	return nil
}
