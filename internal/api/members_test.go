package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
)

// share adds project as a member of image id and sets its answer.
func (e *env) share(t *testing.T, id, project, status string) {
	t.Helper()
	_, err := members.Create(ctx, e.owner, id, project).Extract()
	wantStatus(t, err, 0)
	if status != "pending" {
		c := e.client(project, "u-"+project, "member")
		_, err := members.Update(ctx, c, id, project, members.UpdateOpts{Status: status}).Extract()
		wantStatus(t, err, 0)
	}
}

func TestMembers(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "shared"}).Extract()
	wantStatus(t, err, 0)

	// Before sharing the other project cannot see it.
	_, err = images.Get(ctx, e.other, img.ID).Extract()
	wantStatus(t, err, 404)

	m, err := members.Create(ctx, e.owner, img.ID, "proj-b").Extract()
	wantStatus(t, err, 0)
	if m.Status != "pending" || m.MemberID != "proj-b" || m.ImageID != img.ID {
		t.Fatalf("new member: %+v", m)
	}
	resp, body := e.do("owner", "POST", "/v2/images/"+img.ID+"/members",
		map[string]string{"Content-Type": "application/json", "Accept": "application/json"}, `{"member": "proj-b"}`)
	if resp.StatusCode != 409 || !strings.Contains(body, "Member proj-b is duplicated for image "+img.ID) {
		t.Fatalf("duplicate member: %d %s", resp.StatusCode, body)
	}
	// A pending member can see the image by id, but not in its list.
	_, err = images.Get(ctx, e.other, img.ID).Extract()
	wantStatus(t, err, 0)
	if ids := listIDs(t, e, "other", ""); strings.Contains(ids, img.ID) {
		t.Fatal("pending share listed by default")
	}
	if ids := listIDs(t, e, "other", "member_status=pending"); !strings.Contains(ids, img.ID) {
		t.Fatal("pending share missing with member_status=pending")
	}
	// The owner may not answer for the member.
	_, err = members.Update(ctx, e.owner, img.ID, "proj-b", members.UpdateOpts{Status: "accepted"}).Extract()
	wantStatus(t, err, 403)
	_, err = members.Update(ctx, e.other, img.ID, "proj-b", members.UpdateOpts{Status: "bogus"}).Extract()
	wantStatus(t, err, 400)
	m, err = members.Update(ctx, e.other, img.ID, "proj-b", members.UpdateOpts{Status: "accepted"}).Extract()
	wantStatus(t, err, 0)
	if m.Status != "accepted" || !m.UpdatedAt.After(m.CreatedAt.Add(-time.Second)) {
		t.Fatalf("accepted member: %+v", m)
	}
	if ids := listIDs(t, e, "other", ""); !strings.Contains(ids, img.ID) {
		t.Fatal("accepted share not listed")
	}
	// The member may not add members or delete the image.
	_, err = members.Create(ctx, e.other, img.ID, "proj-c").Extract()
	wantStatus(t, err, 403)
	wantStatus(t, images.Delete(ctx, e.other, img.ID).ExtractErr(), 403)

	// Listing: owner sees all members, a member only itself.
	_, err = members.Create(ctx, e.owner, img.ID, "proj-c").Extract()
	wantStatus(t, err, 0)
	if n := countMembers(t, e, "owner", img.ID); n != 2 {
		t.Fatalf("owner sees %d members", n)
	}
	if n := countMembers(t, e, "other", img.ID); n != 1 {
		t.Fatalf("member sees %d members", n)
	}
	got, err := members.Get(ctx, e.other, img.ID, "proj-b").Extract()
	wantStatus(t, err, 0)
	if got.Status != "accepted" {
		t.Fatalf("member show: %+v", got)
	}
	_, err = members.Get(ctx, e.other, img.ID, "proj-c").Extract()
	wantStatus(t, err, 404)

	// Members only exist for shared images; rows survive a visibility round trip.
	_, err = images.Update(ctx, e.owner, img.ID, images.UpdateOpts{images.UpdateVisibility{Visibility: images.ImageVisibilityPrivate}}).Extract()
	wantStatus(t, err, 0)
	_, err = images.Get(ctx, e.other, img.ID).Extract()
	wantStatus(t, err, 404)
	_, err = members.Create(ctx, e.owner, img.ID, "proj-d").Extract()
	wantStatus(t, err, 403)
	_, err = images.Update(ctx, e.owner, img.ID, images.UpdateOpts{images.UpdateVisibility{Visibility: images.ImageVisibilityShared}}).Extract()
	wantStatus(t, err, 0)
	_, err = images.Get(ctx, e.other, img.ID).Extract()
	wantStatus(t, err, 0)

	wantStatus(t, members.Delete(ctx, e.other, img.ID, "proj-b").ExtractErr(), 403)
	wantStatus(t, members.Delete(ctx, e.owner, img.ID, "proj-b").ExtractErr(), 0)
	wantStatus(t, members.Delete(ctx, e.owner, img.ID, "proj-b").ExtractErr(), 404)
	_, err = images.Get(ctx, e.other, img.ID).Extract()
	wantStatus(t, err, 404)
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	img, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "t"}).Extract()
	wantStatus(t, err, 0)
	for _, tag := range []string{"golden", "golden", "a b"} {
		resp, _ := e.do("owner", "PUT", "/v2/images/"+img.ID+"/tags/"+strings.ReplaceAll(tag, " ", "%20"), nil, "")
		if resp.StatusCode != 204 {
			t.Fatalf("add tag %q: %d", tag, resp.StatusCode)
		}
	}
	got, err := images.Get(ctx, e.owner, img.ID).Extract()
	wantStatus(t, err, 0)
	if len(got.Tags) != 2 {
		t.Fatalf("tags %v", got.Tags)
	}
	if resp, _ := e.do("owner", "PUT", "/v2/images/"+img.ID+"/tags/"+strings.Repeat("t", 256), nil, ""); resp.StatusCode != 400 {
		t.Fatalf("long tag: %d", resp.StatusCode)
	}
	if resp, _ := e.do("other", "PUT", "/v2/images/"+img.ID+"/tags/x", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("stranger tag: %d", resp.StatusCode)
	}
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+img.ID+"/tags/golden", nil, ""); resp.StatusCode != 204 {
		t.Fatalf("delete tag: %d", resp.StatusCode)
	}
	if resp, _ := e.do("owner", "DELETE", "/v2/images/"+img.ID+"/tags/golden", nil, ""); resp.StatusCode != 404 {
		t.Fatalf("delete missing tag: %d", resp.StatusCode)
	}
	// The tag quota (128) holds.
	for i := range 127 {
		if resp, _ := e.do("owner", "PUT", "/v2/images/"+img.ID+"/tags/q"+itoa64(int64(i)), nil, ""); resp.StatusCode != 204 {
			t.Fatalf("tag %d: %d", i, resp.StatusCode)
		}
	}
	if resp, _ := e.do("owner", "PUT", "/v2/images/"+img.ID+"/tags/one-too-many", nil, ""); resp.StatusCode != 413 {
		t.Fatalf("tag over quota: %d", resp.StatusCode)
	}
}

func countMembers(t *testing.T, e *env, who, id string) int {
	t.Helper()
	resp, body := e.do(who, "GET", "/v2/images/"+id+"/members", nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("member list: %d %s", resp.StatusCode, body)
	}
	return strings.Count(body, `"member_id"`)
}
