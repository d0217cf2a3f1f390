package metadeftest

import (
	"testing"
	"time"

	"github.com/glint-image/glint/internal/metadef"
)

func testCreateDefinition(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, full("full"))

	ns, err := s.GetNamespace(ctx, "full")
	must(t, err)
	if ns.Name != "full" || *ns.DisplayName != "Full" || *ns.Description != "all contents" || ns.Visibility != "public" ||
		ns.Owner != "proj-a" || ns.Protected || !ns.CreatedAt.Equal(base) || ns.UpdatedAt == nil || !ns.UpdatedAt.Equal(base) {
		t.Errorf("GetNamespace = %+v", ns)
	}
	if ns.CreatedAt.Location() != time.UTC {
		t.Errorf("times come back in %v, want UTC", ns.CreatedAt.Location())
	}

	d, err := s.GetDefinition(ctx, "full")
	must(t, err)
	wantNames(t, "associations", assocNames(d.Associations), []string{"OS::Glance::Image", "OS::Nova::Flavor"})
	if a := d.Associations[1]; *a.Prefix != "hw:" || *a.PropertiesTarget != "image" || a.UpdatedAt == nil {
		t.Errorf("association = %+v", a)
	}
	if a := d.Associations[0]; a.PropertiesTarget != nil {
		t.Errorf("unset properties_target came back as %q", *a.PropertiesTarget)
	}
	// Creation order, not name order.
	wantNames(t, "properties", propNames(d.Properties), []string{"zeta", "alpha"})
	sameJSON(t, "property zeta", d.Properties[0].Schema, []byte(`{"type":"string","title":"Zeta","enum":["a","b"]}`))
	wantNames(t, "objects", objNames(d.Objects), []string{"obj"})
	ob := d.Objects[0]
	wantNames(t, "object properties", propNames(ob.Properties), []string{"q", "p"})
	wantNames(t, "object required", ob.Required, []string{"q"})
	if *ob.Description != "an object" {
		t.Errorf("object description %q", *ob.Description)
	}
	wantNames(t, "tags", tagNames(d.Tags), []string{"t2", "t1"})

	_, err = s.GetNamespace(ctx, "nope")
	wantKind(t, "GetNamespace(missing)", err, metadef.ErrNotFound)
	_, err = s.GetDefinition(ctx, "nope")
	wantKind(t, "GetDefinition(missing)", err, metadef.ErrNotFound)

	// A namespace with nothing in it has empty, not missing, lists.
	create(t, s, namespace("empty", 1))
	d, err = s.GetDefinition(ctx, "empty")
	must(t, err)
	if d.Associations == nil || d.Properties == nil || d.Objects == nil || d.Tags == nil ||
		len(d.Associations)+len(d.Properties)+len(d.Objects)+len(d.Tags) != 0 {
		t.Errorf("empty namespace contents: %+v", d)
	}
	if d.DisplayName != nil || d.Description != nil {
		t.Errorf("unset display name or description came back: %+v", d.Namespace)
	}

	wantDuplicate(t, s.CreateDefinition(ctx, namespace("full", 2)), "namespace", "full")

	// Associations keep the order they were made in, not that of their
	// resource types.
	rev := namespace("reversed", 3)
	rev.Associations = []metadef.Association{{Name: "OS::Nova::Flavor", CreatedAt: base}, {Name: "OS::Glance::Image", CreatedAt: base}}
	create(t, s, rev)
	d, err = s.GetDefinition(ctx, "reversed")
	must(t, err)
	wantNames(t, "associations in creation order", assocNames(d.Associations), []string{"OS::Nova::Flavor", "OS::Glance::Image"})
	listed, err := s.ListNamespaces(ctx, metadef.NamespaceQuery{Caller: metadef.Scope{Admin: true}, Sort: "namespace"})
	must(t, err)
	for _, l := range listed {
		if l.Name == "reversed" {
			wantNames(t, "listed associations", assocNames(l.Associations), []string{"OS::Nova::Flavor", "OS::Glance::Image"})
		}
	}
}

// A create that fails part way leaves nothing behind.
func testCreateDefinitionAtomic(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	for _, tc := range []struct {
		what, name string
		change     func(d *metadef.Definition)
	}{
		{"object", "obj", func(d *metadef.Definition) { d.Objects = append(d.Objects, d.Objects[0]) }},
		{"tag", "t1", func(d *metadef.Definition) { d.Tags = append(d.Tags, d.Tags[1]) }},
		{"association", "OS::Nova::Flavor", func(d *metadef.Definition) { d.Associations = append(d.Associations, d.Associations[1]) }},
	} {
		d := full("atomic")
		d.Associations = append(d.Associations, metadef.Association{Name: "OS::Brand::New", CreatedAt: base})
		tc.change(d)
		wantDuplicate(t, s.CreateDefinition(ctx, d), tc.what, tc.name)
		_, err := s.GetNamespace(ctx, "atomic")
		wantKind(t, "namespace after a failed create", err, metadef.ErrNotFound)
		types, err := s.ListResourceTypes(ctx)
		must(t, err)
		for _, rt := range types {
			if rt.Name == "OS::Brand::New" {
				t.Errorf("a failed create (%s) left its new resource type behind", tc.what)
			}
		}
	}
	create(t, s, full("atomic"))
}

