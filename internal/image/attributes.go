package image

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// The limits Glance applies to one record (glance/common/config.py).
const (
	MaxStringLength = 255
	MaxProperties   = 128
	MaxTags         = 128
	MaxMembers      = 128
)

// readOnly attributes may never be sent by a client (403).
var readOnly = map[string]bool{
	"created_at": true, "updated_at": true, "status": true, "checksum": true,
	"size": true, "virtual_size": true, "os_hash_algo": true, "os_hash_value": true,
	"direct_url": true, "self": true, "file": true, "schema": true, "stores": true,
}

// reservedNames are extra-property names Glance keeps for itself (403).
var reservedNames = map[string]bool{"location": true, "deleted": true, "deleted_at": true}

const reservedPrefix = "os_glance"

// coreAttrs are the image's own attributes; everything else is an extra
// property. "id" and "locations" are core too but handled specially.
var coreAttrs = map[string]bool{
	"id": true, "name": true, "visibility": true, "protected": true, "os_hidden": true,
	"min_disk": true, "min_ram": true, "disk_format": true, "container_format": true,
	"owner": true, "tags": true, "locations": true,
}

// schemaProps are the operator properties of Glance's default image schema
// (etc/schema-image.json): extra properties with a declared shape.
var schemaProps = map[string]*regexp.Regexp{
	"kernel_id":                             uuidPattern,
	"ramdisk_id":                            uuidPattern,
	"instance_uuid":                         nil,
	"architecture":                          nil,
	"os_distro":                             nil,
	"os_version":                            nil,
	"description":                           nil,
	"cinder_encryption_key_id":              nil,
	"cinder_encryption_key_deletion_policy": nil,
}

var uuidPattern = regexp.MustCompile(`^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`)

// ValidUUID reports whether s is a UUID in Glance's accepted spelling.
func ValidUUID(s string) bool { return uuidPattern.MatchString(s) }

// CanonicalID is the one spelling of an image (or task) id: a UUID in
// lower case, so ids differing only in case name one image, as they do
// in Glance (whose UUIDs are compared without regard to case). Anything
// that is not a UUID is returned as it is and finds nothing.
func CanonicalID(id string) string {
	if ValidUUID(id) {
		return strings.ToLower(id)
	}
	return id
}

// checkWritable refuses read-only and reserved attribute names.
func checkWritable(name string) error {
	if readOnly[name] {
		return newError(ErrForbidden, "Attribute '%s' is read-only.", name)
	}
	if reservedNames[name] || strings.HasPrefix(name, reservedPrefix) {
		return newDetail(ErrForbidden, "Attribute '%s' is reserved.", name)
	}
	return nil
}

// setAttr validates value for attribute name and stores it on img. It is
// shared by create and update, so both enforce the same schema. Policy
// (who may set visibility or owner) is the caller's business.
func setAttr(img *Image, name string, value any) error {
	switch name {
	case "name":
		return setNullableString(&img.Name, name, value)
	case "owner":
		return setNullableString(&img.Owner, name, value)
	case "disk_format":
		return setFormat(&img.DiskFormat, name, value, DiskFormats, "Format of the disk")
	case "container_format":
		return setFormat(&img.ContainerFormat, name, value, ContainerFormats, "Format of the container")
	case "visibility":
		s, ok := value.(string)
		if !ok || !Visibility(s).Valid() {
			return schemaError(name, value, "is not one of ['community', 'public', 'private', 'shared']", "enum")
		}
		img.Visibility = Visibility(s)
	case "protected":
		b, ok := value.(bool)
		if !ok {
			return schemaError(name, value, "is not of type 'boolean'", "type")
		}
		img.Protected = b
	case "os_hidden":
		b, ok := value.(bool)
		if !ok {
			return schemaError(name, value, "is not of type 'boolean'", "type")
		}
		img.Hidden = b
	case "min_disk":
		return setSize(&img.MinDisk, name, value)
	case "min_ram":
		return setSize(&img.MinRAM, name, value)
	case "tags":
		return setTags(img, value)
	default:
		return setProperty(img, name, value)
	}
	return nil
}

