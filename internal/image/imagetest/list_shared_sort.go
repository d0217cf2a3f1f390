package imagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// testListSharedSort: images shared with the caller are listed in every
// order, in both directions and page by page, by the images' values as
// they are now, after each sort key's column changed through the store's
// write paths once the images were shared. A store that orders a
// caller's shares by values it copied when the share was made (the SQL
// stores copy each image's sort keys into its memberships, kept by
// triggers) lists them in a stale order if a copy is missed.
func testListSharedSort(t *testing.T, s image.Store) {
	ctx := t.Context()
	var shared []string
	for i := range 5 {
		img := newImage(fmt.Sprintf("sh%d", i+1))
		img.Name = ptr(fmt.Sprintf("n%d", i+1))
		img.DiskFormat, img.ContainerFormat = ptr("raw"), ptr("bare")
		img.CreatedAt, img.UpdatedAt = at(i+1), at(i+1)
		create(t, s, img)
		shared = append(shared, img.ID)
		st := image.MemberAccepted
		if i == 4 {
			st = image.MemberPending // listed with member_status all
		}
		if err := s.AddMember(ctx, member(img.ID, "acc", st, i+1)); err != nil {
			t.Fatalf("AddMember(%s): %v", img.ID, err)
		}
	}
	// The image shared with nobody, and an image of another member, are
	// never listed; they hold values that would sort among the others.
	other := newImage("other")
	create(t, s, other)
	if err := s.AddMember(ctx, member("other", "rej", image.MemberAccepted, 0)); err != nil {
		t.Fatal(err)
	}

	save := func(id string, change func(img *image.Image), updated int) {
		t.Helper()
		img := get(t, s, id)
		was := img.UpdatedAt
		change(img)
		img.UpdatedAt = at(updated)
		if err := s.SaveImage(ctx, img, img.Status, was); err != nil {
			t.Fatalf("SaveImage(%s): %v", id, err)
		}
	}
	upload := func(id string, size int64, sec int) {
		t.Helper()
		if err := s.SetStatus(ctx, id, image.StatusQueued, image.StatusSaving, at(sec)); err != nil {
			t.Fatalf("SetStatus(%s): %v", id, err)
		}
		if err := s.FinishUpload(ctx, id, image.UploadResult{Size: size, Checksum: "c", HashAlgo: "sha512",
			HashValue: "h", Location: "loc"}, at(sec+1)); err != nil {
			t.Fatalf("FinishUpload(%s): %v", id, err)
		}
	}
	// Each key's order ends up unlike the order of creation (and of the
	// first values) in both directions.
	save("sh1", func(img *image.Image) {
		img.Name, img.DiskFormat, img.ContainerFormat = ptr("zulu"), ptr("vhd"), ptr("ovf")
	}, 40)
	save("sh2", func(img *image.Image) { img.Name, img.DiskFormat = nil, nil }, 20)
	upload("sh2", 50, 21)
	upload("sh3", 10, 23)
	if err := s.SetStatus(ctx, "sh3", image.StatusActive, image.StatusDeactivated, at(30)); err != nil {
		t.Fatal(err)
	}
	save("sh4", func(img *image.Image) { img.ContainerFormat = nil }, 35)
	if err := s.AddTag(ctx, "sh5", "t", at(50)); err != nil {
		t.Fatal(err)
	}
	upload("sh5", 30, 51)
	if err := s.AddTag(ctx, "sh4", "t", at(10)); err != nil {
		t.Fatal(err)
	}
	save("sh3", func(img *image.Image) { img.Hidden = true }, 31)

	var current []*image.Image
	for _, id := range shared {
		current = append(current, get(t, s, id))
	}
	var sorts [][]image.SortKey
	for _, key := range image.SortKeys {
		sorts = append(sorts, []image.SortKey{{Key: key}}, []image.SortKey{{Key: key, Desc: true}})
	}
	sorts = append(sorts, nil,
		[]image.SortKey{{Key: "status"}, {Key: "name", Desc: true}},
		[]image.SortKey{{Key: "size", Desc: true}, {Key: "updated_at"}},
		[]image.SortKey{{Key: "disk_format"}, {Key: "container_format", Desc: true}})
	for _, memberStatus := range []string{"", "all"} {
		visible := current[:4] // sh5's membership is pending
		if memberStatus == "all" {
			visible = current
		}
		for _, sort := range sorts {
			want := ids(expectedOrder(visible, sort))
			q := image.ListQuery{Caller: image.Scope{Project: "acc"}, MemberStatus: memberStatus, Sort: sort, Limit: 1000}
			t.Run(fmt.Sprintf("member_status %q sort %v", memberStatus, sort), func(t *testing.T) {
				checkOrder(t, "one page", list(t, s, q), want...)
				for _, limit := range []int{1, 2} {
					checkOrder(t, fmt.Sprintf("pages of %d", limit), walkPages(t, s, q, limit), want...)
				}
			})
		}
		checkSharedFilters(t, s, memberStatus, visible)
	}
}

