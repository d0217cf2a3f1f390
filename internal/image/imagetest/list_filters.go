package imagetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

func testListFlags(t *testing.T, s image.Store) {
	flagged := func(id string, hidden, protected bool) *image.Image {
		i := newImage(id)
		i.Hidden, i.Protected = hidden, protected
		return i
	}
	create(t, s, flagged("plain", false, false), flagged("hidden", true, false),
		flagged("protected", false, true), flagged("both", true, true))
	tests := []struct {
		name              string
		hidden, protected *bool
		want              []string
	}{
		{"no filter", nil, nil, []string{"plain", "hidden", "protected", "both"}},
		{"hidden=false", ptr(false), nil, []string{"plain", "protected"}},
		{"hidden=true", ptr(true), nil, []string{"hidden", "both"}},
		{"protected=true", nil, ptr(true), []string{"protected", "both"}},
		{"protected=false", nil, ptr(false), []string{"plain", "hidden"}},
		{"hidden=false protected=true", ptr(false), ptr(true), []string{"protected"}},
	}
	for _, tc := range tests {
		q := everything()
		q.Hidden, q.Protected = tc.hidden, tc.protected
		t.Run(tc.name, func(t *testing.T) { checkSet(t, "ListImages", list(t, s, q), tc.want...) })
	}
}

// seedFilters creates f1..f5 with distinct core column values; f3 and f4
// have the nullable columns null. Sizes 9, 10 and 100 tell numeric from
// textual comparison apart.
func seedFilters(t *testing.T, s image.Store) {
	type spec struct {
		id, status              string
		name, owner, disk, cont *string
		vis                     image.Visibility
		checksum, algo, value   string
		size, vsize             *int64
		minDisk, minRAM         int64
		created, updated        int
	}
	n := func(v int64) *int64 { return &v }
	specs := []spec{
		{"f1", "active", ptr("alpha"), ptr("o1"), ptr("qcow2"), ptr("bare"), "public", "c1", "sha512", "v1", n(9), n(90), 1, 64, 10, 100},
		{"f2", "active", ptr("beta"), ptr("o2"), ptr("raw"), ptr("bare"), "private", "c2", "sha512", "v2", n(10), n(100), 2, 128, 20, 90},
		{"f3", "queued", ptr("gamma"), ptr("o1"), ptr("raw"), ptr("ovf"), "shared", "", "", "", nil, nil, 0, 0, 30, 80},
		{"f4", "saving", nil, nil, nil, nil, "community", "", "", "", nil, nil, 0, 0, 40, 70},
		{"f5", "deactivated", ptr("delta"), ptr("o2"), ptr("iso"), ptr("docker"), "public", "c5", "md5", "v5", n(100), n(1000), 20, 1024, 50, 60},
	}
	for _, sp := range specs {
		create(t, s, &image.Image{
			ID: sp.id, Name: sp.name, Status: image.Status(sp.status), Visibility: sp.vis,
			Owner: sp.owner, DiskFormat: sp.disk, ContainerFormat: sp.cont,
			Checksum: sp.checksum, HashAlgo: sp.algo, HashValue: sp.value,
			Size: sp.size, VirtualSize: sp.vsize, MinDisk: sp.minDisk, MinRAM: sp.minRAM,
			CreatedAt: at(sp.created), UpdatedAt: at(sp.updated),
		})
	}
}

