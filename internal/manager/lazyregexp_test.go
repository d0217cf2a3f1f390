package manager

import "testing"

// TestRegexpsCompile compiles every expression of the package, which the
// program no longer does when it starts: a broken one fails here, not on
// the first YAML file that needs it.
func TestRegexpsCompile(t *testing.T) {
	if len(lazyRegexps) < 10 {
		t.Fatalf("%d expressions registered; the package has more", len(lazyRegexps))
	}
	for _, l := range lazyRegexps {
		if l.get() == nil {
			t.Fatal("an expression compiled to nil")
		}
	}
}
