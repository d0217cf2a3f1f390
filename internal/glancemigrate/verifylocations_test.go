package glancemigrate_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/glancemigrate"
)

func locs(t *testing.T, s string) any {
	t.Helper()
	if s == "" {
		return nil
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestCompareLocations: locations compare one by one, URL and metadata;
// a copied store's URL is glint's own and is not compared, its metadata
// is; an API that hides the locations differs from one that shows them.
func TestCompareLocations(t *testing.T) {
	const fast = `{"url":"file:///var/lib/glance/fast/i1","metadata":{"store":"fast"}}`
	const slow = `{"url":"file:///var/lib/glance/slow/i1","metadata":{"store":"slow","k":"v"}}`
	const slowCopy = `{"url":"file:///var/lib/glint/stores/slow/blobs/i1","metadata":{"k":"v","store":"slow"}}`
	for _, c := range []struct {
		name, g, l string
		copied     []string
		n          int
		want       string
	}{
		{"same", "[" + fast + "," + slow + "]", "[" + fast + "," + slow + "]", nil, 2, ""},
		{"copied store", "[" + fast + "," + slow + "]", "[" + fast + "," + slowCopy + "]", []string{"slow"}, 2, ""},
		{"copied but not said", "[" + slow + "]", "[" + slowCopy + "]", nil, 1,
			`locations[0].url | "file:///var/lib/glance/slow/i1" | "file:///var/lib/glint/stores/slow/blobs/i1"`},
		{"adopted elsewhere", "[" + fast + "]", `[{"url":"file:///other/i1","metadata":{"store":"fast"}}]`, []string{"slow"}, 1,
			`locations[0].url | "file:///var/lib/glance/fast/i1" | "file:///other/i1"`},
		{"metadata of a copy", "[" + slow + "]", `[{"url":"file:///x","metadata":{"store":"slow"}}]`, []string{"slow"}, 1,
			`locations[0].metadata | {"k":"v","store":"slow"} | {"store":"slow"}`},
		{"one missing", "[" + fast + "," + slow + "]", "[" + fast + "]", nil, 1, `locations | 2 locations | 1 locations`},
		{"hidden by one", "[" + fast + "]", "", nil, 0, `locations | [{"metadata":{"store":"fast"},"url":"file:///var/lib/glance/fast/i1"}] | (absent)`},
		{"hidden by both", "", "", nil, 0, ""},
		{"none yet", "[]", "[]", nil, 0, ""},
	} {
		n, d := glancemigrate.CompareLocations(locs(t, c.g), locs(t, c.l), c.copied)
		var got []string
		for _, x := range d {
			got = append(got, strings.Join(x[:], " | "))
		}
		if n != c.n || strings.Join(got, "; ") != c.want {
			t.Errorf("%s: %d compared, %q; want %d, %q", c.name, n, got, c.n, c.want)
		}
	}
}
