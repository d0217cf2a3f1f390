package api

import (
	"net/http"

	"github.com/glint-image/glint/internal/image"
)

// The JSON schemas clients fetch from /v2/schemas/*. python-glanceclient
// validates against the image schema, so its property names, types, enums
// and patterns follow Glance's (glance/api/v2/images.py
// get_base_properties and etc/schema-image.json); the descriptions are ours.

func str(desc string) map[string]any { return map[string]any{"type": "string", "description": desc} }

func readOnlyProp(typ any, desc string) map[string]any {
	return map[string]any{"type": typ, "readOnly": true, "description": desc}
}

func enumOf(values []string) []any {
	out := []any{nil}
	for _, v := range values {
		out = append(out, v)
	}
	return out
}

const uuidRegexp = `^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$`

func imageSchema() map[string]any {
	nullStr := []string{"null", "string"}
	nullInt := []string{"null", "integer"}
	props := map[string]any{
		"id":         map[string]any{"type": "string", "pattern": uuidRegexp, "description": "Unique identifier of the image."},
		"name":       map[string]any{"type": nullStr, "maxLength": 255, "description": "Human-readable name; need not be unique."},
		"status":     map[string]any{"type": "string", "readOnly": true, "description": "Lifecycle state of the image.", "enum": []string{"queued", "saving", "active", "killed", "deleted", "uploading", "importing", "pending_delete", "deactivated"}},
		"visibility": map[string]any{"type": "string", "description": "Who may see the image.", "enum": []string{"community", "public", "private", "shared"}},
		"protected":  map[string]any{"type": "boolean", "description": "When true the image cannot be deleted."},
		"os_hidden":  map[string]any{"type": "boolean", "description": "When true the image is left out of default listings."},
		"checksum":   map[string]any{"type": nullStr, "readOnly": true, "maxLength": 32, "description": "MD5 digest of the image data."},
		"os_hash_algo": map[string]any{"type": nullStr, "readOnly": true, "maxLength": 64,
			"description": "Algorithm of os_hash_value."},
		"os_hash_value": map[string]any{"type": nullStr, "readOnly": true, "maxLength": 128,
			"description": "Hex digest of the image data with os_hash_algo."},
		"owner":            map[string]any{"type": nullStr, "maxLength": 255, "description": "Project that owns the image."},
		"size":             readOnlyProp(nullInt, "Size of the image data in bytes."),
		"virtual_size":     readOnlyProp(nullInt, "Size of the disk the image expands to, in bytes."),
		"container_format": map[string]any{"type": nullStr, "enum": enumOf(image.ContainerFormats), "description": "Container format of the image data."},
		"disk_format":      map[string]any{"type": nullStr, "enum": enumOf(image.DiskFormats), "description": "Disk format of the image data."},
		"created_at":       readOnlyProp("string", "When the image record was created."),
		"updated_at":       readOnlyProp("string", "When the image record last changed."),
		"tags": map[string]any{"type": "array", "description": "Free-form labels.",
			"items": map[string]any{"type": "string", "maxLength": 255}},
		"direct_url": readOnlyProp("string", "Location of the data in an external store, when exposed."),
		"min_ram":    map[string]any{"type": "integer", "description": "RAM in MB needed to boot the image."},
		"min_disk":   map[string]any{"type": "integer", "description": "Disk in GB needed to boot the image."},
		"self":       readOnlyProp("string", "Path of this image record."),
		"file":       readOnlyProp("string", "Path of this image's data."),
		"stores":     readOnlyProp("string", "Comma-separated stores holding the data, with several stores configured."),
		"schema":     readOnlyProp("string", "Path of this schema."),
		"locations": map[string]any{"type": "array", "description": "Where the image data is kept, when exposed.",
			"items": map[string]any{"type": "object", "required": []string{"url", "metadata"},
				"properties": map[string]any{
					"url":      map[string]any{"type": "string", "maxLength": 255},
					"metadata": map[string]any{"type": "object"},
				}}},
		// Operator properties of Glance's default schema-image.json.
		"kernel_id":                map[string]any{"type": nullStr, "pattern": uuidRegexp, "description": "Image to use as kernel for an AMI-style image.", "is_base": false},
		"ramdisk_id":               map[string]any{"type": nullStr, "pattern": uuidRegexp, "description": "Image to use as ramdisk for an AMI-style image.", "is_base": false},
		"instance_uuid":            withBase(str("Instance this image was taken from (informational).")),
		"architecture":             withBase(str("CPU architecture the image needs, e.g. x86_64.")),
		"os_distro":                withBase(str("Operating system distribution, e.g. ubuntu.")),
		"os_version":               withBase(str("Operating system version as its distributor names it.")),
		"description":              withBase(str("Free text describing the image.")),
		"cinder_encryption_key_id": withBase(str("Key manager id of the key for volumes created from this image.")),
		"cinder_encryption_key_deletion_policy": map[string]any{"type": "string", "is_base": false,
			"enum":        []string{"on_image_deletion", "do_not_delete"},
			"description": "Whether deleting the image also deletes cinder_encryption_key_id."},
	}
	return map[string]any{
		"name":                 "image",
		"properties":           props,
		"additionalProperties": map[string]any{"type": "string"},
		"links": []map[string]string{
			{"rel": "self", "href": "{self}"},
			{"rel": "enclosure", "href": "{file}"},
			{"rel": "describedby", "href": "{schema}"},
		},
	}
}

func withBase(m map[string]any) map[string]any { m["is_base"] = false; return m }

func memberSchema() map[string]any {
	return map[string]any{
		"name": "member",
		"properties": map[string]any{
			"member_id":  str("Project the image is shared with."),
			"image_id":   map[string]any{"type": "string", "pattern": uuidRegexp, "description": "The shared image."},
			"status":     map[string]any{"type": "string", "enum": []string{"pending", "accepted", "rejected"}, "description": "The member's answer to the share."},
			"created_at": str("When the share was made."),
			"updated_at": str("When the share last changed."),
			"schema":     readOnlyProp("string", "Path of this schema."),
		},
	}
}

// collection wraps an item schema the way Glance's CollectionSchema does.
func collection(name string, item map[string]any, extra map[string]any, links []map[string]string) map[string]any {
	props := map[string]any{
		name:     map[string]any{"type": "array", "items": item},
		"schema": map[string]any{"type": "string"},
	}
	for k, v := range extra {
		props[k] = v
	}
	s := map[string]any{"name": name, "properties": props}
	if links != nil {
		s["links"] = links
	}
	return s
}

func (h *Handler) schema(name string) func(http.ResponseWriter, *http.Request) error {
	var s map[string]any
	switch name {
	case "image":
		s = imageSchema()
	case "images":
		s = collection("images", imageSchema(),
			map[string]any{"first": map[string]any{"type": "string"}, "next": map[string]any{"type": "string"}},
			[]map[string]string{{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}})
	case "member":
		s = memberSchema()
	case "members":
		s = collection("members", memberSchema(), nil, nil)
	case "task":
		s = taskSchema(false)
	case "tasks":
		s = collection("tasks", taskSchema(true),
			map[string]any{"first": map[string]any{"type": "string"}, "next": map[string]any{"type": "string"}},
			[]map[string]string{{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"}, {"rel": "describedby", "href": "{schema}"}})
	}
	return func(w http.ResponseWriter, r *http.Request) error { return writeJSON(w, http.StatusOK, s) }
}
