package imagecli

import (
	"context"
	"maps"
	"slices"

	"github.com/spf13/cobra"
)

func (a *app) showCommand() *cobra.Command {
	var o output
	var humanReadable bool
	cmd := &cobra.Command{
		Use:   "show IMAGE",
		Short: "Display image details",
		Args:  cobra.ExactArgs(1),
	}
	addOutputFlags(cmd, &o)
	cmd.Flags().BoolVar(&humanReadable, "human-readable", false, "print image size in a human-friendly format")
	cmd.RunE = a.imageAction(o.check, func(ctx context.Context, s *session, rec record) error {
		fields, values := formatImage(rec, humanReadable)
		return o.one(a.out, fields, values)
	})
	return cmd
}

// coreFields are the image attributes openstackclient shows as fields of
// their own; every other attribute is listed under "properties".
var coreFields = map[string]bool{
	"status": true, "name": true, "container_format": true, "created_at": true, "size": true,
	"disk_format": true, "updated_at": true, "visibility": true, "min_disk": true, "protected": true,
	"id": true, "file": true, "checksum": true, "owner": true, "virtual_size": true, "min_ram": true,
	"schema": true,
}

// formatImage is openstackclient's _format_image: the core attributes,
// "tags" as a list, the rest folded into "properties", null values left
// out, fields sorted by name.
func formatImage(rec record, humanReadable bool) ([]string, []any) {
	info := map[string]any{}
	props := dictColumn{}
	for k, v := range rec {
		switch {
		case v == nil, k == "tags", k == "self", k == "location":
			// self is the API's link to the record, not an attribute.
		case coreFields[k]:
			info[k] = v
		case k == "properties":
			if m, ok := v.(map[string]any); ok {
				maps.Copy(props, m)
			}
		default:
			props[k] = v
		}
	}
	if humanReadable {
		info["size"] = formatSize(rec["size"])
	}
	info["tags"] = tagList(rec)
	if len(props) > 0 {
		info["properties"] = props
	}
	fields := slices.Sorted(maps.Keys(info))
	values := make([]any, len(fields))
	for i, f := range fields {
		values[i] = info[f]
	}
	return fields, values
}

func tagList(rec record) listColumn {
	raw, _ := rec["tags"].([]any)
	tags := listColumn{}
	for _, t := range raw {
		if s, ok := t.(string); ok {
			tags = append(tags, s)
		}
	}
	return tags
}
