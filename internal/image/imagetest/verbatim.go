package imagetest

import (
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

// testPutImage checks image.VerbatimStore, which every store the suite
// runs on implements (glint admin migrate-glance writes through it): a
// record written verbatim reads back as given, and a second write
// replaces properties, tags and members as whole sets.
func testPutImage(t *testing.T, s image.Store) {
	vs, ok := s.(image.VerbatimStore)
	if !ok {
		t.Fatal("the store does not implement image.VerbatimStore")
	}
	ctx := t.Context()
	img := fullImage("put")
	img.Status = image.StatusDeactivated
	members := []*image.Member{
		{ImageID: "put", MemberID: "p1", Status: image.MemberAccepted, CreatedAt: at(2), UpdatedAt: at(3)},
		{ImageID: "put", MemberID: "p2", Status: image.MemberPending, CreatedAt: at(4), UpdatedAt: at(4)},
	}
	if err := vs.PutImage(ctx, img, members); err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	want := fullImage("put")
	want.Status = image.StatusDeactivated
	checkImage(t, "first put", get(t, s, "put"), want)
	checkMembers(t, s, "put", "p1=accepted", "p2=pending")

	// Replace: another status, one property and tag fewer, one member
	// changed and one gone, deleted.
	deleted := at(9)
	next := fullImage("put")
	next.Status, next.DeletedAt, next.UpdatedAt = image.StatusDeleted, &deleted, deleted
	next.Properties = map[string]string{"os_distro": "debian"}
	next.Tags = []string{"a"}
	next.Checksum, next.Location = "", ""
	if err := vs.PutImage(ctx, next, []*image.Member{
		{ImageID: "put", MemberID: "p2", Status: image.MemberRejected, CreatedAt: at(4), UpdatedAt: at(8)},
	}); err != nil {
		t.Fatalf("second PutImage: %v", err)
	}
	checkImage(t, "second put", get(t, s, "put"), next)
	checkMembers(t, s, "put", "p2=rejected")

	// A record put as it is somewhere else is an ordinary record after:
	// the service's own writes apply to it.
	other := newImage("other")
	if err := vs.PutImage(ctx, other, nil); err != nil {
		t.Fatalf("PutImage(other): %v", err)
	}
	if err := s.AddTag(ctx, "other", "x", at(20)); err != nil {
		t.Fatalf("AddTag after PutImage: %v", err)
	}
	if got := get(t, s, "other"); len(got.Tags) != 1 || !got.UpdatedAt.Equal(at(20)) {
		t.Errorf("after AddTag: tags %v updated_at %v", got.Tags, got.UpdatedAt.Format(time.RFC3339Nano))
	}

	// Put records are listed as created ones are: a shared image put with
	// an accepted member is on the member's page after a younger image
	// (the listing reads memberships, and property rows, in their
	// image's creation order, which a put must record too).
	older, younger := newImage("put-older"), newImage("put-younger")
	older.CreatedAt, older.UpdatedAt = at(30), at(30)
	older.Properties = map[string]string{"put_group": "1"}
	younger.CreatedAt, younger.UpdatedAt = at(31), at(31)
	younger.Properties = map[string]string{"put_group": "1"}
	for _, img := range []*image.Image{older, younger} {
		err := vs.PutImage(ctx, img, []*image.Member{{ImageID: img.ID, MemberID: "put-member",
			Status: image.MemberAccepted, CreatedAt: at(32), UpdatedAt: at(32)}})
		if err != nil {
			t.Fatalf("PutImage(%s): %v", img.ID, err)
		}
	}
	member := image.Scope{Project: "put-member"}
	for name, q := range map[string]image.ListQuery{
		"default":  {Caller: member, Limit: 10, Marker: "put-younger"},
		"property": {Caller: member, Limit: 10, Marker: "put-younger", Properties: map[string]string{"put_group": "1"}},
	} {
		imgs, err := s.ListImages(ctx, q)
		if err != nil {
			t.Fatalf("%s listing of put images: %v", name, err)
		}
		if len(imgs) != 1 || imgs[0].ID != "put-older" {
			ids := []string{}
			for _, img := range imgs {
				ids = append(ids, img.ID)
			}
			t.Errorf("%s listing after put-younger: %v, want [put-older]", name, ids)
		}
	}
}

func checkMembers(t *testing.T, s image.Store, id string, want ...string) {
	t.Helper()
	ms, err := s.ListMembers(t.Context(), id)
	if err != nil {
		t.Fatalf("ListMembers(%s): %v", id, err)
	}
	var got []string
	for _, m := range ms {
		got = append(got, m.MemberID+"="+string(m.Status))
	}
	if len(got) != len(want) {
		t.Fatalf("members of %s: %v, want %v", id, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("members of %s: %v, want %v", id, got, want)
		}
	}
}