func testListFilters(t *testing.T, s image.Store) {
	seedFilters(t, s)
	rfc := func(sec int) string { return at(sec).Format(time.RFC3339Nano) }
	zoned := func(sec int) string { return at(sec).In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano) }
	f := func(field, op string, values ...string) image.Filter {
		return image.Filter{Field: field, Op: op, Values: values}
	}
	tests := []struct {
		name    string
		filters []image.Filter
		want    []string
	}{
		{"id eq", []image.Filter{f("id", "eq", "f2")}, []string{"f2"}},
		{"id neq", []image.Filter{f("id", "neq", "f2")}, []string{"f1", "f3", "f4", "f5"}},
		{"id in", []image.Filter{f("id", "in", "f1", "f3", "nope")}, []string{"f1", "f3"}},
		{"name eq", []image.Filter{f("name", "eq", "beta")}, []string{"f2"}},
		// A null column is not equal to any value.
		{"name neq", []image.Filter{f("name", "neq", "beta")}, []string{"f1", "f3", "f4", "f5"}},
		{"name in", []image.Filter{f("name", "in", "alpha", "delta")}, []string{"f1", "f5"}},
		{"name gt", []image.Filter{f("name", "gt", "beta")}, []string{"f3", "f5"}},
		{"name lte", []image.Filter{f("name", "lte", "beta")}, []string{"f1", "f2"}},
		{"status eq", []image.Filter{f("status", "eq", "active")}, []string{"f1", "f2"}},
		{"status neq", []image.Filter{f("status", "neq", "active")}, []string{"f3", "f4", "f5"}},
		{"status in", []image.Filter{f("status", "in", "queued", "saving")}, []string{"f3", "f4"}},
		{"visibility eq", []image.Filter{f("visibility", "eq", "public")}, []string{"f1", "f5"}},
		{"visibility in", []image.Filter{f("visibility", "in", "private", "community")}, []string{"f2", "f4"}},
		{"owner eq", []image.Filter{f("owner", "eq", "o1")}, []string{"f1", "f3"}},
		{"owner neq", []image.Filter{f("owner", "neq", "o1")}, []string{"f2", "f4", "f5"}},
		{"disk_format eq", []image.Filter{f("disk_format", "eq", "raw")}, []string{"f2", "f3"}},
		{"disk_format in", []image.Filter{f("disk_format", "in", "qcow2", "iso")}, []string{"f1", "f5"}},
		{"container_format eq", []image.Filter{f("container_format", "eq", "bare")}, []string{"f1", "f2"}},
		{"container_format neq", []image.Filter{f("container_format", "neq", "bare")}, []string{"f3", "f4", "f5"}},
		{"checksum eq", []image.Filter{f("checksum", "eq", "c2")}, []string{"f2"}},
		{"os_hash_algo eq", []image.Filter{f("os_hash_algo", "eq", "sha512")}, []string{"f1", "f2"}},
		{"os_hash_value eq", []image.Filter{f("os_hash_value", "eq", "v5")}, []string{"f5"}},
		{"size eq", []image.Filter{f("size", "eq", "10")}, []string{"f2"}},
		{"size neq", []image.Filter{f("size", "neq", "10")}, []string{"f1", "f3", "f4", "f5"}},
		{"size gt", []image.Filter{f("size", "gt", "9")}, []string{"f2", "f5"}},
		{"size gte", []image.Filter{f("size", "gte", "10")}, []string{"f2", "f5"}},
		{"size lt", []image.Filter{f("size", "lt", "10")}, []string{"f1"}},
		{"size lt numeric", []image.Filter{f("size", "lt", "100")}, []string{"f1", "f2"}},
		{"size lte", []image.Filter{f("size", "lte", "10")}, []string{"f1", "f2"}},
		{"size in", []image.Filter{f("size", "in", "9", "100")}, []string{"f1", "f5"}},
		// A size range is probed in the size indexes before any branch
		// is read (sqlstore): an empty range, and one with both bounds.
		{"size range nothing in it", []image.Filter{f("size", "gt", "1000000")}, nil},
		{"size range below every size", []image.Filter{f("size", "lt", "9")}, nil},
		{"size range both bounds", []image.Filter{f("size", "gte", "10"), f("size", "lte", "99")}, []string{"f2"}},
		{"virtual_size gte", []image.Filter{f("virtual_size", "gte", "100")}, []string{"f2", "f5"}},
		{"virtual_size lt", []image.Filter{f("virtual_size", "lt", "100")}, []string{"f1"}},
		{"min_disk gt", []image.Filter{f("min_disk", "gt", "1")}, []string{"f2", "f5"}},
		{"min_disk eq", []image.Filter{f("min_disk", "eq", "0")}, []string{"f3", "f4"}},
		{"min_ram lte", []image.Filter{f("min_ram", "lte", "128")}, []string{"f1", "f2", "f3", "f4"}},
		{"min_ram gt", []image.Filter{f("min_ram", "gt", "128")}, []string{"f5"}},
		{"created_at eq", []image.Filter{f("created_at", "eq", rfc(30))}, []string{"f3"}},
		{"created_at neq", []image.Filter{f("created_at", "neq", rfc(30))}, []string{"f1", "f2", "f4", "f5"}},
		{"created_at gt", []image.Filter{f("created_at", "gt", rfc(20))}, []string{"f3", "f4", "f5"}},
		{"created_at gte", []image.Filter{f("created_at", "gte", rfc(20))}, []string{"f2", "f3", "f4", "f5"}},
		{"created_at lt other zone", []image.Filter{f("created_at", "lt", zoned(20))}, []string{"f1"}},
		{"created_at lte other zone", []image.Filter{f("created_at", "lte", zoned(20))}, []string{"f1", "f2"}},
		// at(30) is 07:08:39.123456Z: whole seconds and microseconds count.
		{"created_at gt whole second", []image.Filter{f("created_at", "gt", "2024-05-06T07:08:39Z")}, []string{"f3", "f4", "f5"}},
		{"created_at lt next microsecond", []image.Filter{f("created_at", "lt", "2024-05-06T07:08:39.123457Z")}, []string{"f1", "f2", "f3"}},
		{"created_at in", []image.Filter{f("created_at", "in", rfc(10), zoned(50))}, []string{"f1", "f5"}},
		{"updated_at lt", []image.Filter{f("updated_at", "lt", rfc(80))}, []string{"f4", "f5"}},
		{"updated_at gte", []image.Filter{f("updated_at", "gte", rfc(90))}, []string{"f1", "f2"}},
		// Time ranges under another order (created_at here): the store may
		// test whether any image is in the range first (sqlstore's probe).
		{"updated_at range nothing in it", []image.Filter{f("updated_at", "gt", rfc(100))}, nil},
		{"updated_at range from the oldest", []image.Filter{f("updated_at", "gte", rfc(60))}, []string{"f1", "f2", "f3", "f4", "f5"}},
		{"updated_at range below every time", []image.Filter{f("updated_at", "lt", rfc(60))}, nil},
		{"updated_at range both bounds", []image.Filter{f("updated_at", "gte", rfc(70)), f("updated_at", "lte", rfc(90))}, []string{"f2", "f3", "f4"}},
		{"filters are ANDed", []image.Filter{f("status", "eq", "active"), f("size", "gt", "9")}, []string{"f2"}},
		{"range", []image.Filter{f("size", "gte", "10"), f("size", "lte", "10")}, []string{"f2"}},
	}
	for _, tc := range tests {
		q := everything()
		q.Filters = tc.filters
		t.Run(tc.name, func(t *testing.T) { checkSet(t, "ListImages", list(t, s, q), tc.want...) })
	}
	// created_at ranges under another order, matching some and none.
	for _, tc := range []struct {
		name    string
		filters []image.Filter
		want    []string
	}{
		{"by name created_at gt", []image.Filter{f("created_at", "gt", rfc(20))}, []string{"f3", "f4", "f5"}},
		{"by name created_at nothing in it", []image.Filter{f("created_at", "gt", rfc(50))}, nil},
		{"by name created_at from the oldest", []image.Filter{f("created_at", "gte", rfc(10))}, []string{"f1", "f2", "f3", "f4", "f5"}},
		{"by name created_at both bounds", []image.Filter{f("created_at", "gte", rfc(20)), f("created_at", "lt", rfc(40))}, []string{"f2", "f3"}},
	} {
		q := everything()
		q.Filters, q.Sort = tc.filters, []image.SortKey{{Key: "name"}}
		t.Run(tc.name, func(t *testing.T) { checkSet(t, "ListImages", list(t, s, q), tc.want...) })
	}
}

