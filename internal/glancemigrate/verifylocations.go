package glancemigrate

import (
	"encoding/json"
	"fmt"
	"slices"
)

// CompareLocations compares an image's locations as Glance's and
// glint's APIs show them (the "locations" field, nil when the API hides
// it), one by one in order: each one's URL and metadata. A location in
// one of copiedStores (its metadata's "store") has its URL named by
// glint's copy, so only its metadata is compared. It returns how many
// locations were compared and the differences as (field, Glance's
// value, glint's value).
func CompareLocations(g, l any, copiedStores []string) (int, [][3]string) {
	if g == nil && l == nil {
		return 0, nil // neither API shows locations
	}
	gl, gok := g.([]any)
	ll, lok := l.([]any)
	if !gok || !lok {
		return 0, [][3]string{{"locations", shown(g), shown(l)}}
	}
	var out [][3]string
	if len(gl) != len(ll) {
		out = append(out, [3]string{"locations", fmt.Sprintf("%d locations", len(gl)), fmt.Sprintf("%d locations", len(ll))})
	}
	n := min(len(gl), len(ll))
	for i := range n {
		ge, _ := gl[i].(map[string]any)
		le, _ := ll[i].(map[string]any)
		field := fmt.Sprintf("locations[%d]", i)
		gm, lm := canonical(ge["metadata"], nil), canonical(le["metadata"], nil)
		if gm != lm {
			out = append(out, [3]string{field + ".metadata", gm, lm})
		}
		meta, _ := ge["metadata"].(map[string]any)
		store, _ := meta["store"].(string)
		if store != "" && slices.Contains(copiedStores, store) {
			continue
		}
		gu, lu := canonical(ge["url"], nil), canonical(le["url"], nil)
		if gu != lu {
			out = append(out, [3]string{field + ".url", gu, lu})
		}
	}
	return n, out
}

// shown renders a locations field that one API shows and the other does
// not (show_multiple_locations differs between them).
func shown(v any) string {
	if v == nil {
		return "(absent)"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
