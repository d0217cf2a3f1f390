package metadef

import (
	"encoding/json"
	"strconv"
)

// The JSON schemas of /v2/schemas/metadefs/* and of request validation.
// Their structure, names, types, limits and enums are Glance's
// (glance/api/v2/metadef_*.py get_schema, glance/schema.py); the
// descriptions are glint's own. python-glanceclient builds its models from
// these schemas and validates answers against them, so the structure must
// not drift.

// o builds an ordered object from key, value pairs.
func o(kv ...any) *object {
	out := newObj()
	for i := 0; i+1 < len(kv); i += 2 {
		out.set(kv[i].(string), kv[i+1])
	}
	return out
}

func list(v ...any) []any { return v }

func num(n int) json.Number { return json.Number(strconv.Itoa(n)) }

func strSchema(desc string, maxLength int) *object {
	s := o("type", "string")
	if desc != "" {
		s.set("description", desc)
	}
	if maxLength > 0 {
		s.set("maxLength", num(maxLength))
	}
	return s
}

func timeSchema(desc string) *object {
	return o("type", "string", "readOnly", true, "description", desc, "format", "date-time")
}

func readOnlyString() *object { return o("readOnly", true, "type", "string") }

var propertyTypes = list("array", "boolean", "integer", "number", "object", "string", nil)

// variant says how strictly a schema checks. The served schemas are
// Glance's. Requests are checked more strictly where Glance would accept
// a body and then fail with a 500 (an association, object or tag without
// a name; a property definition with a key its model does not know).
// Definition files may carry such keys: Glance's loader stores them.
type variant struct {
	requireNames     bool
	closedProperties bool
}

var (
	served      = variant{}
	requestBody = variant{requireNames: true, closedProperties: true}
	fileBody    = variant{requireNames: true}
)

// definitions are the shared sub-schemas. stringArray of the property
// schema requires an item, that of the namespace and object schemas not.
func definitions(v variant, withProperty bool, stringArrayMinItems bool) *object {
	stringArray := o("type", "array", "items", o("type", "string"))
	if stringArrayMinItems {
		stringArray.set("minItems", num(1))
	}
	stringArray.set("uniqueItems", true)
	d := o(
		"positiveInteger", o("type", "integer", "minimum", num(0)),
		"positiveIntegerDefault0", o("allOf", list(o("$ref", "#/definitions/positiveInteger"), o("default", num(0)))),
		"stringArray", stringArray,
	)
	if withProperty {
		def := o("type", "object", "required", list("title", "type"), "properties", propertyFields())
		if v.closedProperties {
			def.set("additionalProperties", false)
		}
		d.set("property", o("type", "object", "additionalProperties", def))
	}
	return d
}

// propertyFields are the keywords a property definition may use.
func propertyFields() *object {
	return o(
		"name", strSchema("", 80),
		"title", o("type", "string"),
		"description", o("type", "string"),
		"operators", o("type", "array", "items", o("type", "string")),
		"type", o("type", "string", "enum", propertyTypes),
		"required", o("$ref", "#/definitions/stringArray"),
		"minimum", o("type", "number"),
		"maximum", o("type", "number"),
		"maxLength", o("$ref", "#/definitions/positiveInteger"),
		"minLength", o("$ref", "#/definitions/positiveIntegerDefault0"),
		"pattern", o("type", "string", "format", "regex"),
		"enum", o("type", "array"),
		"readonly", o("type", "boolean"),
		"default", o(),
		"items", o("type", "object", "properties", o(
			"type", o("type", "string", "enum", propertyTypes),
			"enum", o("type", "array"),
		)),
		"maxItems", o("$ref", "#/definitions/positiveInteger"),
		"minItems", o("$ref", "#/definitions/positiveIntegerDefault0"),
		"uniqueItems", o("type", "boolean", "default", false),
		"additionalItems", o("type", "boolean"),
	)
}

// namedItems is an array of objects; when strict (request validation in
// glint, where Glance would fail with a 500) each must carry a name.
func namedItems(props *object, v variant) *object {
	item := o("type", "object", "properties", props)
	if v.requireNames {
		item.set("required", list("name"))
	}
	return o("type", "array", "items", item)
}

func namespaceSchema(v variant) *object {
	return o(
		"name", "namespace",
		"properties", o(
			"namespace", strSchema("Unique name of the namespace, e.g. OS::Compute::Watchdog.", 80),
			"display_name", strSchema("Name to show for the namespace in user interfaces.", 80),
			"description", strSchema("What the namespace's definitions are about.", 500),
			"visibility", o("type", "string", "description", "Who may read the namespace: everyone (public) or its owner's project (private).",
				"enum", list(VisibilityPublic, VisibilityPrivate)),
			"protected", o("type", "boolean", "description", "When true, neither the namespace nor anything in it can be deleted."),
			"owner", strSchema("Project that owns the namespace.", 255),
			"created_at", timeSchema("When the namespace was created."),
			"updated_at", timeSchema("When the namespace last changed."),
			"schema", readOnlyString(),
			"self", readOnlyString(),
			"resource_type_associations", namedItems(o(
				"name", o("type", "string"),
				"prefix", o("type", "string"),
				"properties_target", o("type", "string"),
			), v),
			"properties", o("$ref", "#/definitions/property"),
			"objects", namedItems(o(
				"name", o("type", "string"),
				"description", o("type", "string"),
				"required", o("$ref", "#/definitions/stringArray"),
				"properties", o("$ref", "#/definitions/property"),
			), v),
			"tags", namedItems(o("name", o("type", "string")), v),
		),
		"additionalProperties", false,
		"definitions", definitions(v, true, false),
		"required", list("namespace"),
	)
}