func testListFilterErrors(t *testing.T, s image.Store) {
	seedFilters(t, s)
	tests := []struct {
		name   string
		filter image.Filter
	}{
		{"unknown field", image.Filter{Field: "bogus", Op: "eq", Values: []string{"x"}}},
		{"internal column", image.Filter{Field: "location", Op: "eq", Values: []string{"x"}}},
		{"sql in field", image.Filter{Field: "name = name OR 1", Op: "eq", Values: []string{"x"}}},
		{"unknown op", image.Filter{Field: "name", Op: "like", Values: []string{"x"}}},
		{"integer not a number", image.Filter{Field: "size", Op: "gt", Values: []string{"abc"}}},
		{"integer in not a number", image.Filter{Field: "min_ram", Op: "in", Values: []string{"1", "x"}}},
		{"time not a time", image.Filter{Field: "created_at", Op: "gt", Values: []string{"yesterday"}}},
		{"eq with two values", image.Filter{Field: "name", Op: "eq", Values: []string{"a", "b"}}},
		{"eq with no value", image.Filter{Field: "name", Op: "eq"}},
		{"in with no value", image.Filter{Field: "name", Op: "in"}},
	}
	for _, tc := range tests {
		q := everything()
		q.Filters = []image.Filter{tc.filter}
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ListImages(t.Context(), q)
			wantErr(t, "ListImages", err, image.ErrInvalid)
		})
	}
	for _, key := range []string{"owner", "visibility", "bogus", ""} {
		q := everything()
		q.Sort = []image.SortKey{{Key: "name"}, {Key: key}}
		t.Run("sort key "+key, func(t *testing.T) {
			_, err := s.ListImages(t.Context(), q)
			wantErr(t, "ListImages", err, image.ErrInvalid)
		})
	}
}