func setNullableString(dst **string, name string, value any) error {
	if value == nil {
		*dst = nil
		return nil
	}
	s, ok := value.(string)
	if !ok {
		return schemaError(name, value, "is not of type 'null', 'string'", "type")
	}
	if len([]rune(s)) > MaxStringLength {
		return schemaError(name, value, "is too long", "maxLength")
	}
	*dst = &s
	return nil
}

func setFormat(dst **string, name string, value any, allowed []string, _ string) error {
	if value == nil {
		*dst = nil
		return nil
	}
	s, ok := value.(string)
	if !ok || !slices.Contains(allowed, s) {
		quoted := make([]string, 0, len(allowed)+1)
		quoted = append(quoted, "None")
		for _, a := range allowed {
			quoted = append(quoted, "'"+a+"'")
		}
		return schemaError(name, value, "is not one of ["+strings.Join(quoted, ", ")+"]", "enum")
	}
	*dst = &s
	return nil
}

// setSize accepts JSON integers (decoded as json.Number or float64 without a
// fraction) that are not negative.
func setSize(dst *int64, name string, value any) error {
	n, ok := asInt(value)
	if !ok {
		return schemaError(name, value, "is not of type 'integer'", "type")
	}
	if n < 0 {
		return newError(ErrInvalid, "Cannot be a negative value")
	}
	*dst = n
	return nil
}

func setTags(img *Image, value any) error {
	list, ok := value.([]any)
	if !ok {
		return schemaError("tags", value, "is not of type 'array'", "type")
	}
	tags := make([]string, 0, len(list))
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return schemaError("tags", v, "is not of type 'string'", "type")
		}
		if err := ValidTag(s); err != nil {
			return err
		}
		if !slices.Contains(tags, s) {
			tags = append(tags, s)
		}
	}
	img.Tags = tags
	return nil
}

// ValidTag checks one tag's length.
func ValidTag(tag string) error {
	if len([]rune(tag)) > MaxStringLength {
		return newError(ErrInvalid, "Provided object does not match schema 'image': '%s' is too long", truncate(tag))
	}
	return nil
}

// setProperty stores an extra property. Values are strings (the schema's
// additionalProperties); the schema's own operator properties may be null,
// which removes them.
func setProperty(img *Image, name string, value any) error {
	if len([]rune(name)) > MaxStringLength {
		return newError(ErrInvalid, "Custom property should not be greater than 255 characters.")
	}
	pattern, declared := schemaProps[name]
	if value == nil && declared {
		delete(img.Properties, name)
		return nil
	}
	s, ok := value.(string)
	if !ok {
		return schemaError(name, value, "is not of type 'string'", "type")
	}
	if pattern != nil && !pattern.MatchString(s) {
		return schemaError(name, value, "does not match '"+pattern.String()+"'", "pattern")
	}
	if name == "cinder_encryption_key_deletion_policy" && s != "on_image_deletion" && s != "do_not_delete" {
		return schemaError(name, value, "is not one of ['on_image_deletion', 'do_not_delete']", "enum")
	}
	if img.Properties == nil {
		img.Properties = map[string]string{}
	}
	img.Properties[name] = s
	return nil
}

// schemaError words a validation failure the way Glance's jsonschema
// messages read, so people and scripts see familiar text.
func schemaError(name string, value any, problem, validator string) error {
	return newError(ErrInvalid,
		"Provided object does not match schema 'image': %s %s\n\nFailed validating '%s' in schema['properties']['%s']",
		pyRepr(value), problem, validator, name)
}

// pyRepr renders a JSON value as Python would print it in such messages.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case string:
		return "'" + truncate(x) + "'"
	case []any:
		return "[...]"
	case map[string]any:
		return "{...}"
	default:
		return fmt.Sprint(x)
	}
}

func truncate(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "..."
	}
	return s
}

// asInt converts a decoded JSON number to an integer, refusing fractions
// and non-numbers. The API decodes with UseNumber, so json.Number is the
// usual case; float64 and int come from Go callers.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case interface{ String() string }:
		n, err := strconv.ParseInt(x.String(), 10, 64)
		return n, err == nil
	case float64:
		if x != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	case int:
		return int64(x), true
	case int64:
		return x, true
	}
	return 0, false
}
