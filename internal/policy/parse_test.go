package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseValid(t *testing.T) {
	cases := []struct {
		rule string
		want string // the tree printed back; precedence shows as parentheses
	}{
		{"", "@"},
		{"@", "@"},
		{"!", "!"},
		{"role:admin", "role:admin"},
		{"rule:default", "rule:default"},
		{"rule:glint:legacy_image_owner", "rule:glint:legacy_image_owner"},
		{"project_id:%(project_id)s", "project_id:%(project_id)s"},
		{"tenant:%(owner)s", "tenant:%(owner)s"},
		{"is_admin:True", "is_admin:True"},
		{"'community':%(visibility)s", "'community':%(visibility)s"},
		{"role:%(role_name)s", "role:%(role_name)s"},
		{"role:admin or role:member", "(role:admin or role:member)"},
		{"role:admin OR role:member AND role:reader", "(role:admin or (role:member and role:reader))"},
		{"role:a and role:b or role:c", "((role:a and role:b) or role:c)"},
		{"role:a or role:b and role:c or role:d", "(role:a or (role:b and role:c) or role:d)"},
		{"role:a and role:b and role:c", "(role:a and role:b and role:c)"},
		{"not role:a and role:b", "(not role:a and role:b)"},
		{"not (role:a and role:b)", "not (role:a and role:b)"},
		{"not not role:a", "not not role:a"},
		{"role:a or not role:b", "(role:a or not role:b)"},
		{"(role:a or role:b) and role:c", "((role:a or role:b) and role:c)"},
		{"((role:a))", "role:a"},
		{"(role:a or (role:b and (role:c)))", "(role:a or (role:b and role:c))"},
		{"  role:a\tand\nrole:b  ", "(role:a and role:b)"},
		{"role:admin or (role:member and project_id:%(project_id)s)", "(role:admin or (role:member and project_id:%(project_id)s))"},
		{"user_id:%(user_id)s and 100:%(min_ram)s", "(user_id:%(user_id)s and 100:%(min_ram)s)"},
		{"x:50%%", "x:50%%"},
	}
	for _, c := range cases {
		got, err := parseRule("r", c.rule)
		if err != nil {
			t.Errorf("%q: %v", c.rule, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("%q: parsed as %s, want %s", c.rule, got, c.want)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct {
		rule   string
		column int
		msg    string
	}{
		{"role:a and", 11, "ends where a check was expected"},
		{"or role:a", 1, `operator "or"`},
		{"role:a role:b", 8, "unexpected check"},
		{"(role:a or role:b", 1, "never closed"},
		{"role:a)", 7, `unexpected ")"`},
		{"()", 2, `expected a check, found ")"`},
		{"not", 4, "ends where a check was expected"},
		{"admin", 1, "not @, ! or kind:match"},
		{"role:a and 'quoted'", 12, "quoted string"},
		{"rule:", 1, "names no rule"},
		{"http://example.com/check", 1, "not supported"},
		{":%(owner)s", 1, "nothing before the colon"},
		{"project_id:%(project_id)d", 1, "%(name)s"},
		{"x:50%", 1, "lone %"},
		{"   ", 0, "only blanks"},
		{"role:a and (role:b or not)", 26, `expected a check, found ")"`},
	}
	for _, c := range cases {
		_, err := parseRule("my_rule", c.rule)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: want a syntax error, got %v", c.rule, err)
			continue
		}
		if se.Rule != "my_rule" || se.Column != c.column || !strings.Contains(se.Msg, c.msg) {
			t.Errorf("%q: got %q (column %d), want column %d and %q", c.rule, err, se.Column, c.column, c.msg)
		}
		if !strings.HasPrefix(err.Error(), `rule "my_rule": `) {
			t.Errorf("%q: message does not name the rule: %q", c.rule, err)
		}
	}
}

func TestParseList(t *testing.T) {
	cases := []struct {
		rule []any
		want string
	}{
		{[]any{}, "@"},
		{[]any{[]any{}}, "!"},
		{[]any{"role:admin"}, "role:admin"},
		{[]any{[]any{"role:admin"}}, "role:admin"},
		{[]any{[]any{"role:member", "project_id:%(project_id)s"}, []any{"role:admin"}},
			"((role:member and project_id:%(project_id)s) or role:admin)"},
	}
	for _, c := range cases {
		got, err := parseList("r", c.rule)
		if err != nil {
			t.Errorf("%v: %v", c.rule, err)
			continue
		}
		if got.String() != c.want {
			t.Errorf("%v: parsed as %s, want %s", c.rule, got, c.want)
		}
	}
	for _, bad := range [][]any{{42}, {[]any{"role:a", 1}}, {[]any{"nocolon"}}} {
		if _, err := parseList("r", bad); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}
