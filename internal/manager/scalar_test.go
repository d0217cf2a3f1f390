package manager

import (
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestPyYAMLScalars checks that scalars are typed and printed as PyYAML
// 6.0 (the tool's reader) and Python's str() do; the expected values
// were produced by yaml.safe_load on Debian's python3-yaml.
func TestPyYAMLScalars(t *testing.T) {
	cases := []struct {
		text string
		kind scalarKind
		str  string
	}{
		{"yes", kindBool, "True"},
		{"Off", kindBool, "False"},
		{"20240416", kindInt, "20240416"},
		{"24.04", kindFloat, "24.04"},
		{"2024-04-16", kindDate, "2024-04-16"},
		{"2024-04-16 12:00:00Z", kindTimestamp, "2024-04-16 12:00:00+00:00"},
		{"2024-04-16T12:00:00.5+02:00", kindTimestamp, "2024-04-16 12:00:00.500000+02:00"},
		{"0o17", kindStr, "0o17"},
		{"017", kindInt, "15"},
		{"1:20", kindInt, "80"},
		{"1e3", kindStr, "1e3"},
		{".5", kindFloat, "0.5"},
		{"1_000", kindInt, "1000"},
		{"08", kindStr, "08"},
		{"'20240416'", kindStr, "20240416"},
		{"\"yes\"", kindStr, "yes"},
		{"x86_64", kindStr, "x86_64"},
	}
	for _, c := range cases {
		var doc yaml.Node
		if err := yaml.Unmarshal([]byte("v: "+c.text), &doc); err != nil {
			t.Fatal(err)
		}
		n := doc.Content[0].Content[1]
		if got := kindOf(n); got != c.kind {
			t.Errorf("%s: %s, want %s", c.text, got, c.kind)
		}
		if got, _ := pyString(n); got != c.str {
			t.Errorf("%s: str() %q, want %q", c.text, got, c.str)
		}
	}
	var doc yaml.Node
	yaml.Unmarshal([]byte("v: ~"), &doc)
	if _, ok := pyString(doc.Content[0].Content[1]); ok {
		t.Error("null is written as a property")
	}
}
