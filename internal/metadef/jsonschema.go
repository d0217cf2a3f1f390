package metadef

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// A small JSON-schema validator for the keywords Glance's metadef schemas
// use (type, enum, required, properties, additionalProperties, items,
// $ref, allOf, min/max, min/maxLength, min/maxItems, uniqueItems and the
// regex format). It reports what Python's jsonschema.validate reports:
// the best match among all errors (the one nearest the top of the
// document, first in schema order on a tie), worded as jsonschema words
// it, with the paths of the schema keyword and of the offending part of
// the document. The schema dump Glance appends is left out.

// schemaViolation is one failed keyword.
type schemaViolation struct {
	msg        string
	keyword    string
	schemaPath []any // keys and indexes, the keyword last
	path       []any // where in the document
	instance   any
}

type schemaChecker struct {
	root *object
	errs []schemaViolation
}

// validateSchema checks doc against the schema named name and returns
// Glance's 400 for the best-matching violation, or nil.
func validateSchema(name string, schema *object, doc any) error {
	c := &schemaChecker{root: schema}
	c.check(doc, schema, nil, nil)
	if len(c.errs) == 0 {
		return nil
	}
	best := c.errs[0]
	for _, e := range c.errs[1:] {
		if len(e.path) < len(best.path) {
			best = e
		}
	}
	return newError(ErrInvalid, "Provided object does not match schema '%s': %s\n\nFailed validating %s in %s\n\nOn %s:\n    %s",
		name, best.msg, pyQuote(best.keyword), formatIndex("schema", best.schemaPath[:len(best.schemaPath)-1]),
		formatIndex("instance", best.path), pyRepr(best.instance))
}

func formatIndex(base string, path []any) string {
	var b strings.Builder
	b.WriteString(base)
	for _, p := range path {
		b.WriteByte('[')
		switch x := p.(type) {
		case string:
			b.WriteString(pyQuote(x))
		default:
			fmt.Fprint(&b, x)
		}
		b.WriteByte(']')
	}
	return b.String()
}

func extend(path []any, elems ...any) []any {
	return append(append(make([]any, 0, len(path)+len(elems)), path...), elems...)
}

func (c *schemaChecker) fail(keyword string, spath, path []any, inst any, format string, args ...any) {
	c.errs = append(c.errs, schemaViolation{msg: fmt.Sprintf(format, args...), keyword: keyword,
		schemaPath: extend(spath, keyword), path: path, instance: inst})
}

// check applies every keyword of sch to inst, in the schema's key order.
func (c *schemaChecker) check(inst any, sch *object, spath, path []any) {
	for _, kw := range sch.keys {
		val := sch.vals[kw]
		switch kw {
		case "$ref":
			if target := c.resolve(val); target != nil {
				c.check(inst, target, spath, path) // jsonschema leaves $ref out of the path
			}
		case "allOf":
			subs, _ := val.([]any)
			for i, sub := range subs {
				if s, ok := sub.(*object); ok {
					c.check(inst, s, extend(spath, "allOf", i), path)
				}
			}
		case "type":
			c.checkType(inst, val, spath, path)
		case "enum":
			list, _ := val.([]any)
			found := false
			for _, e := range list {
				if jsonEqual(inst, e) {
					found = true
					break
				}
			}
			if !found {
				c.fail(kw, spath, path, inst, "%s is not one of %s", pyRepr(inst), pyRepr(list))
			}
		case "maxLength", "minLength":
			s, ok := inst.(string)
			limit, lok := intValue(val)
			if !ok || !lok {
				continue
			}
			n := int64(utf8.RuneCountInString(s))
			if kw == "maxLength" && n > limit {
				c.fail(kw, spath, path, inst, "%s is too long", pyRepr(inst))
			} else if kw == "minLength" && n < limit {
				c.fail(kw, spath, path, inst, "%s is too short", pyRepr(inst))
			}
		case "minimum", "maximum":
			n, ok := inst.(json.Number)
			bound, bok := val.(json.Number)
			if !ok || !bok {
				continue
			}
			cmp := compareNumbers(n, bound)
			if kw == "minimum" && cmp < 0 {
				c.fail(kw, spath, path, inst, "%s is less than the minimum of %s", pyRepr(inst), pyRepr(bound))
			} else if kw == "maximum" && cmp > 0 {
				c.fail(kw, spath, path, inst, "%s is greater than the maximum of %s", pyRepr(inst), pyRepr(bound))
			}
		case "minItems", "maxItems":
			list, ok := inst.([]any)
			limit, lok := intValue(val)
			if !ok || !lok {
				continue
			}
			if kw == "minItems" && int64(len(list)) < limit {
				c.fail(kw, spath, path, inst, "%s is too short", pyRepr(inst))
			} else if kw == "maxItems" && int64(len(list)) > limit {
				c.fail(kw, spath, path, inst, "%s is too long", pyRepr(inst))
			}
		case "uniqueItems":
			list, ok := inst.([]any)
			if on, _ := val.(bool); !ok || !on {
				continue
			}
			if !uniqueValues(list) {
				c.fail(kw, spath, path, inst, "%s has non-unique elements", pyRepr(inst))
			}
		case "required":
			o, ok := inst.(*object)
			names, _ := val.([]any)
			if !ok {
				continue
			}
			for _, n := range names {
				if name, _ := n.(string); !o.has(name) {
					c.fail(kw, spath, path, inst, "%s is a required property", pyQuote(name))
				}
			}
		case "properties":
			o, ok := inst.(*object)
			props, _ := val.(*object)
			if !ok || props == nil {
				continue
			}
			for _, name := range props.keys {
				sub, _ := props.vals[name].(*object)
				if v, has := o.get(name); has && sub != nil {
					c.check(v, sub, extend(spath, "properties", name), extend(path, name))
				}
			}
		case "additionalProperties":
			c.checkAdditional(inst, sch, val, spath, path)
		case "items":
			list, ok := inst.([]any)
			sub, sok := val.(*object)
			if !ok || !sok {
				continue
			}
			for i, e := range list {
				c.check(e, sub, extend(spath, "items"), extend(path, i))
			}
		case "format":
			s, ok := inst.(string)
			if f, _ := val.(string); ok && f == "regex" {
				if _, _, err := compilePattern(s); err != nil {
					c.fail(kw, spath, path, inst, "%s is not a %s", pyRepr(inst), pyQuote(f))
				}
			}
		}
	}
}

