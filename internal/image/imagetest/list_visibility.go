package imagetest

import (
	"testing"

	"github.com/glint-image/glint/internal/image"
)

// Projects of the visibility matrix: "owner" owns most images; "pend",
// "acc" and "rej" are members of shr in those statuses; "other" has no
// relation to any of them; "admin" is the admin's project.
var (
	byOwner  = image.Scope{Project: "owner"}
	byOther  = image.Scope{Project: "other"}
	byPend   = image.Scope{Project: "pend"}
	byAcc    = image.Scope{Project: "acc"}
	byRej    = image.Scope{Project: "rej"}
	byNobody = image.Scope{}
	byAdmin  = image.Scope{Project: "admin", Admin: true}
	byRoot   = image.Scope{Admin: true} // admin without a project
)

// seedVisibility creates the matrix images. Besides the four visibilities
// it has: a private image with an accepted member (a membership grants
// nothing unless the image is shared), community and shared images of
// other projects, a private image without owner, a killed and a
// deleted public image that no listing may ever return, and the owner's
// membership of its own shared image (Glance's database may hold one),
// which must not list that image twice.
func seedVisibility(t *testing.T, s image.Store) {
	img := func(id string, v image.Visibility, owner *string) *image.Image {
		i := newImage(id)
		i.Status, i.Visibility, i.Owner = image.StatusActive, v, owner
		return i
	}
	killed := img("killed", image.VisibilityPublic, ptr("owner"))
	killed.Status = image.StatusKilled
	create(t, s,
		img("pub", image.VisibilityPublic, ptr("owner")),
		img("priv", image.VisibilityPrivate, ptr("owner")),
		img("shr", image.VisibilityShared, ptr("owner")),
		img("comm", image.VisibilityCommunity, ptr("owner")),
		img("privmem", image.VisibilityPrivate, ptr("owner")),
		img("admcomm", image.VisibilityCommunity, ptr("admin")),
		img("shrx", image.VisibilityShared, ptr("other")),
		img("privnil", image.VisibilityPrivate, nil),
		img("gone", image.VisibilityPublic, ptr("owner")),
		killed,
	)
	for _, m := range []*image.Member{
		member("shr", "pend", image.MemberPending, 0),
		member("shr", "acc", image.MemberAccepted, 0),
		member("shr", "rej", image.MemberRejected, 0),
		member("privmem", "acc", image.MemberAccepted, 0),
		member("shr", "owner", image.MemberAccepted, 0),
	} {
		if err := s.AddMember(t.Context(), m); err != nil {
			t.Fatalf("AddMember: %v", err)
		}
	}
	if _, err := s.DeleteImage(t.Context(), "gone", at(1)); err != nil {
		t.Fatal(err)
	}
}

