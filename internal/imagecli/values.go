package imagecli

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Values shown by the commands are JSON data (string, float64, bool, nil,
// []any, map[string]any) or one of openstackclient's formattable columns
// below. Tables print a column's human form; value and csv print Python's
// str() of its machine form; json and yaml print the machine form.

// listColumn is osc_lib's ListColumn: "a, b" (sorted) in a table.
type listColumn []string

// dictColumn is osc_lib's DictColumn: "k1='v1', k2='v2'" in a table.
type dictColumn map[string]any

// human is a value as a table cell shows it.
func human(v any) string {
	switch v := v.(type) {
	case listColumn:
		s := slices.Clone([]string(v))
		slices.Sort(s)
		return strings.Join(s, ", ")
	case dictColumn:
		return formatDict(v, "")
	}
	return pyStr(v)
}

// machine is a value as json and yaml print it.
func machine(v any) any {
	switch v := v.(type) {
	case listColumn:
		out := make([]any, len(v))
		for i, s := range v {
			out[i] = s
		}
		return out
	case dictColumn:
		return map[string]any(v)
	}
	return v
}

// formatDict is osc_lib's utils.format_dict: sorted keys, nested dicts
// flattened with dotted keys.
func formatDict(d map[string]any, prefix string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(d)) {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		if sub, ok := d[k].(map[string]any); ok {
			parts = append(parts, formatDict(sub, key))
			continue
		}
		parts = append(parts, key+"='"+pyStr(d[k])+"'")
	}
	return strings.Join(parts, ", ")
}

// pyStr is Python's str() of a JSON value, which is what openstackclient
// prints for plain values: True, None, ['a'], {'k': 'v'}.
func pyStr(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyRepr(machine(v))
}

func pyRepr(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		if v {
			return "True"
		}
		return "False"
	case string:
		return pyQuote(v)
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e18 {
			return strconv.FormatInt(int64(v), 10)
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(v)) {
			parts = append(parts, pyQuote(k)+": "+pyRepr(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// pyQuote is Python's repr() of a string: single quotes unless the
// string holds a single quote and no double quote.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// isNumber tells which cells a table aligns right, as cliff does for the
// int and float values of its first row.
func isNumber(v any) bool {
	switch v.(type) {
	case float64, int, int64:
		return true
	}
	return false
}

// formatSize is osc_lib's utils.format_size, for --human-readable.
func formatSize(v any) any {
	size, ok := v.(float64)
	if !ok {
		return v
	}
	suffixes := []string{"", "K", "M", "G", "T", "P", "E", "Z", "Y"}
	i := 0
	for size >= 1024 && i < len(suffixes)-1 {
		size /= 1024
		i++
	}
	s := strconv.FormatFloat(size, 'f', 1, 64)
	s = strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
	return s + suffixes[i]
}
