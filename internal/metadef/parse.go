package metadef

import "bytes"

// Parsing of request bodies, in Glance's order: a body is JSON, its
// read-only attributes are refused (403), it matches the schema (400),
// and only then does anything look at the catalog or the caller.

// Read-only attributes per kind of body (the deserializers'
// _disallowed_properties, in their order).
var (
	readOnlyNamespace = []string{"self", "schema", "created_at", "updated_at"}
	readOnlyOther     = []string{"created_at", "updated_at"}
)

func decodeBody(body []byte) (*object, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, newError(ErrInvalid, "Body expected in request.")
	}
	v, err := decodeOrdered(body)
	if err != nil {
		return nil, newError(ErrInvalid, "Malformed JSON in request body.")
	}
	doc, ok := v.(*object)
	if !ok {
		return nil, newError(ErrInvalid, "Malformed JSON in request body.")
	}
	return doc, nil
}

func checkReadOnly(doc *object, keys []string) error {
	for _, k := range keys {
		if doc.has(k) {
			return newError(ErrForbidden, "Attribute '%s' is read-only.", k)
		}
	}
	return nil
}

func parseDoc(body []byte, readOnly []string, name string, schema *object) (*object, error) {
	doc, err := decodeBody(body)
	if err != nil {
		return nil, err
	}
	if err := checkReadOnly(doc, readOnly); err != nil {
		return nil, err
	}
	if err := validateSchema(name, schema, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// ParseNamespace reads the body of a namespace create or update: the
// namespace and, for a create, the contents it carries.
func ParseNamespace(body []byte) (*Definition, error) {
	doc, err := parseDoc(body, readOnlyNamespace, "namespace", namespaceSchema(requestBody))
	if err != nil {
		return nil, err
	}
	return definitionFrom(doc, modelProperty)
}

// definitionFrom builds a Definition from a document that passed the
// namespace schema. keep turns a property definition into what is stored.
func definitionFrom(doc *object, keep func(*object) *object) (*Definition, error) {
	text := func(o *object, k string) *string {
		if s, ok := o.vals[k].(string); ok {
			return &s
		}
		return nil
	}
	d := &Definition{}
	d.Name = str(text(doc, "namespace"))
	d.DisplayName = text(doc, "display_name")
	d.Description = text(doc, "description")
	d.Visibility = str(text(doc, "visibility"))
	d.Protected, _ = doc.vals["protected"].(bool)
	d.Owner = str(text(doc, "owner"))
	if l, ok := doc.vals["resource_type_associations"].([]any); ok {
		d.Associations = []Association{}
		for _, e := range l {
			a, _ := e.(*object)
			d.Associations = append(d.Associations, Association{Name: str(text(a, "name")),
				Prefix: text(a, "prefix"), PropertiesTarget: text(a, "properties_target")})
		}
	}
	if props, ok := doc.vals["properties"].(*object); ok {
		p, err := propertiesFrom(props, keep)
		if err != nil {
			return nil, err
		}
		d.Properties = p
	}
	if l, ok := doc.vals["objects"].([]any); ok {
		d.Objects = []Object{}
		for _, e := range l {
			ob, _ := e.(*object)
			obj, err := objectFrom(ob, keep)
			if err != nil {
				return nil, err
			}
			d.Objects = append(d.Objects, *obj)
		}
	}
	if l, ok := doc.vals["tags"].([]any); ok {
		d.Tags = []Tag{}
		for _, e := range l {
			t, _ := e.(*object)
			d.Tags = append(d.Tags, Tag{Name: str(text(t, "name"))})
		}
	}
	return d, nil
}

func propertiesFrom(props *object, keep func(*object) *object) ([]Property, error) {
	out := []Property{}
	for _, name := range props.keys {
		def, _ := props.vals[name].(*object)
		raw, err := keep(def).MarshalJSON()
		if err != nil {
			return nil, err
		}
		out = append(out, Property{Name: name, Schema: raw})
	}
	return out, nil
}

func objectFrom(doc *object, keep func(*object) *object) (*Object, error) {
	obj := &Object{}
	obj.Name, _ = doc.vals["name"].(string)
	if s, ok := doc.vals["description"].(string); ok {
		obj.Description = &s
	}
	if l, ok := doc.vals["required"].([]any); ok {
		obj.Required = []string{}
		for _, e := range l {
			if s, ok := e.(string); ok {
				obj.Required = append(obj.Required, s)
			}
		}
	}
	if props, ok := doc.vals["properties"].(*object); ok {
		p, err := propertiesFrom(props, keep)
		if err != nil {
			return nil, err
		}
		obj.Properties = p
	}
	return obj, nil
}

// ParseObject reads the body of an object create (strict: each property
// must match the property schema, as Glance checks on create) or update.
func ParseObject(body []byte, create bool) (*Object, error) {
	// On create the properties are checked one by one against the
	// property schema, which words an unknown key as Glance does; on
	// update (where Glance would fail with a 500) by the object schema.
	v := requestBody
	if create {
		v = served
	}
	doc, err := parseDoc(body, readOnlyNamespace, "object", objectSchema(v))
	if err != nil {
		return nil, err
	}
	if props, ok := doc.vals["properties"].(*object); ok && create {
		for _, name := range props.keys {
			if err := validateSchema("property", propertySchema(false), props.vals[name]); err != nil {
				return nil, err
			}
		}
	}
	return objectFrom(doc, modelProperty)
}

// ParseProperty reads the body of a property create or update.
func ParseProperty(body []byte) (*Property, error) {
	doc, err := parseDoc(body, readOnlyOther, "property", propertySchema(true))
	if err != nil {
		return nil, err
	}
	raw, err := modelProperty(doc).MarshalJSON()
	if err != nil {
		return nil, err
	}
	name, _ := doc.vals["name"].(string)
	return &Property{Name: name, Schema: raw}, nil
}

// ParseTag reads the body of a tag update.
func ParseTag(body []byte) (*Tag, error) {
	doc, err := parseDoc(body, readOnlyOther, "tag", tagSchema())
	if err != nil {
		return nil, err
	}
	name, _ := doc.vals["name"].(string)
	return &Tag{Name: name}, nil
}

// CheckTagName checks a tag name given in a URL (POST .../tags/{name}).
func CheckTagName(name string) error {
	return validateSchema("tag", tagSchema(), o("name", name))
}

// ParseTags reads the body of a bulk tag create. A body without "tags"
// creates none (Glance fails with a 500).
func ParseTags(body []byte) ([]Tag, error) {
	doc, err := parseDoc(body, readOnlyOther, "tags", tagsBodySchema())
	if err != nil {
		return nil, err
	}
	tags := []Tag{}
	l, _ := doc.vals["tags"].([]any)
	for _, e := range l {
		t, _ := e.(*object)
		name, _ := t.vals["name"].(string)
		tags = append(tags, Tag{Name: name})
	}
	return tags, nil
}

// ParseAssociation reads the body of a resource type association create.
func ParseAssociation(body []byte) (*Association, error) {
	doc, err := parseDoc(body, readOnlyOther, "resource_type_association", associationSchema())
	if err != nil {
		return nil, err
	}
	a := &Association{}
	a.Name, _ = doc.vals["name"].(string)
	if s, ok := doc.vals["prefix"].(string); ok {
		a.Prefix = &s
	}
	if s, ok := doc.vals["properties_target"].(string); ok {
		a.PropertiesTarget = &s
	}
	return a, nil
}
