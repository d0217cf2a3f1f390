package manager

import (
	"bytes"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestSchemaMatchesPublished reads the OSISM tool's yamale schema and
// checks that glint's rules name the same keys, mark the same ones
// optional and allow the same enum values.
func TestSchemaMatchesPublished(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/data/image-definitions/schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]map[string]string{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for name, body := range doc {
			fields := map[string]string{}
			switch b := body.(type) {
			case string:
				fields[name] = b
				name = "file"
			case map[string]any:
				for k, v := range b {
					fields[k] = v.(string)
				}
			}
			sections[name] = fields
		}
	}
	if len(sections) != 4 {
		t.Fatalf("schema.yaml sections: %v", sections)
	}
	ours := map[string]mapping{"file": fileSchema, "image": imageSchema, "meta": metaSchema, "versions": versionSchema}
	enumValues := regexp.MustCompile(`enum\(([^)]*)\)`)
	for section, fields := range sections {
		m, ok := ours[section]
		if !ok {
			t.Errorf("schema.yaml has section %q that glint does not know", section)
			continue
		}
		if got, want := sortedNames(m), sortedKeysAny(fields); !slices.Equal(got, want) {
			t.Errorf("%s: glint has keys %v, schema.yaml %v", section, got, want)
		}
		for key, expr := range fields {
			f, ok := m.field(key)
			if !ok {
				continue
			}
			if optional := strings.Contains(expr, "required=False"); optional != f.optional {
				t.Errorf("%s.%s: optional %v in glint, schema.yaml says %q", section, key, f.optional, expr)
			}
			match := enumValues.FindStringSubmatch(expr)
			if match == nil {
				continue
			}
			var want []string
			for _, v := range strings.Split(match[1], ",") {
				v = strings.TrimSpace(v)
				if v == "" || strings.HasPrefix(v, "required=") {
					continue
				}
				want = append(want, strings.Trim(v, `'"`))
			}
			got := enumOf(f.check)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s.%s: glint allows %v, schema.yaml %v", section, key, got, want)
			}
		}
	}
}

func sortedNames(m mapping) []string {
	names := m.names()
	slices.Sort(names)
	return names
}

func sortedKeysAny(m map[string]string) []string {
	return sortedKeys(m)
}

// enumOf is the values an enum check (or the enum inside an anyOf)
// allows, with null written None as in yamale.
func enumOf(c check) []string {
	switch e := c.(type) {
	case enum:
		out := slices.Clone(e.values)
		if e.null {
			out = append(out, "None")
		}
		return out
	case anyOf:
		for _, alt := range e {
			if vals := enumOf(alt); vals != nil {
				return vals
			}
		}
	}
	return nil
}