func testListPropertiesTags(t *testing.T, s image.Store) {
	img := func(id string, props map[string]string, tags ...string) *image.Image {
		i := newImage(id)
		i.Properties, i.Tags = props, tags
		return i
	}
	fixtures := []*image.Image{
		img("p1", map[string]string{"os_distro": "ubuntu", "arch": "x86_64"}, "a", "b"),
		img("p2", map[string]string{"os_distro": "ubuntu", "arch": "arm"}, "a"),
		img("p3", map[string]string{"os_distro": "fedora"}, "b", "c"),
		img("p4", nil),
	}
	create(t, s, fixtures...)

	// A listing carries each image's own properties and tags.
	listed := list(t, s, everything())
	checkSet(t, "everything", listed, "p1", "p2", "p3", "p4")
	for _, got := range listed {
		for _, want := range fixtures {
			if want.ID == got.ID {
				checkImage(t, "listed "+got.ID, got, want)
			}
		}
	}

	tests := []struct {
		name  string
		props map[string]string
		tags  []string
		want  []string
	}{
		{"one property", map[string]string{"os_distro": "ubuntu"}, nil, []string{"p1", "p2"}},
		{"two properties", map[string]string{"os_distro": "ubuntu", "arch": "arm"}, nil, []string{"p2"}},
		{"value of another property", map[string]string{"arch": "fedora"}, nil, nil},
		{"missing property", map[string]string{"missing": "x"}, nil, nil},
		{"one tag", nil, []string{"a"}, []string{"p1", "p2"}},
		{"two tags", nil, []string{"a", "b"}, []string{"p1"}},
		{"tag c", nil, []string{"c"}, []string{"p3"}},
		{"unknown tag", nil, []string{"z"}, nil},
		{"property and tag", map[string]string{"os_distro": "ubuntu"}, []string{"b"}, []string{"p1"}},
	}
	for _, tc := range tests {
		q := everything()
		q.Properties, q.Tags = tc.props, tc.tags
		t.Run(tc.name, func(t *testing.T) { checkSet(t, "ListImages", list(t, s, q), tc.want...) })
	}

	// Sorted by another key than creation, a tag or property that few
	// images carry is read whole and sorted (the SQL stores' rareSet);
	// one that many carry is found by walking the sort key's order. Both
	// list alike, page by page, for the owner as for the admin. A store
	// with a bound on the first lists here with either plan.
	for i, name := range []string{"d", "c", "a", "b"} {
		img := get(t, s, fixtures[i].ID)
		was := img.UpdatedAt
		img.Name, img.UpdatedAt = ptr(name), at(i+1)
		if err := s.SaveImage(t.Context(), img, img.Status, was); err != nil {
			t.Fatal(err)
		}
	}
	var all []*image.Image
	for _, f := range fixtures {
		all = append(all, get(t, s, f.ID))
	}
	bounds := []int{-1}
	drives, ok := s.(interface{ SetSetDriveRows(int) })
	if ok {
		bounds = []int{0, 1000}
	}
	for _, bound := range bounds {
		if ok {
			drives.SetSetDriveRows(bound)
		}
		for _, tc := range tests {
			for _, sort := range [][]image.SortKey{{{Key: "name"}}, {{Key: "name", Desc: true}}, {{Key: "updated_at", Desc: true}, {Key: "name"}}} {
				var want []*image.Image
				for _, img := range all {
					if slices.Contains(tc.want, img.ID) {
						want = append(want, img)
					}
				}
				order := ids(expectedOrder(want, sort))
				for _, caller := range []image.Scope{{Admin: true}, {Project: "owner"}} {
					q := everything()
					q.Caller, q.Properties, q.Tags, q.Sort = caller, tc.props, tc.tags, sort
					t.Run(fmt.Sprintf("%s sort %v bound %d caller %q", tc.name, sort, bound, caller.Project), func(t *testing.T) {
						checkOrder(t, "one page", list(t, s, q), order...)
						checkOrder(t, "pages of 1", walkPages(t, s, q, 1), order...)
					})
				}
			}
		}
	}

	// A name prefix with a tag, in name order: the SQL stores walk the
	// tag's rows by their copy of the name from the prefix on.
	for _, tc := range []struct {
		tag, prefix string
		want        []string
	}{
		{"b", "d", []string{"p1"}},
		{"c", "b", nil},
		{"a", "", []string{"p2", "p1"}},
	} {
		q := everything()
		q.Tags, q.Sort = []string{tc.tag}, []image.SortKey{{Key: "name"}}
		q.Filters = []image.Filter{{Field: "name", Op: "prefix", Values: []string{tc.prefix}}}
		checkOrder(t, fmt.Sprintf("tag %s, name prefix %q", tc.tag, tc.prefix), list(t, s, q), tc.want...)
	}
	// Tagged when created, never renamed: the tag's rows have the names
	// the images were created with.
	q1, q2 := img("q1", nil, "n"), img("q2", nil, "n")
	q1.Name, q2.Name = ptr("z"), ptr("y")
	create(t, s, q1, q2)
	q := everything()
	q.Tags, q.Sort = []string{"n"}, []image.SortKey{{Key: "name"}}
	checkOrder(t, "tagged when created, by name", list(t, s, q), "q2", "q1")
}
