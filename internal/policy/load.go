package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// readFile reads an operator's policy file: a mapping of rule name to rule,
// in YAML or JSON (oslo.policy reads both; JSON is tried when the file
// looks like JSON so its errors are JSON's). A rule is a string in the
// rule language or the old list-of-lists form.
func readFile(path string) (map[string]check, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	raw, err := decode(path, data)
	if err != nil {
		return nil, fmt.Errorf("policy file %s: %w", path, err)
	}
	rules := map[string]check{}
	var errs []error
	for _, name := range sortedKeys(raw) {
		c, err := parseValue(name, raw[name])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rules[name] = c
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("policy file %s:\n%w", path, errors.Join(errs...))
	}
	return rules, nil
}

func decode(path string, data []byte) (map[string]any, error) {
	raw := map[string]any{}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return raw, nil
	}
	if strings.EqualFold(filepath.Ext(path), ".json") || trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &raw); err != nil {
			return nil, fmt.Errorf("not valid JSON: %w", err)
		}
		return raw, nil
	}
	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("not valid YAML: %w", err)
	}
	switch d := doc.(type) {
	case nil:
		return raw, nil
	case map[string]any:
		return d, nil
	}
	return nil, errors.New("the file must be a mapping of rule names to rules")
}

func parseValue(name string, v any) (check, error) {
	switch v := v.(type) {
	case string:
		return parseRule(name, v)
	case []any:
		return parseList(name, v)
	case nil:
		// An empty YAML value ("rule:" with nothing after it) reads as
		// null; oslo treats a missing rule text as empty, i.e. always.
		return nil, &SyntaxError{Rule: name, Msg: `the rule has no value; write "" if it should always pass`}
	}
	return nil, &SyntaxError{Rule: name, Msg: fmt.Sprintf("the rule must be a string or a list, not %T", v)}
}

// validate rejects references to undefined rules and cycles, naming the
// rule where each problem is. oslo only logs these and then fails closed
// (or recurses without end), which turns a typo into a surprise outage.
func validate(rules map[string]check) error {
	var errs []error
	names := sortedKeys(rules)
	for _, name := range names {
		references(rules[name], func(ref string) {
			if _, ok := rules[ref]; !ok {
				errs = append(errs, fmt.Errorf("rule %q: refers to undefined rule %q", name, ref))
			}
		})
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var visit func(name string, path []string) error
	visit = func(name string, path []string) error {
		switch state[name] {
		case active:
			i := slices.Index(path, name)
			return fmt.Errorf("rule %q: refers to itself through %s", name, strings.Join(append(path[i:], name), " -> "))
		case done:
			return nil
		}
		state[name] = active
		var err error
		references(rules[name], func(ref string) {
			if err == nil {
				err = visit(ref, append(path, name))
			}
		})
		state[name] = done
		return err
	}
	for _, name := range names {
		if err := visit(name, nil); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