// checkSharedFilters lists the caller's shares under each filter that the
// SQL stores also test on the memberships' copies of their images'
// columns (a membership none of whose copies passes is not read at all),
// against the filter applied here to the images as they are now.
func checkSharedFilters(t *testing.T, s image.Store, memberStatus string, visible []*image.Image) {
	f := func(field, op string, values ...string) []image.Filter {
		return []image.Filter{{Field: field, Op: op, Values: values}}
	}
	yes, no := true, false
	var size = func(img *image.Image) int64 {
		if img.Size == nil {
			return -1
		}
		return *img.Size
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, c := range []struct {
		name    string
		filters []image.Filter
		hidden  *bool
		keep    func(img *image.Image) bool
		sort    []image.SortKey
	}{
		{"status active", f("status", "eq", "active"), nil, func(img *image.Image) bool { return img.Status == image.StatusActive }, nil},
		{"status in", f("status", "in", "deactivated", "queued"), nil, func(img *image.Image) bool {
			return img.Status == image.StatusDeactivated || img.Status == image.StatusQueued
		}, nil},
		{"updated after", f("updated_at", "gt", at(34).Format(time.RFC3339Nano)), nil, func(img *image.Image) bool { return img.UpdatedAt.After(at(34)) }, nil},
		{"updated after all", f("updated_at", "gt", at(100).Format(time.RFC3339Nano)), nil, func(*image.Image) bool { return false }, nil},
		{"created up to", f("created_at", "lte", at(2).Format(time.RFC3339Nano)), nil, func(img *image.Image) bool { return !img.CreatedAt.After(at(2)) }, nil},
		{"size from 30", f("size", "gte", "30"), nil, func(img *image.Image) bool { return size(img) >= 30 }, nil},
		// Images without a size have -1 as their copy: the listing
		// still leaves them out.
		{"size below 20", f("size", "lt", "20"), nil, func(img *image.Image) bool { return img.Size != nil && *img.Size < 20 }, nil},
		{"disk_format", f("disk_format", "eq", "vhd"), nil, func(img *image.Image) bool { return str(img.DiskFormat) == "vhd" }, nil},
		{"container_format in", f("container_format", "in", "ovf", "ami"), nil, func(img *image.Image) bool {
			return str(img.ContainerFormat) == "ovf" || str(img.ContainerFormat) == "ami"
		}, nil},
		{"hidden", nil, &yes, func(img *image.Image) bool { return img.Hidden }, nil},
		{"not hidden", nil, &no, func(img *image.Image) bool { return !img.Hidden }, nil},
		// A range of another key than the order's: the memberships in
		// it are read through that key's index and sorted when a page
		// holds them all, and walked in order otherwise.
		{"updated after, by name", f("updated_at", "gt", at(34).Format(time.RFC3339Nano)), nil,
			func(img *image.Image) bool { return img.UpdatedAt.After(at(34)) }, []image.SortKey{{Key: "name"}}},
		{"size from 30, by status", f("size", "gte", "30"), nil, func(img *image.Image) bool { return size(img) >= 30 },
			[]image.SortKey{{Key: "status", Desc: true}}},
		{"created up to, by updated_at", f("created_at", "lte", at(30).Format(time.RFC3339Nano)), nil,
			func(img *image.Image) bool { return !img.CreatedAt.After(at(30)) }, []image.SortKey{{Key: "updated_at"}}},
	} {
		var want []*image.Image
		for _, img := range visible {
			if c.keep(img) {
				want = append(want, img)
			}
		}
		q := image.ListQuery{Caller: image.Scope{Project: "acc"}, MemberStatus: memberStatus,
			Filters: c.filters, Hidden: c.hidden, Sort: c.sort, Limit: 1000}
		t.Run(fmt.Sprintf("member_status %q %s", memberStatus, c.name), func(t *testing.T) {
			order := ids(expectedOrder(want, c.sort))
			checkOrder(t, "one page", list(t, s, q), order...)
			checkOrder(t, "pages of 1", walkPages(t, s, q, 1), order...)
		})
	}
}