func objectSchema(v variant) *object {
	return o(
		"name", "object",
		"properties", o(
			"name", strSchema("", 80),
			"description", o("type", "string"),
			"required", o("$ref", "#/definitions/stringArray"),
			"properties", o("$ref", "#/definitions/property"),
			"schema", readOnlyString(),
			"self", readOnlyString(),
			"created_at", timeSchema("When the object was created."),
			"updated_at", timeSchema("When the object last changed."),
		),
		"additionalProperties", false,
		"definitions", definitions(v, true, false),
		"required", list("name"),
	)
}

// propertySchema validates one property definition; requireName is false
// for properties inside an object, which their key names.
func propertySchema(requireName bool) *object {
	required := list("type", "title")
	if requireName {
		required = append(required, "name")
	}
	return o(
		"name", "property",
		"properties", propertyFields(),
		"additionalProperties", false,
		"definitions", definitions(served, false, true),
		"required", required,
	)
}

func associationSchema() *object {
	return o(
		"name", "resource_type_association",
		"properties", o(
			"name", strSchema("Name of the resource type, following Heat's resource type names where there is one (OS::Glance::Image, OS::Nova::Flavor, ...).", 80),
			"prefix", strSchema("Text put before the namespace's property names when they are set on this resource type, separator included (hw_, hw:).", 80),
			"properties_target", strSchema("Which of a resource's key-value sets the properties belong to, where it has several (Cinder volumes: image).", 80),
			"created_at", timeSchema("When the association was made."),
			"updated_at", timeSchema("When the association last changed."),
		),
		"additionalProperties", false,
		"required", list("name"),
	)
}

func tagSchema() *object {
	return o(
		"name", "tag",
		"properties", o(
			"name", strSchema("", 80),
			"created_at", timeSchema("When the tag was created."),
			"updated_at", timeSchema("When the tag last changed."),
		),
		"additionalProperties", false,
		"required", list("name"),
	)
}

// tagsBodySchema validates a bulk tag create (Glance's get_schema_for_list).
func tagsBodySchema() *object {
	return o(
		"name", "tags",
		"properties", o("tags", o("type", "array", "items", o(
			"type", "object",
			"properties", o("name", strSchema("", 80)),
			"required", list("name"),
			"additionalProperties", false,
		))),
		"additionalProperties", false,
	)
}

func collectionLinks() []any {
	return list(o("rel", "first", "href", "{first}"), o("rel", "next", "href", "{next}"),
		o("rel", "describedby", "href", "{schema}"))
}

// collection wraps an item schema as glance.schema.CollectionSchema (an
// array) or, for properties, DictCollectionSchema (an object): the item's
// definitions move up to the collection.
func collection(name string, item *object, dict bool) *object {
	defs, hasDefs := item.get("definitions")
	item.del("definitions")
	holder := o("type", "array", "items", item)
	if dict {
		holder = o("type", "object", "additionalProperties", item)
	}
	out := o(
		"name", name,
		"properties", o(name, holder, "first", o("type", "string"), "next", o("type", "string"), "schema", o("type", "string")),
		"links", collectionLinks(),
	)
	if hasDefs {
		out.set("definitions", defs)
	}
	return out
}

// Schema returns the schema served at /v2/schemas/metadefs/{name}, or
// false for an unknown name.
func Schema(name string) (json.Marshaler, bool) {
	var s *object
	switch name {
	case "namespace":
		s = namespaceSchema(served)
	case "namespaces":
		s = collection("namespaces", namespaceSchema(served), false)
	case "object":
		s = objectSchema(served)
	case "objects":
		s = collection("objects", objectSchema(served), false)
	case "property":
		s = propertySchema(true)
	case "properties":
		item := propertySchema(false)
		s = collection("properties", item, true)
	case "resource_type":
		s = associationSchema()
	case "resource_types":
		s = collection("resource_type_associations", associationSchema(), false)
	case "tag":
		s = tagSchema()
	case "tags":
		s = collection("tags", tagSchema(), false)
	default:
		return nil, false
	}
	return s, true
}

// SchemaNames are the names Schema knows, in Glance's route order.
var SchemaNames = []string{"namespace", "namespaces", "resource_type", "resource_types",
	"property", "properties", "object", "objects", "tag", "tags"}