func testListVisibility(t *testing.T, s image.Store) {
	seedVisibility(t, s)
	all := []string{"pub", "priv", "shr", "comm", "privmem", "admcomm", "shrx", "privnil"}
	tests := []struct {
		name         string
		caller       image.Scope
		visibility   string
		memberStatus string
		want         []string
	}{
		// The owner sees all its own images, community ones included.
		{"owner default", byOwner, "", "", []string{"pub", "priv", "shr", "comm", "privmem"}},
		{"owner all", byOwner, "all", "", []string{"pub", "priv", "shr", "comm", "privmem", "admcomm"}},
		{"owner public", byOwner, "public", "", []string{"pub"}},
		{"owner community", byOwner, "community", "", []string{"comm", "admcomm"}},
		{"owner private", byOwner, "private", "", []string{"priv", "privmem"}},
		{"owner shared", byOwner, "shared", "", []string{"shr"}},
		{"owner default pending", byOwner, "", "pending", []string{"pub", "priv", "shr", "comm", "privmem"}},

		// A stranger sees public images, its own, and community on request.
		{"other default", byOther, "", "", []string{"pub", "shrx"}},
		{"other all", byOther, "all", "", []string{"pub", "shrx", "comm", "admcomm"}},
		{"other public", byOther, "public", "", []string{"pub"}},
		{"other community", byOther, "community", "", []string{"comm", "admcomm"}},
		{"other private", byOther, "private", "", nil},
		{"other shared", byOther, "shared", "", []string{"shrx"}},

		// Members: the membership status must match member_status
		// (accepted by default, "all" for any).
		{"accepted default", byAcc, "", "", []string{"pub", "shr"}},
		{"accepted all", byAcc, "all", "", []string{"pub", "shr", "comm", "admcomm"}},
		{"accepted private", byAcc, "private", "", nil},
		{"accepted shared", byAcc, "shared", "", []string{"shr"}},
		{"accepted ms=accepted", byAcc, "", "accepted", []string{"pub", "shr"}},
		{"accepted ms=pending", byAcc, "", "pending", []string{"pub"}},
		{"accepted ms=rejected", byAcc, "", "rejected", []string{"pub"}},
		{"accepted ms=all", byAcc, "", "all", []string{"pub", "shr"}},
		{"accepted shared ms=pending", byAcc, "shared", "pending", nil},
		{"accepted shared ms=all", byAcc, "shared", "all", []string{"shr"}},
		{"pending default", byPend, "", "", []string{"pub"}},
		{"pending ms=pending", byPend, "", "pending", []string{"pub", "shr"}},
		{"pending ms=rejected", byPend, "", "rejected", []string{"pub"}},
		{"pending ms=all", byPend, "", "all", []string{"pub", "shr"}},
		{"pending shared", byPend, "shared", "", nil},
		{"pending shared ms=pending", byPend, "shared", "pending", []string{"shr"}},
		{"pending all", byPend, "all", "", []string{"pub", "comm", "admcomm"}},
		{"pending all ms=pending", byPend, "all", "pending", []string{"pub", "shr", "comm", "admcomm"}},
		{"rejected default", byRej, "", "", []string{"pub"}},
		{"rejected ms=rejected", byRej, "", "rejected", []string{"pub", "shr"}},
		{"rejected ms=pending", byRej, "", "pending", []string{"pub"}},
		{"rejected ms=all", byRej, "", "all", []string{"pub", "shr"}},
		{"rejected shared ms=rejected", byRej, "shared", "rejected", []string{"shr"}},

		// A caller without a project owns nothing and is no member.
		{"no project default", byNobody, "", "", []string{"pub"}},
		{"no project all", byNobody, "all", "", []string{"pub", "comm", "admcomm"}},
		{"no project private", byNobody, "private", "", nil},
		{"no project shared", byNobody, "shared", "all", nil},

		// Admins: no ownership or membership filtering, member_status
		// ignored; community only when asked for or owned.
		{"admin default", byAdmin, "", "", []string{"pub", "priv", "shr", "privmem", "admcomm", "shrx", "privnil"}},
		{"admin all", byAdmin, "all", "", all},
		{"admin public", byAdmin, "public", "", []string{"pub"}},
		{"admin community", byAdmin, "community", "", []string{"comm", "admcomm"}},
		{"admin private", byAdmin, "private", "", []string{"priv", "privmem", "privnil"}},
		{"admin shared", byAdmin, "shared", "", []string{"shr", "shrx"}},
		{"admin default ms=pending", byAdmin, "", "pending", []string{"pub", "priv", "shr", "privmem", "admcomm", "shrx", "privnil"}},
		{"admin shared ms=rejected", byAdmin, "shared", "rejected", []string{"shr", "shrx"}},
		{"admin without project default", byRoot, "", "", []string{"pub", "priv", "shr", "privmem", "shrx", "privnil"}},
		{"admin without project all", byRoot, "all", "", all},
	}
	for _, tc := range tests {
		q := image.ListQuery{Caller: tc.caller, Visibility: tc.visibility, MemberStatus: tc.memberStatus, Limit: 1000}
		t.Run(tc.name, func(t *testing.T) { checkSet(t, "ListImages", list(t, s, q), tc.want...) })
	}

	bad := []struct {
		name string
		q    image.ListQuery
	}{
		{"bad visibility", image.ListQuery{Caller: byOwner, Visibility: "everyone", Limit: 10}},
		{"bad visibility admin", image.ListQuery{Caller: byAdmin, Visibility: "everyone", Limit: 10}},
		{"bad member status", image.ListQuery{Caller: byAcc, MemberStatus: "maybe", Limit: 10}},
	}
	for _, tc := range bad {
		_, err := s.ListImages(t.Context(), tc.q)
		wantErr(t, tc.name, err, image.ErrInvalid)
	}
}