func (c *schemaChecker) checkAdditional(inst any, sch *object, val any, spath, path []any) {
	o, ok := inst.(*object)
	if !ok {
		return
	}
	props, _ := sch.vals["properties"].(*object)
	var extras []string
	for _, k := range o.keys {
		if props == nil || !props.has(k) {
			extras = append(extras, k)
		}
	}
	if len(extras) == 0 {
		return
	}
	switch x := val.(type) {
	case bool:
		if x {
			return
		}
		quoted := make([]string, len(extras))
		for i, e := range extras {
			quoted[i] = pyQuote(e)
		}
		verb := "was"
		if len(extras) > 1 {
			verb = "were"
		}
		c.fail("additionalProperties", spath, path, inst, "Additional properties are not allowed (%s %s unexpected)",
			strings.Join(quoted, ", "), verb)
	case *object:
		for _, k := range extras {
			c.check(o.vals[k], x, extend(spath, "additionalProperties"), extend(path, k))
		}
	}
}

func (c *schemaChecker) checkType(inst any, val any, spath, path []any) {
	var types []string
	switch x := val.(type) {
	case string:
		types = []string{x}
	case []any:
		for _, t := range x {
			if s, ok := t.(string); ok {
				types = append(types, s)
			}
		}
	}
	for _, t := range types {
		if isType(inst, t) {
			return
		}
	}
	quoted := make([]string, len(types))
	for i, t := range types {
		quoted[i] = pyQuote(t)
	}
	c.fail("type", spath, path, inst, "%s is not of type %s", pyRepr(inst), strings.Join(quoted, ", "))
}

// resolve follows a local reference (#/definitions/name).
func (c *schemaChecker) resolve(ref any) *object {
	s, _ := ref.(string)
	name, ok := strings.CutPrefix(s, "#/definitions/")
	if !ok {
		return nil
	}
	defs, _ := c.root.vals["definitions"].(*object)
	if defs == nil {
		return nil
	}
	target, _ := defs.vals[name].(*object)
	return target
}

func isType(v any, t string) bool {
	switch t {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "null":
		return v == nil
	case "object":
		_, ok := v.(*object)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "number":
		_, ok := v.(json.Number)
		return ok
	case "integer":
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		r, ok := new(big.Rat).SetString(n.String())
		return ok && r.IsInt()
	}
	return false
}

func intValue(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	return i, err == nil
}

// compareNumbers compares two JSON numbers exactly.
func compareNumbers(a, b json.Number) int {
	x, okx := new(big.Rat).SetString(a.String())
	y, oky := new(big.Rat).SetString(b.String())
	if !okx || !oky {
		return strings.Compare(a.String(), b.String())
	}
	return x.Cmp(y)
}

// jsonEqual compares decoded JSON values as jsonschema does: numbers by
// value, booleans apart from numbers, objects and arrays element-wise.
func jsonEqual(a, b any) bool {
	switch x := a.(type) {
	case json.Number:
		y, ok := b.(json.Number)
		return ok && compareNumbers(x, y) == 0
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !jsonEqual(x[i], y[i]) {
				return false
			}
		}
		return true
	case *object:
		y, ok := b.(*object)
		if !ok || len(x.keys) != len(y.keys) {
			return false
		}
		for _, k := range x.keys {
			yv, has := y.vals[k]
			if !has || !jsonEqual(x.vals[k], yv) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

func uniqueValues(list []any) bool {
	for i := range list {
		for j := i + 1; j < len(list); j++ {
			if jsonEqual(list[i], list[j]) {
				return false
			}
		}
	}
	return true
}

// perlOnly are constructs Python's re accepts and Go's RE2 does not
// (lookaround, backreferences, possessive and atomic groups).
var perlOnly = regexp.MustCompile(`\(\?[=!<>]|\(\?P=|\\[1-9]|\(\?>`)

// compilePattern compiles a property's pattern. A pattern Go cannot
// compile only because it uses Perl-only syntax is accepted unchecked
// (re is nil): Glance takes any Python regex, and catalogs written for it
// must load. Anything else that does not compile is an error.
func compilePattern(p string) (re *regexp.Regexp, checked bool, err error) {
	re, err = regexp.Compile(p)
	if err == nil {
		return re, true, nil
	}
	if perlOnly.MatchString(p) {
		return nil, false, nil
	}
	return nil, false, err
}
