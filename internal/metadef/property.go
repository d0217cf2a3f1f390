package metadef

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
)

// propertyKeys are the fields of Glance's PropertyType model in its order:
// what the API stores and shows of a property definition. Other keys are
// dropped (a definition file may hold them; they stay in the file's
// stored text and in exports).
var propertyKeys = []string{"name", "type", "title", "description", "operators", "default", "readonly",
	"minimum", "maximum", "enum", "pattern", "minLength", "maxLength", "confidential",
	"items", "uniqueItems", "minItems", "maxItems", "additionalItems"}

// itemKeys are the fields of an array property's item type.
var itemKeys = []string{"type", "enum"}

// modelProperty rebuilds a definition as Glance's model holds it: known
// keys in model order, the default as text (its model types it so: 5
// becomes "5", true "True").
func modelProperty(doc *object) *object {
	out := newObj()
	for _, k := range propertyKeys {
		v, ok := doc.get(k)
		if !ok {
			continue
		}
		switch k {
		case "default":
			if v != nil {
				v = pyStr(v)
			}
		case "items":
			if items, isObj := v.(*object); isObj {
				it := newObj()
				for _, ik := range itemKeys {
					if iv, ok := items.get(ik); ok {
						it.set(ik, iv)
					}
				}
				v = it
			}
		}
		out.set(k, v)
	}
	return out
}

// RenderProperty is a stored definition as the API shows it. With name
// set, the name is shown first (show and create answers); without, only
// a name stored in the definition is (lists, as Glance does).
func RenderProperty(stored json.RawMessage, name *string) (json.RawMessage, error) {
	v, err := decodeOrdered(stored)
	if err != nil {
		return nil, fmt.Errorf("metadef: stored property: %w", err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("metadef: stored property is not an object")
	}
	m := modelProperty(doc)
	if name != nil {
		m.set("name", *name)
		// set keeps an existing position; name comes first in the model.
		m.keys = append([]string{"name"}, without(m.keys, "name")...)
	}
	return m.MarshalJSON()
}

func without(keys []string, drop string) []string {
	out := keys[:0:0]
	for _, k := range keys {
		if k != drop {
			out = append(out, k)
		}
	}
	return out
}

// PropertyType is the typed view of a definition that checking values
// needs. Fields not given are zero, nil or false.
type PropertyType struct {
	Type        string
	Title       string
	Description string
	Enum        []string // the allowed values, as text
	Default     *string
	Readonly    bool
	Minimum     *json.Number
	Maximum     *json.Number
	MinLength   *int64
	MaxLength   *int64
	Pattern     string
	// pattern is Pattern compiled, nil when it uses syntax Go cannot
	// check (see compilePattern).
	pattern     *regexp.Regexp
	ItemType    string
	ItemEnum    []string
	MinItems    *int64
	MaxItems    *int64
	UniqueItems bool
	Operators   []string
}

// ParsePropertyType reads a stored definition.
func ParsePropertyType(stored json.RawMessage) (*PropertyType, error) {
	v, err := decodeOrdered(stored)
	if err != nil {
		return nil, fmt.Errorf("metadef: property definition: %w", err)
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, fmt.Errorf("metadef: property definition is not an object")
	}
	return propertyType(doc), nil
}

func propertyType(doc *object) *PropertyType {
	pt := &PropertyType{}
	text := func(k string) string { s, _ := doc.vals[k].(string); return s }
	pt.Type, pt.Title, pt.Description, pt.Pattern = text("type"), text("title"), text("description"), text("pattern")
	pt.Enum = textList(doc.vals["enum"])
	if d, ok := doc.get("default"); ok && d != nil {
		pt.Default = ptr(pyStr(d))
	}
	pt.Readonly, _ = doc.vals["readonly"].(bool)
	pt.UniqueItems, _ = doc.vals["uniqueItems"].(bool)
	number := func(k string) *json.Number {
		if n, ok := doc.vals[k].(json.Number); ok {
			return &n
		}
		return nil
	}
	pt.Minimum, pt.Maximum = number("minimum"), number("maximum")
	integer := func(k string) *int64 {
		if i, ok := intValue(doc.vals[k]); ok {
			return &i
		}
		return nil
	}
	pt.MinLength, pt.MaxLength = integer("minLength"), integer("maxLength")
	pt.MinItems, pt.MaxItems = integer("minItems"), integer("maxItems")
	if items, ok := doc.vals["items"].(*object); ok {
		pt.ItemType, _ = items.vals["type"].(string)
		pt.ItemEnum = textList(items.vals["enum"])
	}
	pt.Operators = textList(doc.vals["operators"])
	if pt.Pattern != "" {
		pt.pattern, _, _ = compilePattern(pt.Pattern)
	}
	return pt
}

// textList renders a JSON array's elements as text (enums may hold
// numbers in files).
func textList(v any) []string {
	l, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		if e == nil {
			continue
		}
		out = append(out, pyStr(e))
	}
	return out
}

// numberText formats a bound for messages.
func numberText(n *json.Number) string {
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return strconv.FormatInt(i, 10)
	}
	return n.String()
}
