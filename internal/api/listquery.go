package api

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// Query keys with a meaning of their own; any other key filters on an extra
// property (images.py RequestDeserializer.index).
var (
	reservedListKeys = map[string]bool{"limit": true, "marker": true, "sort_key": true, "sort_dir": true, "sort": true,
		"tag": true, "visibility": true, "member_status": true, "os_hidden": true, "protected": true}
	// inFilterFields accept exact values and "in:a,b" lists.
	inFilterFields = map[string]bool{"name": true, "id": true, "status": true, "container_format": true, "disk_format": true}
	// equalityFields are other core columns filtered by plain equality.
	equalityFields = map[string]bool{"owner": true, "checksum": true, "os_hash_algo": true, "os_hash_value": true,
		"size": true, "virtual_size": true, "min_disk": true, "min_ram": true}
	rangeFields = map[string]string{"size_min": "size", "size_max": "size",
		"virtual_size_min": "virtual_size", "virtual_size_max": "virtual_size"}
	timeOps = map[string]bool{"gt": true, "gte": true, "lt": true, "lte": true, "eq": true, "neq": true}
)

// Bounds on one listing's filters: each tag and property filter is a
// subquery, and SQLite refuses a statement past its expression depth
// (a 500 before these caps). Glance has no such caps; no client sends
// more than a few.
const (
	maxTagFilters      = 64
	maxPropertyFilters = 64
	maxInValues        = 500
)

// parseListQuery turns GET /v2/images parameters into an image.ListQuery.
func parseListQuery(v url.Values) (image.ListQuery, error) {
	q := image.ListQuery{Limit: image.DefaultLimit, Marker: image.CanonicalID(v.Get("marker")), Tags: v["tag"],
		Visibility: v.Get("visibility"), MemberStatus: v.Get("member_status")}
	if len(q.Tags) > maxTagFilters {
		return q, badRequest(fmt.Sprintf("Too many tag filters: %d given, at most %d are allowed.", len(q.Tags), maxTagFilters))
	}
	if s, ok := first(v, "limit"); ok {
		n, err := parseLimit(s)
		if err != nil {
			return q, err
		}
		if n < 0 {
			return q, badRequest("limit param must be positive")
		}
		q.Limit = n
	}
	var err error
	if q.Sort, err = parseSort(v); err != nil {
		return q, err
	}
	if q.Hidden, err = parseBool(v, "os_hidden"); err != nil {
		return q, err
	}
	if q.Protected, err = parseBool(v, "protected"); err != nil {
		return q, err
	}
	for key, values := range v {
		if reservedListKeys[key] {
			continue
		}
		if err := addFilter(&q, key, values[0]); err != nil {
			return q, err
		}
	}
	if len(q.Properties) > maxPropertyFilters {
		return q, badRequest(fmt.Sprintf("Too many property filters: %d given, at most %d are allowed.", len(q.Properties), maxPropertyFilters))
	}
	return q, nil
}

func addFilter(q *image.ListQuery, key, value string) error {
	switch {
	case key == "changes-since":
		return badRequest("The parameter changes-since is not supported by the v2 API.")
	case inFilterFields[key]:
		f := image.Filter{Field: key, Op: "eq", Values: []string{value}}
		if key == "id" {
			f.Values[0] = image.CanonicalID(value)
		}
		if op, rest, ok := strings.Cut(value, ":"); ok && op == "in" {
			f.Op, f.Values = "in", splitInList(rest)
			if len(f.Values) > maxInValues {
				return badRequest(fmt.Sprintf("Too many values in the %s filter: %d given, at most %d are allowed.", key, len(f.Values), maxInValues))
			}
			if key == "id" {
				for i, v := range f.Values {
					f.Values[i] = image.CanonicalID(v)
				}
			}
		}
		q.Filters = append(q.Filters, f)
	case equalityFields[key]:
		if err := checkInt(key, value); err != nil {
			return err
		}
		q.Filters = append(q.Filters, image.Filter{Field: key, Op: "eq", Values: []string{value}})
	case rangeFields[key] != "":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return badRequest("Invalid value for " + key + ": " + value + " is not an integer.")
		}
		op := "gte"
		if strings.HasSuffix(key, "_max") {
			op = "lte"
		}
		q.Filters = append(q.Filters, image.Filter{Field: rangeFields[key], Op: op, Values: []string{value}})
	case key == "created_at" || key == "updated_at":
		f, err := timeFilter(key, value)
		if err != nil {
			return err
		}
		q.Filters = append(q.Filters, f)
	default:
		if q.Properties == nil {
			q.Properties = map[string]string{}
		}
		q.Properties[key] = value
	}
	return nil
}

