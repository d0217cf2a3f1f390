package metadeftest

import (
	"testing"

	"github.com/glint-image/glint/internal/metadef"
)

func testObjects(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, namespace("ns", 0))
	a := &metadef.Object{Name: "a", Properties: []metadef.Property{prop("x", `{"type":"string","title":"X"}`)}, CreatedAt: at(1)}
	must(t, s.CreateObject(ctx, "ns", a))
	must(t, s.CreateObject(ctx, "ns", &metadef.Object{Name: "b", CreatedAt: at(2), UpdatedAt: ptr(at(2))}))
	wantDuplicate(t, s.CreateObject(ctx, "ns", &metadef.Object{Name: "a", CreatedAt: at(3)}), "object", "a")
	wantKind(t, "object in a missing namespace", s.CreateObject(ctx, "nope", &metadef.Object{Name: "a", CreatedAt: at(3)}), metadef.ErrNotFound)

	objs, err := s.ListObjects(ctx, "ns")
	must(t, err)
	wantNames(t, "objects", objNames(objs), []string{"a", "b"})
	got, err := s.GetObject(ctx, "ns", "a")
	must(t, err)
	if got.Description != nil || got.Required == nil || len(got.Required) != 0 || len(got.Properties) != 1 ||
		!got.CreatedAt.Equal(at(1)) || got.UpdatedAt != nil {
		t.Errorf("GetObject = %+v", got)
	}
	sameJSON(t, "object property", got.Properties[0].Schema, []byte(`{"type":"string","title":"X"}`))
	_, err = s.GetObject(ctx, "ns", "nope")
	wantKind(t, "missing object", err, metadef.ErrNotFound)
	_, err = s.ListObjects(ctx, "nope")
	wantKind(t, "objects of a missing namespace", err, metadef.ErrNotFound)

	up := &metadef.Object{Name: "c", Description: ptr("renamed"), Required: []string{"y"},
		Properties: []metadef.Property{prop("y", `{"type":"integer","title":"Y"}`)}, CreatedAt: at(1), UpdatedAt: ptr(at(9))}
	must(t, s.UpdateObject(ctx, "ns", "a", up))
	got, err = s.GetObject(ctx, "ns", "c")
	must(t, err)
	if *got.Description != "renamed" || got.Required[0] != "y" || got.Properties[0].Name != "y" || !got.UpdatedAt.Equal(at(9)) {
		t.Errorf("after update: %+v", got)
	}
	up.Name = "b"
	wantDuplicate(t, s.UpdateObject(ctx, "ns", "c", up), "object", "b")
	wantKind(t, "update of a missing object", s.UpdateObject(ctx, "ns", "a", up), metadef.ErrNotFound)

	must(t, s.DeleteObject(ctx, "ns", "c"))
	wantKind(t, "second delete", s.DeleteObject(ctx, "ns", "c"), metadef.ErrNotFound)
	objs, err = s.ListObjects(ctx, "ns")
	must(t, err)
	wantNames(t, "objects after delete", objNames(objs), []string{"b"})
}

func testProperties(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, namespace("ns", 0))
	p := prop("b", `{"name":"b","type":"string","title":"B","default":"x"}`)
	must(t, s.CreateProperty(ctx, "ns", &p))
	q := prop("a", `{"type":"number","title":"A","minimum":0.5}`)
	must(t, s.CreateProperty(ctx, "ns", &q))
	wantDuplicate(t, s.CreateProperty(ctx, "ns", &p), "property", "b")
	wantKind(t, "property in a missing namespace", s.CreateProperty(ctx, "nope", &p), metadef.ErrNotFound)

	props, err := s.ListProperties(ctx, "ns")
	must(t, err)
	wantNames(t, "properties", propNames(props), []string{"b", "a"})
	got, err := s.GetProperty(ctx, "ns", "a")
	must(t, err)
	sameJSON(t, "property a", got.Schema, []byte(`{"type":"number","title":"A","minimum":0.5}`))
	_, err = s.GetProperty(ctx, "ns", "nope")
	wantKind(t, "missing property", err, metadef.ErrNotFound)

	r := prop("c", `{"type":"boolean","title":"C"}`)
	must(t, s.UpdateProperty(ctx, "ns", "a", &r))
	got, err = s.GetProperty(ctx, "ns", "c")
	must(t, err)
	sameJSON(t, "renamed property", got.Schema, []byte(`{"type":"boolean","title":"C"}`))
	r.Name = "b"
	wantDuplicate(t, s.UpdateProperty(ctx, "ns", "c", &r), "property", "b")
	wantKind(t, "update of a missing property", s.UpdateProperty(ctx, "ns", "a", &r), metadef.ErrNotFound)
	must(t, s.DeleteProperty(ctx, "ns", "c"))
	wantKind(t, "second delete", s.DeleteProperty(ctx, "ns", "c"), metadef.ErrNotFound)
}

func tag(name string, sec int) metadef.Tag {
	return metadef.Tag{Name: name, CreatedAt: at(sec), UpdatedAt: ptr(at(sec))}
}

