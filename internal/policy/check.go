package policy

import (
	"strings"
)

// check is one node of a parsed rule.
type check interface {
	eval(e *evaluation) bool
	// String prints the node back in the rule language.
	String() string
}

// evaluation is one decision: the rule set, who is asking and about what.
type evaluation struct {
	rules map[string]check
	creds *credentials
	// target is what %(name)s reads; with ofCreds set it is the caller's
	// string credentials instead (the is_admin check's target).
	target  map[string]string
	ofCreds bool
}

// attr is the target's attribute name, for a template.
func (e *evaluation) attr(name string) (string, bool) {
	if e.ofCreds {
		v, _, ok := e.creds.get(name)
		return v, ok && name != "roles"
	}
	v, ok := e.target[name]
	return v, ok
}

func (e *evaluation) rule(name string) bool {
	c, ok := e.rules[name]
	// Loading rejects references to undefined rules; failing closed here
	// only matters for a rule set built by hand in a test.
	return ok && c.eval(e)
}

type trueCheck struct{}

func (trueCheck) eval(*evaluation) bool { return true }
func (trueCheck) String() string        { return "@" }

type falseCheck struct{}

func (falseCheck) eval(*evaluation) bool { return false }
func (falseCheck) String() string        { return "!" }

type notCheck struct{ inner check }

func (c notCheck) eval(e *evaluation) bool { return !c.inner.eval(e) }
func (c notCheck) String() string          { return "not " + c.inner.String() }

type andCheck []check

func (c andCheck) eval(e *evaluation) bool {
	for _, sub := range c {
		if !sub.eval(e) {
			return false
		}
	}
	return true
}

func (c andCheck) String() string { return joinChecks(c, " and ") }

type orCheck []check

func (c orCheck) eval(e *evaluation) bool {
	for _, sub := range c {
		if sub.eval(e) {
			return true
		}
	}
	return false
}

func (c orCheck) String() string { return joinChecks(c, " or ") }

func joinChecks(cs []check, op string) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return "(" + strings.Join(parts, op) + ")"
}

type ruleCheck struct{ name string }

func (c ruleCheck) eval(e *evaluation) bool { return e.rule(c.name) }
func (c ruleCheck) String() string          { return "rule:" + c.name }

// roleCheck compares role names case-insensitively, as oslo does.
type roleCheck struct{ role template }

func (c roleCheck) eval(e *evaluation) bool {
	want, ok := c.role.fill(e)
	if !ok {
		return false
	}
	for _, r := range e.creds.roles {
		if strings.EqualFold(r, want) {
			return true
		}
	}
	return false
}

func (c roleCheck) String() string { return "role:" + c.role.String() }

// genericCheck is oslo's GenericCheck: the right side, filled from the
// target, must equal either the literal on the left or the caller
// credential the left side names (any element, for a list credential).
type genericCheck struct {
	text    string
	literal *string
	path    []string
	match   template
}

func (c genericCheck) eval(e *evaluation) bool {
	want, ok := c.match.fill(e)
	if !ok {
		return false
	}
	if c.literal != nil {
		return *c.literal == want
	}
	// Credentials are flat; a dotted path finds nothing, as oslo finds
	// nothing in a credential that is not a nested mapping.
	if len(c.path) != 1 {
		return false
	}
	v, list, ok := e.creds.get(c.path[0])
	if !ok {
		return false
	}
	if list == nil {
		return v == want
	}
	for _, s := range list {
		if s == want {
			return true
		}
	}
	return false
}

func (c genericCheck) String() string { return c.text }

// references calls fn with each rule name c refers to.
func references(c check, fn func(string)) {
	switch c := c.(type) {
	case ruleCheck:
		fn(c.name)
	case notCheck:
		references(c.inner, fn)
	case andCheck:
		for _, sub := range c {
			references(sub, fn)
		}
	case orCheck:
		for _, sub := range c {
			references(sub, fn)
		}
	}
}
