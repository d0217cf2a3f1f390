package manager

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The OSISM tool reads definitions with PyYAML, which follows YAML 1.1:
// unquoted `yes` is a boolean, `20240416` an integer, `24.04` a float and
// `2024-04-16` a date. The schema's str() then refuses a version written
// as 20240416 without quotes. To accept exactly the files the tool
// accepts, scalars are typed here the way PyYAML's resolver types them,
// not the way yaml.v3 (YAML 1.2) would.

type scalarKind int

const (
	kindStr scalarKind = iota
	kindNull
	kindBool
	kindInt
	kindFloat
	kindDate      // a date without time
	kindTimestamp // a date with time
	kindMap
	kindList
)

func (k scalarKind) String() string {
	return [...]string{"a string", "null", "a boolean", "an integer", "a number", "a date", "a timestamp",
		"a mapping", "a list"}[k]
}

// PyYAML's implicit resolvers (yaml/resolver.py), in its order.
var (
	yamlBool  = lazy(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yamlFloat = lazy(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?` +
		`|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yamlInt = lazy(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+` +
		`|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yamlNull      = lazy(`^(?:~|null|Null|NULL|)$`)
	yamlDate      = lazy(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	yamlTimestamp = lazy(`^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})` +
		`(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?$`)
)

// kindOf types a node as PyYAML would.
func kindOf(n *yaml.Node) scalarKind {
	switch n.Kind {
	case yaml.MappingNode:
		return kindMap
	case yaml.SequenceNode:
		return kindList
	case yaml.AliasNode:
		return kindOf(n.Alias)
	}
	if n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return kindStr
	}
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.Tag {
		case "!!str":
			return kindStr
		case "!!int":
			return kindInt
		case "!!bool":
			return kindBool
		case "!!float":
			return kindFloat
		case "!!null":
			return kindNull
		}
	}
	v := n.Value
	switch {
	case yamlBool.MatchString(v):
		return kindBool
	case yamlFloat.MatchString(v):
		return kindFloat
	case yamlInt.MatchString(v):
		return kindInt
	case yamlNull.MatchString(v):
		return kindNull
	case yamlDate.MatchString(v):
		return kindDate
	case yamlTimestamp.MatchString(v):
		return kindTimestamp
	}
	return kindStr
}

// boolValue reads a node already known to be a boolean.
func boolValue(n *yaml.Node) bool {
	switch strings.ToLower(n.Value) {
	case "yes", "true", "on":
		return true
	}
	return false
}

// intValue reads a node already known to be an integer, in any of the
// YAML 1.1 notations (0x, 0b, leading-zero octal, base 60).
func intValue(n *yaml.Node) (int64, error) {
	s := strings.ReplaceAll(n.Value, "_", "")
	sign := int64(1)
	if s != "" && (s[0] == '-' || s[0] == '+') {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var v int64
	var err error
	switch {
	case strings.Contains(s, ":"):
		for _, part := range strings.Split(s, ":") {
			d, perr := strconv.ParseInt(part, 10, 64)
			if perr != nil {
				return 0, perr
			}
			v = v*60 + d
		}
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case len(s) > 1 && s[0] == '0':
		v, err = strconv.ParseInt(s[1:], 8, 64)
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	return sign * v, err
}

// pyString is the text Python's str() gives for the value of n: what the
// OSISM tool writes as an image property. ok is false for null, which the
// tool would write as the string "None"; glint leaves such keys unset
// instead (Nova would reject "None" as, say, hw_disk_bus).
func pyString(n *yaml.Node) (s string, ok bool) {
	if n.Kind == yaml.AliasNode {
		return pyString(n.Alias)
	}
	switch kindOf(n) {
	case kindNull:
		return "", false
	case kindBool:
		if boolValue(n) {
			return "True", true
		}
		return "False", true
	case kindInt:
		if v, err := intValue(n); err == nil {
			return strconv.FormatInt(v, 10), true
		}
	case kindFloat:
		return pyFloat(n.Value), true
	case kindDate:
		return n.Value, true
	case kindTimestamp:
		if t, ok := pyTimestamp(n.Value); ok {
			return t, true
		}
	case kindMap, kindList:
		return "", false
	}
	return n.Value, true
}

// pyFloat formats a YAML float as Python's repr does: shortest digits,
// always with a decimal point or exponent.
func pyFloat(text string) string {
	t := strings.ToLower(strings.ReplaceAll(text, "_", ""))
	switch strings.TrimLeft(t, "+-") {
	case ".inf":
		if strings.HasPrefix(t, "-") {
			return "-inf"
		}
		return "inf"
	case ".nan":
		return "nan"
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return text
	}
	if a := math.Abs(f); a != 0 && (a >= 1e16 || a < 1e-4) {
		return strconv.FormatFloat(f, 'e', -1, 64) // 1e+16, 1e-05: as Python
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

// pyTimestamp formats a YAML timestamp as str(datetime) does:
// "2024-04-16 12:00:00", with ".ffffff" and "+HH:MM" when present.
func pyTimestamp(text string) (string, bool) {
	m := yamlTimestamp.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	num := func(s string) int { v, _ := strconv.Atoi(s); return v }
	out := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", num(m[1]), num(m[2]), num(m[3]), num(m[4]), num(m[5]), num(m[6]))
	if frac := m[7]; frac != "" {
		frac = (frac + "000000")[:6]
		if frac != "000000" {
			out += "." + frac
		}
	}
	switch tz := m[8]; {
	case tz == "Z":
		out += "+00:00"
	case tz != "":
		h, mm, _ := strings.Cut(tz[1:], ":")
		out += fmt.Sprintf("%c%02d:%02d", tz[0], num(h), num(mm))
	}
	return out, true
}

// dateValue is the YYYY-MM-DD of a date or timestamp node, as Python's
// date.isoformat gives it for build_date.
func dateValue(n *yaml.Node) (string, bool) {
	switch kindOf(n) {
	case kindDate:
		if _, err := time.Parse(time.DateOnly, n.Value); err != nil {
			return "", false
		}
		return n.Value, true
	case kindTimestamp:
		m := yamlTimestamp.FindStringSubmatch(n.Value)
		num := func(s string) int { v, _ := strconv.Atoi(s); return v }
		return fmt.Sprintf("%04d-%02d-%02d", num(m[1]), num(m[2]), num(m[3])), true
	}
	return "", false
}
