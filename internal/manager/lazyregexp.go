package manager

import (
	"regexp"
	"sync"
)

// lazyRegexp is a regular expression compiled on its first use. Every
// glint command links this package, and compiling its expressions when
// the program started cost each command about 2 ms, `glint serve` and
// `glint image list` alike.
type lazyRegexp struct {
	get func() *regexp.Regexp
}

// lazyRegexps are all the package's expressions, for the test that
// compiles each of them.
var lazyRegexps []lazyRegexp

// lazy registers expr for that test; call it only where the package's
// variables are declared, as it is not safe for concurrent use.
func lazy(expr string) lazyRegexp {
	l := lazyRegexp{get: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	lazyRegexps = append(lazyRegexps, l)
	return l
}

func (l lazyRegexp) MatchString(s string) bool { return l.get().MatchString(s) }

func (l lazyRegexp) FindStringSubmatch(s string) []string { return l.get().FindStringSubmatch(s) }
