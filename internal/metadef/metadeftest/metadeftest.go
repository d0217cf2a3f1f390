// Package metadeftest is the conformance suite for metadef.Store. Each
// implementation's test calls Run with a constructor for an empty store:
//
//	func TestMetadefStore(t *testing.T) {
//		metadeftest.Run(t, func(t *testing.T) metadef.Store {
//			return openEmptyStore(t) // closed by t.Cleanup
//		})
//	}
package metadeftest

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/metadef"
)

// Run runs the whole suite. newStore must return a new, empty store and
// arrange for it to be closed when t ends.
func Run(t *testing.T, newStore func(t *testing.T) metadef.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s metadef.Store)
	}{
		{"CreateDefinition", testCreateDefinition},
		{"CreateDefinitionAtomic", testCreateDefinitionAtomic},
		{"UpdateNamespace", testUpdateNamespace},
		{"DeleteNamespaceCascades", testDeleteNamespaceCascades},
		{"DeleteContent", testDeleteContent},
		{"Protected", testProtected},
		{"Objects", testObjects},
		{"Properties", testProperties},
		{"Tags", testTags},
		{"TagPages", testTagPages},
		{"Associations", testAssociations},
		{"ListVisibility", testListVisibility},
		{"ListFilters", testListFilters},
		{"ListPages", testListPages},
		{"Import", testImport},
		{"SeedOnce", testSeedOnce},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// base is the suite's clock, with the microseconds every store keeps.
var base = time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)

func at(sec int) time.Time { return base.Add(time.Duration(sec) * time.Second) }

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantKind fails unless err is of kind.
func wantKind(t *testing.T, what string, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v, want %v", what, err, kind)
	}
}

// wantDuplicate fails unless err is a *metadef.Duplicate of what/name.
func wantDuplicate(t *testing.T, err error, what, name string) {
	t.Helper()
	var d *metadef.Duplicate
	if !errors.As(err, &d) || d.What != what || d.Name != name {
		t.Fatalf("got %v, want a duplicate %s %q", err, what, name)
	}
}

func prop(name, schema string) metadef.Property {
	return metadef.Property{Name: name, Schema: json.RawMessage(schema), CreatedAt: base, UpdatedAt: ptr(base)}
}

// namespace returns a small public namespace owned by proj-a.
func namespace(name string, sec int) *metadef.Definition {
	t := at(sec)
	return &metadef.Definition{Namespace: metadef.Namespace{Name: name, Visibility: metadef.VisibilityPublic,
		Owner: "proj-a", CreatedAt: t, UpdatedAt: &t}}
}

// full returns a namespace with every kind of content.
func full(name string) *metadef.Definition {
	d := namespace(name, 0)
	d.DisplayName, d.Description = ptr("Full"), ptr("all contents")
	d.Associations = []metadef.Association{
		{Name: "OS::Glance::Image", Prefix: ptr("hw_"), CreatedAt: base, UpdatedAt: ptr(base)},
		{Name: "OS::Nova::Flavor", Prefix: ptr("hw:"), PropertiesTarget: ptr("image"), CreatedAt: base, UpdatedAt: ptr(base)},
	}
	d.Properties = []metadef.Property{
		prop("zeta", `{"type":"string","title":"Zeta","enum":["a","b"]}`),
		prop("alpha", `{"type":"integer","title":"Alpha","minimum":1}`),
	}
	d.Objects = []metadef.Object{{Name: "obj", Description: ptr("an object"), Required: []string{"q"},
		Properties: []metadef.Property{prop("q", `{"type":"boolean","title":"Q"}`), prop("p", `{"type":"string","title":"P"}`)},
		CreatedAt:  base, UpdatedAt: ptr(base)}}
	d.Tags = []metadef.Tag{{Name: "t2", CreatedAt: base, UpdatedAt: ptr(base)}, {Name: "t1", CreatedAt: base, UpdatedAt: ptr(base)}}
	return d
}

func create(t *testing.T, s metadef.Store, defs ...*metadef.Definition) {
	t.Helper()
	for _, d := range defs {
		if err := s.CreateDefinition(t.Context(), d); err != nil {
			t.Fatalf("CreateDefinition(%s): %v", d.Name, err)
		}
	}
}

func names[T any](items []T, name func(T) string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, name(it))
	}
	return out
}

func propNames(p []metadef.Property) []string {
	return names(p, func(p metadef.Property) string { return p.Name })
}
func tagNames(t []metadef.Tag) []string {
	return names(t, func(t metadef.Tag) string { return t.Name })
}
func objNames(o []metadef.Object) []string {
	return names(o, func(o metadef.Object) string { return o.Name })
}
func assocNames(a []metadef.Association) []string {
	return names(a, func(a metadef.Association) string { return a.Name })
}
func nsNames(d []*metadef.Definition) []string {
	return names(d, func(d *metadef.Definition) string { return d.Name })
}

func wantNames(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// sameJSON compares two JSON texts by value.
func sameJSON(t *testing.T, what string, got, want json.RawMessage) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: stored %q is not JSON: %v", what, got, err)
	}
	must(t, json.Unmarshal(want, &w))
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if string(gb) != string(wb) {
		t.Errorf("%s: got %s, want %s", what, gb, wb)
	}
}
