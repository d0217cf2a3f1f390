package api

import (
	"encoding/json"

	"github.com/glint-image/glint/internal/metadef"
)

// The metadef answers, shaped as Glance's WSME models serialise them:
// fields in the model's order, unset fields left out. Which lists appear
// differs by route, as in Glance: show leaves out empty contents, a
// create answer shows what the request carried.

const (
	namespaceSchemaLink = "/v2/schemas/metadefs/namespace"
	objectSchemaLink    = "/v2/schemas/metadefs/object"
)

func namespacePath(ns string) string { return "/v2/metadefs/namespaces/" + ns }

func addText(o *object, key string, v *string) {
	if v != nil {
		o.add(key, *v)
	}
}

// namespaceFields are a namespace record's own fields.
func namespaceFields(ns *metadef.Namespace) *object {
	o := newObject().add("namespace", ns.Name)
	addText(o, "display_name", ns.DisplayName)
	addText(o, "description", ns.Description)
	o.add("visibility", ns.Visibility).add("protected", ns.Protected).add("owner", ns.Owner)
	o.add("created_at", timestamp(ns.CreatedAt))
	if ns.UpdatedAt != nil {
		o.add("updated_at", timestamp(*ns.UpdatedAt))
	}
	return o
}

func withLinks(o *object, ns string) *object {
	return o.add("self", namespacePath(ns)).add("schema", namespaceSchemaLink)
}

// contents says which of a namespace's lists to show: every non-empty
// one (show, list), or every one the request gave (create).
type contents int

const (
	nonEmpty contents = iota
	given
)

func (c contents) show(n int, isNil bool) bool {
	if c == given {
		return !isNil
	}
	return n > 0
}

// namespaceJSON renders a namespace with its contents.
func namespaceJSON(d *metadef.Definition, c contents) (*object, error) {
	o := namespaceFields(&d.Namespace)
	if c.show(len(d.Associations), d.Associations == nil) {
		list := make([]*object, 0, len(d.Associations))
		for _, a := range d.Associations {
			list = append(list, associationJSON(&a, c == nonEmpty))
		}
		o.add("resource_type_associations", list)
	}
	if c.show(len(d.Properties), d.Properties == nil) {
		props, err := propertiesJSON(d.Properties)
		if err != nil {
			return nil, err
		}
		o.add("properties", props)
	}
	if c.show(len(d.Objects), d.Objects == nil) {
		list := make([]*object, 0, len(d.Objects))
		for _, ob := range d.Objects {
			var j *object
			var err error
			if c == given {
				j, err = objectAsGiven(&ob)
			} else {
				j, err = objectJSON(d.Name, &ob)
			}
			if err != nil {
				return nil, err
			}
			list = append(list, j)
		}
		o.add("objects", list)
	}
	if c.show(len(d.Tags), d.Tags == nil) {
		o.add("tags", tagNames(d.Tags))
	}
	return withLinks(o, d.Name), nil
}

// associationJSON renders an association; a namespace create answer
// shows it as the request gave it, without times.
func associationJSON(a *metadef.Association, times bool) *object {
	o := newObject().add("name", a.Name)
	addText(o, "prefix", a.Prefix)
	addText(o, "properties_target", a.PropertiesTarget)
	if times {
		o.add("created_at", timestamp(a.CreatedAt))
		if a.UpdatedAt != nil {
			o.add("updated_at", timestamp(*a.UpdatedAt))
		}
	}
	return o
}

// propertiesJSON renders properties as the name → definition object.
func propertiesJSON(props []metadef.Property) (*object, error) {
	o := newObject()
	for _, p := range props {
		raw, err := metadef.RenderProperty(p.Schema, nil)
		if err != nil {
			return nil, err
		}
		o.add(p.Name, raw)
	}
	return o, nil
}

// propertyJSON renders one property with its name.
func propertyJSON(p *metadef.Property) (json.RawMessage, error) {
	return metadef.RenderProperty(p.Schema, &p.Name)
}

func objectPath(ns, name string) string { return namespacePath(ns) + "/objects/" + name }

// objectJSON renders a stored object: required and properties always.
func objectJSON(ns string, ob *metadef.Object) (*object, error) {
	o := newObject().add("name", ob.Name)
	required := ob.Required
	if required == nil {
		required = []string{}
	}
	o.add("required", required)
	addText(o, "description", ob.Description)
	props, err := propertiesJSON(ob.Properties)
	if err != nil {
		return nil, err
	}
	o.add("properties", props)
	o.add("created_at", timestamp(ob.CreatedAt))
	if ob.UpdatedAt != nil {
		o.add("updated_at", timestamp(*ob.UpdatedAt))
	}
	return o.add("self", objectPath(ns, ob.Name)).add("schema", objectSchemaLink), nil
}

// objectAsGiven renders an object as a request gave it.
func objectAsGiven(ob *metadef.Object) (*object, error) {
	o := newObject().add("name", ob.Name)
	if ob.Required != nil {
		o.add("required", ob.Required)
	}
	addText(o, "description", ob.Description)
	if ob.Properties != nil {
		props, err := propertiesJSON(ob.Properties)
		if err != nil {
			return nil, err
		}
		o.add("properties", props)
	}
	return o, nil
}

// objectWritten renders an object just created or updated: what the
// request gave, with times and links.
func objectWritten(ns string, ob *metadef.Object) (*object, error) {
	o, err := objectAsGiven(ob)
	if err != nil {
		return nil, err
	}
	o.add("created_at", timestamp(ob.CreatedAt))
	if ob.UpdatedAt != nil {
		o.add("updated_at", timestamp(*ob.UpdatedAt))
	}
	return o.add("self", objectPath(ns, ob.Name)).add("schema", objectSchemaLink), nil
}

func tagNames(tags []metadef.Tag) []*object {
	out := make([]*object, 0, len(tags))
	for _, t := range tags {
		out = append(out, newObject().add("name", t.Name))
	}
	return out
}

func tagJSON(t *metadef.Tag) *object {
	o := newObject().add("name", t.Name).add("created_at", timestamp(t.CreatedAt))
	if t.UpdatedAt != nil {
		o.add("updated_at", timestamp(*t.UpdatedAt))
	}
	return o
}

func resourceTypeJSON(rt *metadef.ResourceType) *object {
	o := newObject().add("name", rt.Name).add("created_at", timestamp(rt.CreatedAt))
	if rt.UpdatedAt != nil {
		o.add("updated_at", timestamp(*rt.UpdatedAt))
	}
	return o
}
