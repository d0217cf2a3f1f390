package imagecli

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

type listFlags struct {
	name, status, memberStatus, project, projectDomain string
	properties, tags                                   []string
	hidden, long                                       bool
	sort, marker                                       string
	limit                                              int
}

func (a *app) listCommand() *cobra.Command {
	var o output
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List available images",
		Args:  cobra.NoArgs,
	}
	addOutputFlags(cmd, &o)
	vis := addVisibilityFlags(cmd, true)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.properties, "property", nil, "filter output based on property, key=value (repeat for several)")
	fl.StringVar(&f.name, "name", "", "filter images based on name")
	fl.StringVar(&f.status, "status", "", "filter images based on status")
	fl.StringVar(&f.memberStatus, "member-status", "", "filter images based on member status: "+strings.Join(memberStatuses, ", "))
	fl.StringVar(&f.project, "project", "", "search by project (admin only) (name or ID)")
	fl.StringVar(&f.projectDomain, "project-domain", "", "domain the project belongs to (name or ID)")
	fl.StringArrayVar(&f.tags, "tag", nil, "filter images based on tag (repeat for several)")
	fl.BoolVar(&f.hidden, "hidden", false, "list hidden images")
	fl.BoolVar(&f.long, "long", false, "list additional fields in output")
	fl.StringVar(&f.sort, "sort", "name:asc", "sort output by selected keys and directions (asc or desc), comma separated")
	fl.IntVar(&f.limit, "limit", 0, "maximum number of images to get (one request, no paging)")
	fl.StringVar(&f.marker, "marker", "", "the last image of the previous page (name or ID)")
	completeChoices(cmd, "member-status", memberStatuses)
	cmd.RunE = a.action(func(ctx context.Context, _ []string) error {
		f.memberStatus = strings.ToLower(f.memberStatus)
		props, _, err := parseProperties(f.properties)
		if err == nil {
			err = o.check()
		}
		if err == nil {
			err = checkChoice("member-status", f.memberStatus, memberStatuses)
		}
		if err != nil {
			return err
		}
		keys, err := parseSort(f.sort)
		if err != nil {
			return err
		}
		recs, err := a.listImages(ctx, f, vis.value())
		if err != nil {
			return err
		}
		recs = slices.DeleteFunc(recs, func(r record) bool { return !hasProperties(r, props) })
		sortRecords(recs, keys)
		names, rows := imageRows(recs, f.long)
		return o.list(a.out, names, rows)
	})
	return cmd
}

func (a *app) listImages(ctx context.Context, f listFlags, visibility string) ([]record, error) {
	s, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	opts := images.ListOpts{Visibility: images.ImageVisibility(visibility), Name: f.name,
		Status: images.ImageStatus(f.status), MemberStatus: images.ImageMemberStatus(f.memberStatus),
		Tags: f.tags, Hidden: f.hidden, Limit: f.limit}
	if f.marker != "" {
		m, err := findImage(ctx, s.image, f.marker)
		if err != nil {
			return nil, err
		}
		opts.Marker = str(m["id"])
	}
	if f.project != "" {
		if opts.Owner, err = s.findProject(ctx, f.project, f.projectDomain); err != nil {
			return nil, err
		}
	}
	return listImages(ctx, s.image, opts, f.limit > 0)
}

// imageRows are openstackclient's columns for image list.
func imageRows(recs []record, long bool) ([]string, [][]any) {
	names := []string{"ID", "Name", "Status"}
	keys := []string{"id", "name", "status"}
	if long {
		names = []string{"ID", "Name", "Disk Format", "Container Format", "Size", "Checksum", "Status",
			"Visibility", "Protected", "Project", "Tags"}
		keys = []string{"id", "name", "disk_format", "container_format", "size", "checksum", "status",
			"visibility", "protected", "owner", "tags"}
	}
	rows := make([][]any, len(recs))
	for i, rec := range recs {
		row := make([]any, len(keys))
		for j, k := range keys {
			row[j] = rec[k]
			if k == "tags" {
				row[j] = tagList(rec)
			}
		}
		rows[i] = row
	}
	return names, rows
}

// hasProperties is openstackclient's client-side --property filter, so
// it works the same against every server.
func hasProperties(rec record, props map[string]string) bool {
	for k, want := range props {
		v, ok := rec[k]
		if nested, isMap := rec["properties"].(map[string]any); !ok && isMap {
			v, ok = nested[k]
		}
		if !ok || str(v) != want {
			return false
		}
	}
	return true
}

type sortKey struct {
	field string
	desc  bool
}

// sortAliases map openstacksdk's attribute names to the API's.
var sortAliases = map[string]string{"owner_id": "owner", "is_protected": "protected", "is_hidden": "os_hidden",
	"hash_algo": "os_hash_algo", "hash_value": "os_hash_value"}

func parseSort(s string) ([]sortKey, error) {
	var keys []sortKey
	for _, part := range strings.Split(s, ",") {
		field, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
		if field == "" {
			continue
		}
		if alias, ok := sortAliases[field]; ok {
			field = alias
		}
		switch strings.ToLower(dir) {
		case "", "asc":
			keys = append(keys, sortKey{field: field})
		case "desc":
			keys = append(keys, sortKey{field: field, desc: true})
		default:
			return nil, fmt.Errorf("argument --sort: unknown sort direction: %s", imageclient.EscapeText(dir))
		}
	}
	return keys, nil
}

// sortRecords sorts client-side, as openstackclient does, numbers by
// value and everything else by its text.
func sortRecords(recs []record, keys []sortKey) {
	slices.SortStableFunc(recs, func(x, y record) int {
		for _, k := range keys {
			c := compareValues(x[k.field], y[k.field])
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
}

func compareValues(x, y any) int {
	fx, xNum := x.(float64)
	fy, yNum := y.(float64)
	if xNum && yNum {
		return cmp.Compare(fx, fy)
	}
	return strings.Compare(sortText(x), sortText(y))
}

func sortText(v any) string {
	if f, ok := v.(float64); ok {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return pyStr(v)
}
