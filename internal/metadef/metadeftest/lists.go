package metadeftest

import (
	"sync"
	"testing"

	"github.com/glint-image/glint/internal/metadef"
)

func listNames(t *testing.T, s metadef.Store, q metadef.NamespaceQuery) []string {
	t.Helper()
	if q.Sort == "" {
		q.Sort = "created_at"
	}
	rows, err := s.ListNamespaces(t.Context(), q)
	must(t, err)
	return nsNames(rows)
}

// Admins see everything; others public namespaces and their project's.
func testListVisibility(t *testing.T, s metadef.Store) {
	mine, theirs, public := namespace("mine", 1), namespace("theirs", 2), namespace("public", 3)
	mine.Visibility, theirs.Visibility = "private", "private"
	theirs.Owner = "proj-b"
	create(t, s, mine, theirs, public)
	admin := metadef.Scope{Admin: true, Project: "proj-x"}
	wantNames(t, "admin", listNames(t, s, metadef.NamespaceQuery{Caller: admin}), []string{"mine", "theirs", "public"})
	wantNames(t, "proj-a", listNames(t, s, metadef.NamespaceQuery{Caller: metadef.Scope{Project: "proj-a"}}), []string{"mine", "public"})
	wantNames(t, "proj-c", listNames(t, s, metadef.NamespaceQuery{Caller: metadef.Scope{Project: "proj-c"}}), []string{"public"})
	wantNames(t, "no project", listNames(t, s, metadef.NamespaceQuery{}), []string{"public"})
	wantNames(t, "proj-a private", listNames(t, s, metadef.NamespaceQuery{Caller: metadef.Scope{Project: "proj-a"},
		Visibility: "private"}), []string{"mine"})
	wantNames(t, "admin private", listNames(t, s, metadef.NamespaceQuery{Caller: admin, Visibility: "private"}),
		[]string{"mine", "theirs"})
}

func testListFilters(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	create(t, s, full("both"), namespace("image", 1), namespace("none", 2))
	must(t, s.CreateAssociation(ctx, "image", &metadef.Association{Name: "OS::Glance::Image", CreatedAt: at(3)}))
	all := metadef.Scope{Admin: true}
	q := func(types ...string) metadef.NamespaceQuery {
		return metadef.NamespaceQuery{Caller: all, ResourceTypes: types}
	}
	wantNames(t, "image", listNames(t, s, q("OS::Glance::Image")), []string{"both", "image"})
	wantNames(t, "flavor or cinder", listNames(t, s, q("OS::Nova::Flavor", "OS::Cinder::Volume")), []string{"both"})
	wantNames(t, "unknown type", listNames(t, s, q("No::Such")), nil)
	wantNames(t, "empty filter", listNames(t, s, metadef.NamespaceQuery{Caller: all, ResourceTypes: []string{}}), nil)
	rows, err := s.ListNamespaces(ctx, metadef.NamespaceQuery{Caller: all, Sort: "created_at"})
	must(t, err)
	for _, d := range rows {
		want := map[string]int{"both": 2, "image": 1, "none": 0}[d.Name]
		if len(d.Associations) != want {
			t.Errorf("%s lists %d associations, want %d", d.Name, len(d.Associations), want)
		}
		if d.Properties != nil || d.Objects != nil || d.Tags != nil {
			t.Errorf("a listing loaded contents of %s", d.Name)
		}
	}
}

// Pages: the sort key, then created_at and creation order, all one way;
// the marker's own row excluded.
func testListPages(t *testing.T, s metadef.Store) {
	c, a, b, d := namespace("c", 1), namespace("a", 2), namespace("b", 2), namespace("d", 3)
	c.DisplayName, a.DisplayName = ptr("Zed"), ptr("Able")
	d.Visibility = "private"
	create(t, s, c, a, b, d)
	all := metadef.Scope{Admin: true}
	page := func(sort string, desc bool, marker string, limit int) []string {
		t.Helper()
		return listNames(t, s, metadef.NamespaceQuery{Caller: all, Sort: sort, Desc: desc, Marker: marker, Limit: limit})
	}
	wantNames(t, "created_at desc", page("created_at", true, "", 0), []string{"d", "b", "a", "c"})
	wantNames(t, "created_at asc", page("created_at", false, "", 0), []string{"c", "a", "b", "d"})
	wantNames(t, "namespace asc", page("namespace", false, "", 0), []string{"a", "b", "c", "d"})
	wantNames(t, "namespace desc after c", page("namespace", true, "c", 0), []string{"b", "a"})
	wantNames(t, "created_at desc after b, 1", page("created_at", true, "b", 1), []string{"a"})
	wantNames(t, "limit 2", page("created_at", true, "", 2), []string{"d", "b"})
	// Unset display names sort as the empty text, first when ascending.
	wantNames(t, "display_name asc", page("display_name", false, "", 0), []string{"b", "d", "a", "c"})
	wantNames(t, "visibility asc", page("visibility", false, "", 0), []string{"d", "c", "a", "b"})
	wantNames(t, "id is created_at", page("id", true, "", 0), []string{"d", "b", "a", "c"})
	for _, key := range metadef.NamespaceSortKeys {
		if got := page(key, false, "", 0); len(got) != 4 {
			t.Errorf("sort by %s: %q", key, got)
		}
	}
}

