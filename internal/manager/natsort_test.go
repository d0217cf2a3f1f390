package manager

import (
	"slices"
	"strings"
	"testing"
)

// TestNaturalOrder compares with what Python's natsort 8.0.2 (Debian's
// python3-natsort, the tool's sort) gives for the same lists.
func TestNaturalOrder(t *testing.T) {
	cases := []struct{ in, want string }{
		{"1877.10|1877.7|1592.14|1877.1", "1592.14|1877.1|1877.7|1877.10"},
		{"20240416|latest|20240101", "20240101|20240416|latest"},
		{"0.6.3|0.6.10|0.6.2", "0.6.2|0.6.3|0.6.10"},
		{"Ubuntu 24.04|Ubuntu 24.04 (20240416)|Ubuntu 24.04 (20240501)|Ubuntu 22.04|Ubuntu 24.04 Minimal",
			"Ubuntu 22.04|Ubuntu 24.04|Ubuntu 24.04 (20240416)|Ubuntu 24.04 (20240501)|Ubuntu 24.04 Minimal"},
		{"a||1|a1|a01|a1b|A|_x|24.04|24.4|1.0.0-rc1|1.0.0|1.0.0.1|-1|x-2|x-10",
			"|1|1.0.0|1.0.0-rc1|1.0.0.1|24.04|24.4|-1|A|_x|a|a1|a01|a1b|x-2|x-10"},
	}
	for _, c := range cases {
		got := strings.Split(c.in, "|")
		sortNatural(got, func(s string) string { return s })
		if want := strings.Split(c.want, "|"); !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", c.in, got, want)
		}
	}
}
