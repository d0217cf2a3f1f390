package metadef

import "strings"

// The text rules. Glance refuses characters outside the Basic
// Multilingual Plane ("4 byte unicode", which MySQL's utf8 cannot store)
// in every text it writes, naming the field: "Namespace can't contain 4
// byte unicode characters." glint applies that to every text of a
// definition. glint also refuses empty names and names with a slash:
// Glance stores them, but no URL can then reach the record, so it could
// be neither shown nor deleted.

// textCheck collects the first broken rule while walking a definition.
type textCheck struct{ err error }

// title is Python's str.title() of a field key, as Glance's message uses
// it ("display_name" → "Display_Name").
func title(key string) string {
	var b strings.Builder
	upper := true
	for _, r := range key {
		isLetter := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
		switch {
		case isLetter && upper:
			b.WriteString(strings.ToUpper(string(r)))
			upper = false
		case isLetter:
			b.WriteString(strings.ToLower(string(r)))
		default:
			b.WriteRune(r)
			upper = true
		}
	}
	return b.String()
}

func has4Byte(s string) bool {
	for _, r := range s {
		if r > 0xFFFF {
			return true
		}
	}
	return false
}

// text checks one text field.
func (c *textCheck) text(key string, s *string) {
	if c.err == nil && s != nil && has4Byte(*s) {
		c.err = newError(ErrInvalid, "%s can't contain 4 byte unicode characters.", title(key))
	}
}

// name checks a name: the text rule, then glint's rules.
func (c *textCheck) name(key, s string) {
	c.text(key, &s)
	switch {
	case c.err != nil:
	case s == "":
		c.err = newError(ErrInvalid, "%s can't be empty.", title(key))
	case strings.Contains(s, "/"):
		c.err = newError(ErrInvalid, "%s can't contain '/'.", title(key))
	}
}

// value checks every text in a decoded JSON value, naming the key it
// sits under.
func (c *textCheck) value(key string, v any) {
	switch x := v.(type) {
	case string:
		c.text(key, &x)
	case []any:
		for _, e := range x {
			c.value(key, e)
		}
	case *object:
		for _, k := range x.keys {
			if c.err == nil && has4Byte(k) {
				c.err = newError(ErrInvalid, "Property names can't contain 4 byte unicode.")
			}
			c.value(k, x.vals[k])
		}
	}
}

func (c *textCheck) property(p Property) {
	c.name("name", p.Name)
	if c.err != nil {
		return
	}
	v, err := decodeOrdered(p.Schema)
	if err != nil {
		c.err = newError(ErrInvalid, "Property %s is not a JSON object.", p.Name)
		return
	}
	c.value("json_schema", v)
}

func (c *textCheck) object(ob Object) {
	c.name("name", ob.Name)
	c.text("required", ptr(strings.Join(ob.Required, ",")))
	c.text("description", ob.Description)
	for _, p := range ob.Properties {
		c.property(p)
	}
}

func (c *textCheck) namespace(ns *Namespace) {
	c.name("namespace", ns.Name)
	c.text("display_name", ns.DisplayName)
	c.text("description", ns.Description)
	c.text("visibility", &ns.Visibility)
	c.text("owner", &ns.Owner)
}

func (c *textCheck) association(a Association) {
	c.name("name", a.Name)
	c.text("prefix", a.Prefix)
	c.text("properties_target", a.PropertiesTarget)
}

// checkDefinition checks a namespace and everything it carries, in the
// order Glance writes them.
func checkDefinition(d *Definition) error {
	c := &textCheck{}
	c.namespace(&d.Namespace)
	for _, a := range d.Associations {
		c.association(a)
	}
	for _, ob := range d.Objects {
		c.object(ob)
	}
	for _, t := range d.Tags {
		c.name("name", t.Name)
	}
	for _, p := range d.Properties {
		c.property(p)
	}
	return c.err
}

func checkObject(ob *Object) error       { c := &textCheck{}; c.object(*ob); return c.err }
func checkProperty(p *Property) error    { c := &textCheck{}; c.property(*p); return c.err }
func checkTagName(name string) error     { c := &textCheck{}; c.name("name", name); return c.err }
func checkNamespace(ns *Namespace) error { c := &textCheck{}; c.namespace(ns); return c.err }
func checkAssociation(a *Association) error {
	c := &textCheck{}
	c.association(*a)
	return c.err
}