func testImport(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	file := full("file")
	res, err := s.ImportDefinition(ctx, file, metadef.ImportCreate, at(10))
	must(t, err)
	if res != metadef.ImportCreated {
		t.Fatalf("first import: %s", res)
	}
	d, err := s.GetDefinition(ctx, "file")
	must(t, err)
	if !d.CreatedAt.Equal(at(10)) || d.UpdatedAt != nil || d.Tags[0].UpdatedAt != nil || d.Properties[0].UpdatedAt != nil {
		t.Errorf("a loaded namespace carries updated_at or the wrong created_at: %+v", d.Namespace)
	}
	types, err := s.ListResourceTypes(ctx)
	must(t, err)
	for _, rt := range types {
		if !rt.Protected {
			t.Errorf("resource type %s created by a load is not protected", rt.Name)
		}
	}

	// The database drifts from the file: an extra tag, a changed property.
	must(t, s.CreateTag(ctx, "file", &metadef.Tag{Name: "db-only", CreatedAt: at(11)}))
	must(t, s.DeleteProperty(ctx, "file", "alpha"))
	changed := full("file")
	changed.Description = ptr("from the file")
	changed.Properties = []metadef.Property{prop("zeta", `{"type":"string","title":"Zeta v2"}`), prop("new", `{"type":"string","title":"New"}`)}
	changed.Tags = []metadef.Tag{{Name: "t1"}, {Name: "t9"}}

	res, err = s.ImportDefinition(ctx, changed, metadef.ImportCreate, at(12))
	must(t, err)
	d, _ = s.GetDefinition(ctx, "file")
	if res != metadef.ImportSkipped || *d.Description != "all contents" {
		t.Errorf("import without merge or replace: %s, description %q", res, *d.Description)
	}

	res, err = s.ImportDefinition(ctx, changed, metadef.ImportMerge, at(13))
	must(t, err)
	d, err = s.GetDefinition(ctx, "file")
	must(t, err)
	if res != metadef.ImportMerged || *d.Description != "from the file" || !d.UpdatedAt.Equal(at(13)) || !d.CreatedAt.Equal(at(10)) {
		t.Errorf("merge: %s %+v", res, d.Namespace)
	}
	wantNames(t, "merged properties", propNames(d.Properties), []string{"zeta", "new"})
	sameJSON(t, "merged zeta", d.Properties[0].Schema, []byte(`{"type":"string","title":"Zeta v2"}`))
	wantNames(t, "merged tags", tagNames(d.Tags), []string{"t2", "t1", "db-only", "t9"})

	res, err = s.ImportDefinition(ctx, changed, metadef.ImportReplace, at(14))
	must(t, err)
	d, err = s.GetDefinition(ctx, "file")
	must(t, err)
	if res != metadef.ImportReplaced {
		t.Errorf("replace: %s", res)
	}
	wantNames(t, "replaced properties", propNames(d.Properties), []string{"zeta", "new"})
	wantNames(t, "replaced tags", tagNames(d.Tags), []string{"t1", "t9"})
	wantNames(t, "replaced objects", objNames(d.Objects), []string{"obj"})
	wantNames(t, "replaced associations", assocNames(d.Associations), []string{"OS::Glance::Image", "OS::Nova::Flavor"})

	bad := full("bad")
	bad.Tags = append(bad.Tags, bad.Tags[0])
	_, err = s.ImportDefinition(ctx, bad, metadef.ImportCreate, at(15))
	wantDuplicate(t, err, "tag", "t2")
	_, err = s.GetNamespace(ctx, "bad")
	wantKind(t, "namespace of a failed import", err, metadef.ErrNotFound)
}

// SeedOnce seeds once, even when callers race, and a deleted seeded
// namespace stays deleted.
func testSeedOnce(t *testing.T, s metadef.Store) {
	ctx := t.Context()
	defs := []*metadef.Definition{full("seed-a"), full("seed-b")}
	var wg sync.WaitGroup
	results := make([]bool, 4)
	errs := make([]error, 4)
	for i := range results {
		wg.Go(func() { results[i], errs[i] = s.SeedOnce(ctx, "k1", defs, at(1)) })
	}
	wg.Wait()
	seeded := 0
	for i := range results {
		must(t, errs[i])
		if results[i] {
			seeded++
		}
	}
	if seeded != 1 {
		t.Fatalf("%d of 4 concurrent SeedOnce calls seeded, want 1", seeded)
	}
	must(t, s.DeleteNamespace(ctx, "seed-a"))
	again, err := s.SeedOnce(ctx, "k1", defs, at(2))
	must(t, err)
	if again {
		t.Error("SeedOnce seeded a key twice")
	}
	_, err = s.GetNamespace(ctx, "seed-a")
	wantKind(t, "deleted seeded namespace", err, metadef.ErrNotFound)
	// A new key seeds what is missing and skips what exists.
	more, err := s.SeedOnce(ctx, "k2", []*metadef.Definition{full("seed-b"), full("seed-c")}, at(3))
	must(t, err)
	if !more {
		t.Error("a new key did not seed")
	}
	wantNames(t, "after the second key", listNames(t, s, metadef.NamespaceQuery{Caller: metadef.Scope{Admin: true}, Sort: "namespace"}),
		[]string{"seed-b", "seed-c"})
}
