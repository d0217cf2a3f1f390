package imagetest

import (
	"fmt"
	"testing"

	"github.com/glint-image/glint/internal/image"
)

func member(imageID, memberID string, st image.MemberStatus, created int) *image.Member {
	return &image.Member{ImageID: imageID, MemberID: memberID, Status: st,
		CreatedAt: at(created), UpdatedAt: at(created)}
}

func describeMember(m *image.Member) string {
	if m == nil {
		return "<nil>"
	}
	return fmt.Sprintf("%s/%s %s created %s updated %s", m.ImageID, m.MemberID, m.Status,
		m.CreatedAt.Format("2006-01-02T15:04:05.000000Z07:00 MST"),
		m.UpdatedAt.Format("2006-01-02T15:04:05.000000Z07:00 MST"))
}

func checkMember(t *testing.T, label string, got, want *image.Member) {
	t.Helper()
	if g, w := describeMember(got), describeMember(want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", label, g, w)
	}
}

func testMembers(t *testing.T, s image.Store) {
	create(t, s, newImage("img"), newImage("other"))
	// p1 and p3 share a created_at, so ListMembers must order them by id.
	for _, m := range []*image.Member{
		member("img", "p3", image.MemberPending, 1),
		member("img", "p1", image.MemberPending, 1),
		member("img", "p2", image.MemberRejected, 0),
	} {
		if err := s.AddMember(t.Context(), m); err != nil {
			t.Fatalf("AddMember(%s): %v", m.MemberID, err)
		}
	}

	got, err := s.GetMember(t.Context(), "img", "p1")
	if err != nil {
		t.Fatalf("GetMember: %v", err)
	}
	checkMember(t, "GetMember", got, member("img", "p1", image.MemberPending, 1))

	err = s.AddMember(t.Context(), member("img", "p1", image.MemberAccepted, 5))
	wantErr(t, "AddMember(duplicate)", err, image.ErrDuplicate)

	checkMemberList(t, s, "img", "p2", "p1", "p3")
	checkMemberList(t, s, "other")

	upd := member("img", "p1", image.MemberAccepted, 1)
	upd.UpdatedAt = at(5)
	if err := s.UpdateMember(t.Context(), upd); err != nil {
		t.Fatalf("UpdateMember: %v", err)
	}
	got, err = s.GetMember(t.Context(), "img", "p1")
	if err != nil {
		t.Fatalf("GetMember after update: %v", err)
	}
	checkMember(t, "after UpdateMember", got, upd)

	wantErr(t, "UpdateMember(missing)", s.UpdateMember(t.Context(), member("img", "p9", image.MemberAccepted, 1)), image.ErrNotFound)
	_, err = s.GetMember(t.Context(), "other", "p1")
	wantErr(t, "GetMember(other image)", err, image.ErrNotFound)
	_, err = s.GetMember(t.Context(), "missing", "p1")
	wantErr(t, "GetMember(missing image)", err, image.ErrNotFound)

	if err := s.DeleteMember(t.Context(), "img", "p1"); err != nil {
		t.Fatalf("DeleteMember: %v", err)
	}
	_, err = s.GetMember(t.Context(), "img", "p1")
	wantErr(t, "GetMember(deleted member)", err, image.ErrNotFound)
	wantErr(t, "DeleteMember(again)", s.DeleteMember(t.Context(), "img", "p1"), image.ErrNotFound)
	checkMemberList(t, s, "img", "p2", "p3")

	// A deleted membership can be added again.
	if err := s.AddMember(t.Context(), member("img", "p1", image.MemberPending, 7)); err != nil {
		t.Fatalf("AddMember(after delete): %v", err)
	}
	checkMemberList(t, s, "img", "p2", "p3", "p1")
}

func checkMemberList(t *testing.T, s image.Store, imageID string, want ...string) {
	t.Helper()
	members, err := s.ListMembers(t.Context(), imageID)
	if err != nil {
		t.Fatalf("ListMembers(%s): %v", imageID, err)
	}
	var got []string
	for _, m := range members {
		if m.ImageID != imageID {
			t.Errorf("ListMembers(%s) returned a member of %s", imageID, m.ImageID)
		}
		got = append(got, m.MemberID)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("ListMembers(%s) = %v, want %v", imageID, got, want)
	}
}