func checkInt(key, value string) error {
	switch key {
	case "size", "virtual_size", "min_disk", "min_ram":
		if _, err := strconv.ParseInt(value, 10, 64); err != nil {
			return badRequest("Invalid value for " + key + ": " + value + " is not an integer.")
		}
	}
	return nil
}

// timeFilter reads "op:2024-05-01T10:00:00Z" (op defaults to eq).
func timeFilter(key, value string) (image.Filter, error) {
	op, ts := "eq", value
	if o, rest, ok := strings.Cut(value, ":"); ok && timeOps[o] {
		op, ts = o, rest
	}
	t, err := parseTime(ts)
	if err != nil {
		return image.Filter{}, badRequest("Unable to filter on a unknown operator or an invalid time: " + value)
	}
	return image.Filter{Field: key, Op: op, Values: []string{t.UTC().Format(time.RFC3339Nano)}}, nil
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, strconv.ErrSyntax
}

// splitInList splits an "in:" list on commas, honouring double quotes
// around values that contain commas.
func splitInList(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	return append(out, cur.String())
}

// parseSort reads either sort_key/sort_dir (repeatable) or
// sort=k1:dir,k2 (default direction desc); the two styles do not mix.
func parseSort(v url.Values) ([]image.SortKey, error) {
	keys, dirs := v["sort_key"], v["sort_dir"]
	if s, ok := first(v, "sort"); ok {
		if len(keys) > 0 || len(dirs) > 0 {
			return nil, badRequest("The 'sort' parameter cannot be used together with 'sort_key' or 'sort_dir'.")
		}
		var out []image.SortKey
		for _, part := range strings.Split(s, ",") {
			key, dir, _ := strings.Cut(strings.TrimSpace(part), ":")
			k, err := sortKey(key, dir)
			if err != nil {
				return nil, err
			}
			out = append(out, k)
		}
		return out, nil
	}
	if len(dirs) > 1 && len(dirs) != len(keys) {
		return nil, badRequest("Number of sort dirs does not match the number of sort keys")
	}
	var out []image.SortKey
	for i, key := range keys {
		dir := ""
		switch {
		case len(dirs) == 1:
			dir = dirs[0]
		case len(dirs) > 1:
			dir = dirs[i]
		}
		k, err := sortKey(key, dir)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	if len(keys) == 0 && len(dirs) == 1 {
		k, err := sortKey("created_at", dirs[0])
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, nil
}

func sortKey(key, dir string) (image.SortKey, error) {
	valid := false
	for _, k := range image.SortKeys {
		valid = valid || k == key
	}
	if !valid {
		return image.SortKey{}, image.InvalidSortKey(key)
	}
	switch dir {
	case "", "desc":
		return image.SortKey{Key: key, Desc: true}, nil
	case "asc":
		return image.SortKey{Key: key}, nil
	}
	return image.SortKey{}, badRequest("Invalid sort direction: " + dir + ". It must be one of the following: asc, desc.")
}

func parseBool(v url.Values, key string) (*bool, error) {
	s, ok := first(v, key)
	if !ok {
		return nil, nil
	}
	switch strings.ToLower(s) {
	case "true":
		b := true
		return &b, nil
	case "false":
		b := false
		return &b, nil
	}
	return nil, badRequest("Invalid value '" + s + "' for parameter '" + key + "': it must be true or false.")
}

func first(v url.Values, key string) (string, bool) {
	values, ok := v[key]
	if !ok || len(values) == 0 {
		return "", false
	}
	return values[0], true
}

// firstLink is the listing URL without its marker; nextLink adds the marker
// of the page's last image, after the other parameters.
func firstLink(v url.Values) string { return "/v2/images" + encodeWithout(v, "marker") }

func nextLink(v url.Values, marker string) string {
	q := encodeWithout(v, "marker")
	sep := "?"
	if q != "" {
		sep = "&"
	}
	return "/v2/images" + q + sep + "marker=" + url.QueryEscape(marker)
}

func encodeWithout(v url.Values, drop string) string {
	c := url.Values{}
	for k, vals := range v {
		if k != drop {
			c[k] = vals
		}
	}
	if len(c) == 0 {
		return ""
	}
	return "?" + c.Encode()
}