func testUpdateNamespace(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, full("old"), namespace("other", 1))
	later := at(60)
	up := &metadef.Namespace{Name: "new", Description: ptr("renamed"), Visibility: "private", Protected: true,
		Owner: "proj-b", CreatedAt: base, UpdatedAt: &later}
	must(t, s.UpdateNamespace(ctx, "old", up))
	_, err := s.GetNamespace(ctx, "old")
	wantKind(t, "old name after rename", err, metadef.ErrNotFound)
	d, err := s.GetDefinition(ctx, "new")
	must(t, err)
	if d.DisplayName != nil || *d.Description != "renamed" || d.Visibility != "private" || !d.Protected ||
		d.Owner != "proj-b" || !d.CreatedAt.Equal(base) || !d.UpdatedAt.Equal(later) {
		t.Errorf("after update: %+v", d.Namespace)
	}
	if len(d.Properties) != 2 || len(d.Objects) != 1 || len(d.Tags) != 2 || len(d.Associations) != 2 {
		t.Errorf("a rename lost contents: %+v", d)
	}
	up.Name = "other"
	wantDuplicate(t, s.UpdateNamespace(ctx, "new", up), "namespace", "other")
	wantKind(t, "update of a missing namespace", s.UpdateNamespace(ctx, "nope", up), metadef.ErrNotFound)
}

func testDeleteNamespaceCascades(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, full("gone"), full("kept"))
	must(t, s.DeleteNamespace(ctx, "gone"))
	_, err := s.GetDefinition(ctx, "gone")
	wantKind(t, "deleted namespace", err, metadef.ErrNotFound)
	wantKind(t, "second delete", s.DeleteNamespace(ctx, "gone"), metadef.ErrNotFound)

	// The contents went with it: a new namespace of the same name is empty.
	create(t, s, namespace("gone", 5))
	d, err := s.GetDefinition(ctx, "gone")
	must(t, err)
	if len(d.Properties)+len(d.Objects)+len(d.Tags)+len(d.Associations) != 0 {
		t.Errorf("a recreated namespace inherited contents: %+v", d)
	}
	// Other namespaces keep theirs, and resource types outlive their
	// associations.
	d, err = s.GetDefinition(ctx, "kept")
	must(t, err)
	if len(d.Properties) != 2 || len(d.Objects) != 1 || len(d.Tags) != 2 || len(d.Associations) != 2 {
		t.Errorf("deleting one namespace touched another: %+v", d)
	}
	must(t, s.DeleteNamespace(ctx, "kept"))
	types, err := s.ListResourceTypes(ctx)
	must(t, err)
	wantNames(t, "resource types after deletes", names(types, func(r metadef.ResourceType) string { return r.Name }),
		[]string{"OS::Glance::Image", "OS::Nova::Flavor"})
}

func testDeleteContent(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, full("ns"))
	must(t, s.DeleteContent(ctx, "ns", metadef.PartObjects))
	d, err := s.GetDefinition(ctx, "ns")
	must(t, err)
	if len(d.Objects) != 0 || len(d.Properties) != 2 || len(d.Tags) != 2 {
		t.Errorf("after deleting objects: %+v", d)
	}
	must(t, s.DeleteContent(ctx, "ns", metadef.PartProperties))
	must(t, s.DeleteContent(ctx, "ns", metadef.PartTags))
	d, err = s.GetDefinition(ctx, "ns")
	must(t, err)
	if len(d.Objects)+len(d.Properties)+len(d.Tags) != 0 || len(d.Associations) != 2 {
		t.Errorf("after deleting everything but associations: %+v", d)
	}
	wantKind(t, "missing namespace", s.DeleteContent(ctx, "nope", metadef.PartTags), metadef.ErrNotFound)
}

// Nothing can be deleted from a protected namespace, nor the namespace
// itself; adding and changing is allowed.
func testProtected(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	d := full("locked")
	d.Protected = true
	create(t, s, d)
	for what, err := range map[string]error{
		"namespace":   s.DeleteNamespace(ctx, "locked"),
		"objects":     s.DeleteContent(ctx, "locked", metadef.PartObjects),
		"properties":  s.DeleteContent(ctx, "locked", metadef.PartProperties),
		"tags":        s.DeleteContent(ctx, "locked", metadef.PartTags),
		"object":      s.DeleteObject(ctx, "locked", "obj"),
		"property":    s.DeleteProperty(ctx, "locked", "alpha"),
		"tag":         s.DeleteTag(ctx, "locked", "t1"),
		"association": s.DeleteAssociation(ctx, "locked", "OS::Glance::Image"),
	} {
		wantKind(t, "delete "+what+" of a protected namespace", err, metadef.ErrProtected)
	}
	got, err := s.GetDefinition(ctx, "locked")
	must(t, err)
	if len(got.Objects) != 1 || len(got.Properties) != 2 || len(got.Tags) != 2 || len(got.Associations) != 2 {
		t.Errorf("a refused delete changed the namespace: %+v", got)
	}
	must(t, s.CreateTag(ctx, "locked", &metadef.Tag{Name: "t3", CreatedAt: base}))
	// Unprotecting makes it deletable.
	up := got.Namespace
	up.Protected = false
	must(t, s.UpdateNamespace(ctx, "locked", &up))
	must(t, s.DeleteNamespace(ctx, "locked"))
}
