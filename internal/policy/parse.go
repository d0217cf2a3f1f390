package policy

import (
	"fmt"
	"strings"
	"unicode"
)

// The rule language is oslo.policy's. A rule is a boolean expression of
// checks joined by "and", "or" and "not" (case-insensitive) with
// parentheses; "not" binds tightest, then "and", then "or", which is what
// oslo's shift-reduce parser ends up computing (it rewrites "A or B and C"
// into "A or (B and C)"). A check is one whitespace-free word:
//
//	@  !                     always / never
//	rule:NAME                another rule
//	role:NAME                the caller holds role NAME (case-insensitive)
//	KIND:MATCH               generic: a caller credential (KIND, a dotted
//	                         path) or a literal ('text', True, 42) equals
//	                         MATCH after %(attr)s is filled from the target
//
// The empty string is "always". oslo fails closed on a rule it cannot
// parse and logs it; glint refuses to start instead, naming the rule and
// the column, because a silently dead rule is an outage found late.

// SyntaxError is a rule that does not parse.
type SyntaxError struct {
	Rule   string // the rule's name
	Column int    // 1-based, in the rule's text; 0 when not about a place
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("rule %q: column %d: %s", e.Rule, e.Column, e.Msg)
	}
	return fmt.Sprintf("rule %q: %s", e.Rule, e.Msg)
}

type tokenKind int

const (
	tokCheck tokenKind = iota
	tokAnd
	tokOr
	tokNot
	tokLParen
	tokRParen
	tokString
)

type token struct {
	kind tokenKind
	text string
	col  int
}

// tokenize splits a rule the way oslo's _parse_tokenize does: on
// whitespace, peeling leading "(" and trailing ")" off each word. A
// parenthesis inside a word (as in %(owner)s) stays part of the check.
func tokenize(s string) []token {
	var toks []token
	i := 0
	for i < len(s) {
		if isSpaceAt(s, i) {
			i++
			continue
		}
		start := i
		for i < len(s) && !isSpaceAt(s, i) {
			i++
		}
		toks = appendWord(toks, s[start:i], start+1)
	}
	return toks
}

func isSpaceAt(s string, i int) bool {
	return s[i] < 0x80 && unicode.IsSpace(rune(s[i]))
}

func appendWord(toks []token, w string, col int) []token {
	for strings.HasPrefix(w, "(") {
		toks = append(toks, token{tokLParen, "(", col})
		w, col = w[1:], col+1
	}
	if w == "" {
		return toks
	}
	clean := strings.TrimRight(w, ")")
	switch strings.ToLower(clean) {
	case "":
	case "and":
		toks = append(toks, token{tokAnd, clean, col})
	case "or":
		toks = append(toks, token{tokOr, clean, col})
	case "not":
		toks = append(toks, token{tokNot, clean, col})
	default:
		// oslo tests the quotes on the word before the trailing
		// parentheses are removed, so 'x') is a check, not a string.
		kind := tokCheck
		if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
			kind = tokString
		}
		toks = append(toks, token{kind, clean, col})
	}
	for i := len(clean); i < len(w); i++ {
		toks = append(toks, token{tokRParen, ")", col + i})
	}
	return toks
}

// parser is a recursive-descent parser over the tokens:
//
//	or   = and { "or" and }
//	and  = not { "and" not }
//	not  = "not" not | atom
//	atom = "(" or ")" | CHECK
type parser struct {
	rule string
	text string
	toks []token
	pos  int
}

// parseRule parses one rule's text. name is used in errors only.
func parseRule(name, text string) (check, error) {
	if text == "" {
		return trueCheck{}, nil
	}
	p := &parser{rule: name, text: text, toks: tokenize(text)}
	if len(p.toks) == 0 {
		return nil, &SyntaxError{Rule: name, Msg: `the rule is only blanks (oslo.policy reads that as "never"); write "" for always or "!" for never`}
	}
	c, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.toks) {
		return nil, p.errorf(p.toks[p.pos], "unexpected %s after a complete expression", describe(p.toks[p.pos]))
	}
	return c, nil
}

