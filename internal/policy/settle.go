package policy

import "github.com/glint-image/glint/internal/caller"

// Listing checks get_image on every row of a page, as Glance does. Most
// rule sets decide that from the caller alone (the Zed defaults let any
// caller read what the store lists; the new defaults turn on the caller's
// roles before any image attribute), so Settle evaluates a rule with the
// target unknown and tells whether the answer is already fixed. The
// service then skips building a target per row when it is.

// tri is a three-valued truth: an outcome, or "depends on the target".
type tri int8

const (
	no tri = iota
	yes
	unknown
)

func triOf(b bool) tri {
	if b {
		return yes
	}
	return no
}

// settle evaluates c where e.target is nil, meaning not known yet.
func settle(c check, e *evaluation) tri {
	switch c := c.(type) {
	case trueCheck:
		return yes
	case falseCheck:
		return no
	case notCheck:
		switch settle(c.inner, e) {
		case yes:
			return no
		case no:
			return yes
		}
		return unknown
	case andCheck:
		out := yes
		for _, sub := range c {
			switch settle(sub, e) {
			case no:
				return no
			case unknown:
				out = unknown
			}
		}
		return out
	case orCheck:
		out := no
		for _, sub := range c {
			switch settle(sub, e) {
			case yes:
				return yes
			case unknown:
				out = unknown
			}
		}
		return out
	case ruleCheck:
		r, ok := e.rules[c.name]
		if !ok {
			return no
		}
		return settle(r, e)
	case roleCheck:
		if c.role.readsTarget() {
			return unknown
		}
		return triOf(c.eval(e))
	case genericCheck:
		if c.match.readsTarget() {
			return unknown
		}
		return triOf(c.eval(e))
	}
	return unknown
}

func (t template) readsTarget() bool {
	for _, s := range t {
		if s.attr != "" {
			return true
		}
	}
	return false
}

// Settle reports whether action is allowed to p whatever the target, or
// denied whatever the target; settled is false when the target decides.
func (a *Authorizer) Settle(p caller.Principal, action string) (allowed, settled bool) {
	if !actions[action] {
		return false, true
	}
	e := &evaluation{rules: a.rules, creds: a.credentials(p)}
	out := settle(ruleCheck{action}, e)
	if guard := a.guards[action]; guard != "" && out != no {
		switch settle(ruleCheck{guard}, e) {
		case no:
			out = no
		case unknown:
			out = unknown
		}
	}
	return out == yes, out != unknown
}
