package policy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newFromText loads a legacy-default Authorizer with a YAML policy file.
func newFromText(t *testing.T, yamlText string) *Authorizer {
	t.Helper()
	a, err := New(Options{File: writeFile(t, "policy.yaml", yamlText)})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadOverrides(t *testing.T) {
	files := map[string]string{
		"policy.yaml": `
# only admins may download
download_image: "role:admin"
"get_images": rule:default
`,
		"policy.json": `{"download_image": "role:admin", "get_images": "rule:default"}`,
		// JSON content under a YAML name is still read (as oslo does).
		"policy-json.yaml": `{"download_image": "role:admin"}`,
		"list.json":        `{"download_image": [["role:admin"]]}`,
	}
	for name, text := range files {
		a, err := New(Options{File: writeFile(t, name, text)})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ctx := context.Background()
		img := Target{ImageID: "i", Owner: "p-a", Visibility: "public"}
		if err := a.Allow(ctx, alice, "download_image", img); err == nil {
			t.Errorf("%s: owner may still download", name)
		}
		if err := a.Allow(ctx, root, "download_image", img); err != nil {
			t.Errorf("%s: admin may not download: %v", name, err)
		}
		// Rules the file leaves out keep their defaults.
		if err := a.Allow(ctx, alice, "publicize_image", img); err == nil {
			t.Errorf("%s: publicize_image lost its default", name)
		}
	}
}

func TestLoadEmptyFile(t *testing.T) {
	for _, text := range []string{"", "\n# nothing\n", "{}"} {
		if _, err := New(Options{File: writeFile(t, "p.yaml", text)}); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

// A legacy ownership check stays when the file relaxes the action's rule,
// as Glance's hard-coded check does; it goes only when overridden itself.
func TestLegacyGuardSurvivesOverride(t *testing.T) {
	ctx := context.Background()
	img := Target{ImageID: "i", Owner: "p-a", Visibility: "public"}
	a := newFromText(t, `modify_image: "@"`)
	if err := a.Allow(ctx, bob, "modify_image", img); err == nil || err.Error() != "You do not own this image" {
		t.Fatalf("other project modifies after modify_image @: %v", err)
	}
	a = newFromText(t, "modify_image: \"@\"\n\"glint:legacy_image_owner\": \"@\"\n")
	if err := a.Allow(ctx, bob, "modify_image", img); err != nil {
		t.Fatalf("guard override ignored: %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, text string
		want       []string
	}{
		{"p.yaml", `modify_image: "role:admin or"`, []string{`rule "modify_image"`, "column 14", "ends where a check was expected"}},
		{"p.yaml", `get_image: "rule:no_such_rule"`, []string{`rule "get_image"`, `undefined rule "no_such_rule"`}},
		{"p.yaml", "a: \"rule:b\"\nb: \"rule:a\"\n", []string{`rule "a"`, "a -> b -> a"}},
		{"p.yaml", `default: "rule:default"`, []string{`rule "default"`, "refers to itself"}},
		{"p.yaml", "get_image: 42\n", []string{`rule "get_image"`, "string or a list"}},
		{"p.yaml", "get_image:\n", []string{`rule "get_image"`, "no value"}},
		{"p.yaml", "- role:admin\n", []string{"mapping"}},
		{"p.yaml", "a: [unclosed\n", []string{"not valid YAML"}},
		{"p.yaml", "a: \"@\"\na: \"!\"\n", []string{"not valid YAML", "already defined"}},
		{"p.json", `{"get_image": "role:admin",}`, []string{"not valid JSON"}},
		{"p.json", `{"x": "role:a and", "y": "bogus"}`, []string{`rule "x"`, `rule "y"`}},
	}
	for _, c := range cases {
		path := writeFile(t, c.name, c.text)
		_, err := New(Options{File: path})
		if err == nil {
			t.Errorf("%q: loaded", c.text)
			continue
		}
		msg := err.Error()
		for _, w := range append(c.want, path) {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: error %q lacks %q", c.text, msg, w)
			}
		}
	}
	if _, err := New(Options{File: filepath.Join(t.TempDir(), "absent.yaml")}); err == nil || !strings.Contains(err.Error(), "absent.yaml") {
		t.Errorf("missing file: %v", err)
	}
}