func testTags(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, namespace("ns", 0))
	one := tag("one", 1)
	must(t, s.CreateTag(ctx, "ns", &one))
	wantDuplicate(t, s.CreateTag(ctx, "ns", &one), "tag", "one")
	// Names are case-sensitive, as on Glance with SQLite or PostgreSQL.
	upper := tag("ONE", 1)
	must(t, s.CreateTag(ctx, "ns", &upper))
	got, err := s.GetTag(ctx, "ns", "one")
	must(t, err)
	if got.Name != "one" || !got.CreatedAt.Equal(at(1)) {
		t.Errorf("GetTag = %+v", got)
	}
	_, err = s.GetTag(ctx, "ns", "nope")
	wantKind(t, "missing tag", err, metadef.ErrNotFound)

	// Bulk: replace, then add; a repeated name fails the whole call.
	must(t, s.CreateTags(ctx, "ns", []metadef.Tag{tag("a", 2), tag("b", 2)}, false))
	list := func() []string {
		t.Helper()
		tags, err := s.ListTags(ctx, "ns", metadef.TagQuery{Sort: "id"})
		must(t, err)
		return tagNames(tags)
	}
	wantNames(t, "after replace", list(), []string{"a", "b"})
	must(t, s.CreateTags(ctx, "ns", []metadef.Tag{tag("c", 3)}, true))
	wantNames(t, "after add", list(), []string{"a", "b", "c"})
	wantDuplicate(t, s.CreateTags(ctx, "ns", []metadef.Tag{tag("d", 4), tag("d", 4)}, false), "tag", "d")
	wantDuplicate(t, s.CreateTags(ctx, "ns", []metadef.Tag{tag("e", 4), tag("a", 4)}, true), "tag", "a")
	wantNames(t, "after failed bulk creates", list(), []string{"a", "b", "c"})
	wantKind(t, "tags of a missing namespace", s.CreateTags(ctx, "nope", []metadef.Tag{tag("x", 1)}, true), metadef.ErrNotFound)

	up := tag("z", 1)
	must(t, s.UpdateTag(ctx, "ns", "a", &up))
	wantNames(t, "after rename", list(), []string{"z", "b", "c"})
	up.Name = "b"
	wantDuplicate(t, s.UpdateTag(ctx, "ns", "z", &up), "tag", "b")
	wantKind(t, "rename of a missing tag", s.UpdateTag(ctx, "ns", "a", &up), metadef.ErrNotFound)
	must(t, s.DeleteTag(ctx, "ns", "z"))
	wantKind(t, "second delete", s.DeleteTag(ctx, "ns", "z"), metadef.ErrNotFound)
}

// Tag pages sort by the key, then created_at and creation order, all one
// way, starting after the marker.
func testTagPages(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, namespace("ns", 0))
	must(t, s.CreateTags(ctx, "ns", []metadef.Tag{tag("m", 1), tag("a", 1), tag("z", 2), tag("b", 3)}, false))
	page := func(q metadef.TagQuery) []string {
		t.Helper()
		tags, err := s.ListTags(ctx, "ns", q)
		must(t, err)
		return tagNames(tags)
	}
	wantNames(t, "created_at desc", page(metadef.TagQuery{Sort: "created_at", Desc: true}), []string{"b", "z", "a", "m"})
	wantNames(t, "created_at asc", page(metadef.TagQuery{Sort: "created_at"}), []string{"m", "a", "z", "b"})
	wantNames(t, "name asc", page(metadef.TagQuery{Sort: "name"}), []string{"a", "b", "m", "z"})
	wantNames(t, "name desc after m", page(metadef.TagQuery{Sort: "name", Desc: true, Marker: "m"}), []string{"b", "a"})
	wantNames(t, "two after z", page(metadef.TagQuery{Sort: "created_at", Desc: true, Marker: "z", Limit: 1}), []string{"a"})
	wantNames(t, "limit", page(metadef.TagQuery{Sort: "created_at", Desc: true, Limit: 2}), []string{"b", "z"})
}

func testAssociations(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, namespace("ns", 0), namespace("other", 0))
	must(t, s.CreateAssociation(ctx, "ns", &metadef.Association{Name: "My::Type", Prefix: ptr("my_"), CreatedAt: at(1)}))
	must(t, s.CreateAssociation(ctx, "other", &metadef.Association{Name: "My::Type", CreatedAt: at(2)}))
	wantDuplicate(t, s.CreateAssociation(ctx, "ns", &metadef.Association{Name: "My::Type", CreatedAt: at(3)}), "association", "My::Type")
	wantKind(t, "association of a missing namespace",
		s.CreateAssociation(ctx, "nope", &metadef.Association{Name: "My::Type", CreatedAt: at(3)}), metadef.ErrNotFound)
	types, err := s.ListResourceTypes(ctx)
	must(t, err)
	if len(types) != 1 || types[0].Name != "My::Type" || types[0].Protected || !types[0].CreatedAt.Equal(at(1)) {
		t.Errorf("resource types = %+v", types)
	}
	assocs, err := s.ListAssociations(ctx, "ns")
	must(t, err)
	if len(assocs) != 1 || *assocs[0].Prefix != "my_" || assocs[0].PropertiesTarget != nil {
		t.Errorf("associations = %+v", assocs)
	}
	_, err = s.ListAssociations(ctx, "nope")
	wantKind(t, "associations of a missing namespace", err, metadef.ErrNotFound)
	must(t, s.DeleteAssociation(ctx, "ns", "My::Type"))
	wantKind(t, "second delete", s.DeleteAssociation(ctx, "ns", "My::Type"), metadef.ErrNotFound)
	wantKind(t, "delete of an unknown type", s.DeleteAssociation(ctx, "ns", "No::Such"), metadef.ErrNotFound)
	assocs, err = s.ListAssociations(ctx, "other")
	must(t, err)
	wantNames(t, "the other namespace's associations", assocNames(assocs), []string{"My::Type"})
}
