// Package metadef owns the metadata definitions catalog ("metadefs"):
// namespaces that describe which properties, objects and tags mean
// something for a kind of resource (OS::Glance::Image, OS::Nova::Flavor,
// ...), as Glance's /v2/metadefs API serves them to Horizon and Nova.
//
// The package holds the records and their rules (visibility, protection,
// names), the Service every front end calls, the Store seam the database
// implements (conformance suite in metadeftest), Glance's JSON format for
// request bodies and definition files, the definitions glint ships, and a
// Catalog that checks image properties against the definitions on
// request. Image properties are never restricted by the catalog, as in
// Glance: checking is something a client asks for.
package metadef

import (
	"encoding/json"
	"time"
)

// Namespace visibilities. Glance knows only these two.
const (
	VisibilityPublic  = "public"
	VisibilityPrivate = "private"
)

// ResourceTypeImage is the resource type of Glance images, the one glint
// checks image properties against.
const ResourceTypeImage = "OS::Glance::Image"

// Namespace is one namespace record. Nullable fields are pointers: Glance
// leaves a null display name or description out of its answers.
type Namespace struct {
	// Name is the namespace's unique text ("namespace" on the wire).
	Name        string
	DisplayName *string
	Description *string
	Visibility  string
	Protected   bool
	Owner       string
	CreatedAt   time.Time
	// UpdatedAt is nil for records loaded from files that never changed,
	// as Glance's loader leaves it.
	UpdatedAt *time.Time
}

// Association ties a namespace to a resource type, with the prefix its
// property names take on that resource (hw_ on images, hw: on flavors).
type Association struct {
	// Name is the resource type's name.
	Name             string
	Prefix           *string
	PropertiesTarget *string
	CreatedAt        time.Time
	UpdatedAt        *time.Time
}

// Property is one property definition: its name and its JSON-schema
// fragment (type, title, enum, minimum, ...). Schema is the JSON object
// as it is stored: normalised when it came through the API, verbatim when
// it came from a definition file (see NormalizeProperty).
type Property struct {
	Name      string
	Schema    json.RawMessage
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// Object groups properties under a name, with the list of those required.
type Object struct {
	Name        string
	Description *string
	Required    []string
	Properties  []Property
	CreatedAt   time.Time
	UpdatedAt   *time.Time
}

// Tag is a label a namespace offers.
type Tag struct {
	Name      string
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// ResourceType is a kind of resource namespaces apply to. Types created by
// loading definitions are protected; those created through the API are
// not (Glance's db_load_metadefs and association create do the same).
type ResourceType struct {
	Name      string
	Protected bool
	CreatedAt time.Time
	UpdatedAt *time.Time
}

// Definition is a namespace with everything in it: what a definition file
// holds, what a namespace create may carry and what show answers. A nil
// slice means "not given", an empty one "given and empty"; Glance's create
// answer tells the two apart.
type Definition struct {
	Namespace
	Associations []Association
	Properties   []Property
	Objects      []Object
	Tags         []Tag
}

// Part names one kind of namespace content, for the calls that delete all
// of a kind at once.
type Part string

const (
	PartObjects    Part = "objects"
	PartProperties Part = "properties"
	PartTags       Part = "tags"
)

func ptr[T any](v T) *T { return &v }

// str returns *p, or "" for nil.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