func (p *parser) peek() (token, bool) {
	if p.pos < len(p.toks) {
		return p.toks[p.pos], true
	}
	return token{}, false
}

func (p *parser) or() (check, error) {
	first, err := p.and()
	if err != nil {
		return nil, err
	}
	terms := []check{first}
	for t, ok := p.peek(); ok && t.kind == tokOr; t, ok = p.peek() {
		p.pos++
		next, err := p.and()
		if err != nil {
			return nil, err
		}
		terms = append(terms, next)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return orCheck(terms), nil
}

func (p *parser) and() (check, error) {
	first, err := p.not()
	if err != nil {
		return nil, err
	}
	terms := []check{first}
	for t, ok := p.peek(); ok && t.kind == tokAnd; t, ok = p.peek() {
		p.pos++
		next, err := p.not()
		if err != nil {
			return nil, err
		}
		terms = append(terms, next)
	}
	if len(terms) == 1 {
		return first, nil
	}
	return andCheck(terms), nil
}

func (p *parser) not() (check, error) {
	if t, ok := p.peek(); ok && t.kind == tokNot {
		p.pos++
		inner, err := p.not()
		if err != nil {
			return nil, err
		}
		return notCheck{inner}, nil
	}
	return p.atom()
}

func (p *parser) atom() (check, error) {
	t, ok := p.peek()
	if !ok {
		return nil, &SyntaxError{Rule: p.rule, Column: len(p.text) + 1, Msg: "the rule ends where a check was expected"}
	}
	p.pos++
	switch t.kind {
	case tokLParen:
		inner, err := p.or()
		if err != nil {
			return nil, err
		}
		if c, ok := p.peek(); !ok || c.kind != tokRParen {
			return nil, &SyntaxError{Rule: p.rule, Column: t.col, Msg: "this parenthesis is never closed"}
		}
		p.pos++
		return inner, nil
	case tokCheck:
		c, err := parseCheck(t.text)
		if err != nil {
			return nil, p.errorf(t, "%v", err)
		}
		return c, nil
	case tokString:
		return nil, p.errorf(t, "a quoted string %s is not a check (a literal goes before the colon: %s:%%(attr)s)", t.text, t.text)
	}
	return nil, p.errorf(t, "expected a check, found %s", describe(t))
}

func (p *parser) errorf(t token, format string, args ...any) error {
	return &SyntaxError{Rule: p.rule, Column: t.col, Msg: fmt.Sprintf(format, args...)}
}

func describe(t token) string {
	switch t.kind {
	case tokAnd, tokOr, tokNot:
		return fmt.Sprintf("operator %q", t.text)
	case tokLParen, tokRParen:
		return fmt.Sprintf("%q", t.text)
	}
	return fmt.Sprintf("check %q", t.text)
}

// parseCheck turns one word into a check (oslo's _parse_check).
func parseCheck(s string) (check, error) {
	switch s {
	case "@":
		return trueCheck{}, nil
	case "!":
		return falseCheck{}, nil
	}
	kind, match, ok := strings.Cut(s, ":")
	if !ok {
		return nil, fmt.Errorf("check %q is not @, ! or kind:match", s)
	}
	switch kind {
	case "rule":
		if match == "" {
			return nil, fmt.Errorf("check %q names no rule", s)
		}
		return ruleCheck{name: match}, nil
	case "http", "https":
		return nil, fmt.Errorf("check %q: remote %s checks are not supported", s, kind)
	}
	tmpl, err := parseTemplate(match)
	if err != nil {
		return nil, fmt.Errorf("check %q: %v", s, err)
	}
	if kind == "role" {
		return roleCheck{role: tmpl}, nil
	}
	if kind == "" {
		return nil, fmt.Errorf("check %q has nothing before the colon", s)
	}
	g := genericCheck{text: s, match: tmpl}
	if lit, ok := literal(kind); ok {
		g.literal = &lit
	} else {
		g.path = strings.Split(kind, ".")
	}
	return g, nil
}

// literal reads the left side of a generic check the way oslo's
// ast.literal_eval does for the forms that make sense there: a quoted
// string, True, False, None or an integer. It returns the value as Python's
// str() would print it.
func literal(kind string) (string, bool) {
	if n := len(kind); n >= 2 && (kind[0] == '\'' || kind[0] == '"') && kind[n-1] == kind[0] {
		return kind[1 : n-1], true
	}
	switch kind {
	case "True", "False", "None":
		return kind, true
	}
	digits := strings.TrimPrefix(kind, "-")
	if digits != "" && strings.Trim(digits, "0123456789") == "" && (digits == "0" || digits[0] != '0') {
		return kind, true
	}
	return "", false
}

// template is the right side of a check with its %(attr)s references
// split out, checked at load so evaluation cannot fail on it.
type template []segment

type segment struct {
	lit  string
	attr string // set for a %(attr)s reference
}

// parseTemplate accepts what Python's % operator accepts from a policy
// author in practice: %(name)s and %%. Anything else would raise in oslo at
// evaluation time, so it is a load error here.
func parseTemplate(s string) (template, error) {
	var out template
	var lit strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			lit.WriteByte(s[i])
			continue
		}
		rest := s[i+1:]
		switch {
		case strings.HasPrefix(rest, "%"):
			lit.WriteByte('%')
			i++
		case strings.HasPrefix(rest, "("):
			end := strings.Index(rest, ")")
			if end < 0 || end+1 >= len(rest) || rest[end+1] != 's' {
				return nil, fmt.Errorf("%q: a target reference must read %%(name)s", s)
			}
			if lit.Len() > 0 {
				out = append(out, segment{lit: lit.String()})
				lit.Reset()
			}
			out = append(out, segment{attr: rest[1:end]})
			i += end + 2
		default:
			return nil, fmt.Errorf("%q: a lone %% must be written %%%%", s)
		}
	}
	if lit.Len() > 0 || len(out) == 0 {
		out = append(out, segment{lit: lit.String()})
	}
	return out, nil
}

