package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
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

// namespaces lists the image namespaces (at most one page of 100).
func (h *Handler) namespaces(ctx context.Context, s *session) []namespaceRef {
	var body struct {
		Namespaces []struct {
			Namespace   string `json:"namespace"`
			DisplayName string `json:"display_name"`
			Description string `json:"description"`
		} `json:"namespaces"`
	}
	q := url.Values{"resource_types": {imageResourceType}, "limit": {"100"}}
	if err := getJSON(ctx, h.imageClient(s), "v2/metadefs/namespaces?"+q.Encode(), &body); err != nil {
		h.log.InfoContext(ctx, "dashboard: listing metadata namespaces failed", "err", err)
		return nil
	}
	out := make([]namespaceRef, 0, len(body.Namespaces))
	for _, n := range body.Namespaces {
		out = append(out, namespaceRef{Namespace: n.Namespace, DisplayName: n.DisplayName, Description: n.Description})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Title() < out[j].Title() })
	return out
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
	var body struct {
		Properties map[string]rawProperty `json:"properties"`
		Objects    []struct {
			Properties map[string]rawProperty `json:"properties"`
		} `json:"objects"`
	}
	path := "v2/metadefs/namespaces/" + url.PathEscape(ns) + "?" + url.Values{"resource_type": {imageResourceType}}.Encode()
	if err := getJSON(ctx, h.imageClient(s), path, &body); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []*propertyDef
	add := func(m map[string]rawProperty) {
		for name, rp := range m {
			if !seen[name] {
				seen[name] = true
				out = append(out, rp.def(name))
			}
		}
	}
	add(body.Properties)
	for _, o := range body.Objects {
		add(o.Properties)
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