// fill expands the template against target; ok is false when it names an
// attribute the target lacks (oslo: KeyError, the check fails).
func (t template) fill(e *evaluation) (string, bool) {
	if len(t) == 1 {
		// A literal, or one attribute: no copy to build.
		if t[0].attr == "" {
			return t[0].lit, true
		}
		return e.attr(t[0].attr)
	}
	var b strings.Builder
	for _, s := range t {
		if s.attr == "" {
			b.WriteString(s.lit)
			continue
		}
		v, ok := e.attr(s.attr)
		if !ok {
			return "", false
		}
		b.WriteString(v)
	}
	return b.String(), true
}

func (t template) String() string {
	var b strings.Builder
	for _, s := range t {
		if s.attr != "" {
			b.WriteString("%(" + s.attr + ")s")
		} else {
			b.WriteString(strings.ReplaceAll(s.lit, "%", "%%"))
		}
	}
	return b.String()
}

// parseList reads the old list-of-lists form: the outer list is joined by
// "or", each inner list by "and", and every element is a single check.
func parseList(name string, rule []any) (check, error) {
	if len(rule) == 0 {
		return trueCheck{}, nil
	}
	var ors []check
	for i, inner := range rule {
		var words []any
		switch v := inner.(type) {
		case string:
			words = []any{v}
		case []any:
			words = v
		default:
			return nil, &SyntaxError{Rule: name, Msg: fmt.Sprintf("item %d of the list is neither a check nor a list of checks", i+1)}
		}
		if len(words) == 0 {
			continue
		}
		var ands []check
		for j, w := range words {
			s, ok := w.(string)
			if !ok {
				return nil, &SyntaxError{Rule: name, Msg: fmt.Sprintf("item %d.%d of the list is not a string", i+1, j+1)}
			}
			c, err := parseCheck(s)
			if err != nil {
				return nil, &SyntaxError{Rule: name, Msg: fmt.Sprintf("item %d.%d: %v", i+1, j+1, err)}
			}
			ands = append(ands, c)
		}
		if len(ands) == 1 {
			ors = append(ors, ands[0])
		} else {
			ors = append(ors, andCheck(ands))
		}
	}
	switch len(ors) {
	case 0:
		return falseCheck{}, nil
	case 1:
		return ors[0], nil
	}
	return orCheck(ors), nil
}
