package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/pagination"
)

// listIDs lists as who with a raw query and returns the names of the
// images, comma separated in order (names are set to be unique in tests).
func listIDs(t *testing.T, e *env, who, query string) string {
	t.Helper()
	resp, body := e.do(who, "GET", "/v2/images?"+query, nil, "")
	if resp.StatusCode != 200 {
		t.Fatalf("list %q: %d %s", query, resp.StatusCode, body)
	}
	var page struct {
		Images []struct{ ID, Name string }
	}
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, img := range page.Images {
		out = append(out, img.Name+"="+img.ID)
	}
	return strings.Join(out, ",")
}

func names(t *testing.T, e *env, who, query string) []string {
	t.Helper()
	var out []string
	for _, pair := range strings.Split(listIDs(t, e, who, query), ",") {
		if pair != "" {
			out = append(out, strings.SplitN(pair, "=", 2)[0])
		}
	}
	slices.Sort(out)
	return out
}

// catalog creates one image per visibility for proj-a, plus a shared image
// per member answer for proj-b, a hidden one, and one owned by proj-b.
func catalog(t *testing.T, e *env) {
	t.Helper()
	mk := func(c *images.CreateOpts, as string) string {
		client := e.owner
		if as == "admin" {
			client = e.admin
		}
		img, err := images.Create(ctx, client, *c).Extract()
		wantStatus(t, err, 0)
		return img.ID
	}
	mk(&images.CreateOpts{Name: "a-private", Visibility: ptr(images.ImageVisibilityPrivate), Tags: []string{"x"}}, "")
	mk(&images.CreateOpts{Name: "a-shared", Tags: []string{"x", "y"}, Properties: map[string]string{"os_distro": "ubuntu"}}, "")
	mk(&images.CreateOpts{Name: "a-community", Visibility: ptr(images.ImageVisibilityCommunity)}, "")
	mk(&images.CreateOpts{Name: "a-public", Visibility: ptr(images.ImageVisibilityPublic), Properties: map[string]string{"owner": "proj-a"}, MinDisk: 5}, "admin")
	mk(&images.CreateOpts{Name: "a-hidden", Visibility: ptr(images.ImageVisibilityPublic), Properties: map[string]string{"owner": "proj-a"}, Hidden: ptr(true)}, "admin")
	e.share(t, mk(&images.CreateOpts{Name: "b-accepted"}, ""), "proj-b", "accepted")
	e.share(t, mk(&images.CreateOpts{Name: "b-pending"}, ""), "proj-b", "pending")
	e.share(t, mk(&images.CreateOpts{Name: "b-rejected"}, ""), "proj-b", "rejected")
	_, err := images.Create(ctx, e.other, images.CreateOpts{Name: "b-own", Properties: map[string]string{"os_distro": "debian"}}).Extract()
	wantStatus(t, err, 0)
}

func TestListVisibility(t *testing.T) {
	e := newEnv(t)
	catalog(t, e)
	cases := []struct {
		who, query string
		want       []string
	}{
		{"owner", "", []string{"a-private", "a-public", "a-shared", "a-community", "b-accepted", "b-pending", "b-rejected"}},
		{"other", "", []string{"a-public", "b-accepted", "b-own"}},
		{"other", "member_status=pending", []string{"a-public", "b-own", "b-pending"}},
		{"other", "member_status=all", []string{"a-public", "b-accepted", "b-own", "b-pending", "b-rejected"}},
		{"other", "visibility=community", []string{"a-community"}},
		{"other", "visibility=all", []string{"a-community", "a-public", "b-accepted", "b-own"}},
		{"other", "visibility=private", nil},
		{"other", "visibility=shared", []string{"b-accepted", "b-own"}},
		{"owner", "visibility=private", []string{"a-private"}},
		{"other", "os_hidden=true", []string{"a-hidden"}},
		{"admin", "", []string{"a-private", "a-public", "a-shared", "b-accepted", "b-own", "b-pending", "b-rejected"}},
		{"admin", "visibility=community", []string{"a-community"}},
		{"owner", "tag=x", []string{"a-private", "a-shared"}},
		{"owner", "tag=x&tag=y", []string{"a-shared"}},
		{"owner", "os_distro=ubuntu", []string{"a-shared"}},
		{"admin", "os_distro=debian", []string{"b-own"}},
		{"admin", "owner=proj-b", []string{"b-own"}},
		{"owner", "name=a-private", []string{"a-private"}},
		{"owner", `name=in:a-private,"a-shared"`, []string{"a-private", "a-shared"}},
		{"owner", "min_disk=5", []string{"a-public"}},
		{"owner", "status=active", nil},
		{"owner", "status=in:queued,active&visibility=public", []string{"a-public"}},
		{"owner", "protected=true", nil},
		{"owner", "created_at=lt:2000-01-01T00:00:00Z", nil},
		{"owner", "created_at=gte:2000-01-01T00:00:00Z&visibility=private", []string{"a-private"}},
	}
	for _, c := range cases {
		got := names(t, e, c.who, c.query)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s %q: got %v, want %v", c.who, c.query, got, want)
		}
	}
}

func TestListBadQueries(t *testing.T) {
	e := newEnv(t)
	cases := map[string]string{
		"limit=x":                 "limit param must be an integer",
		"limit=-1":                "limit param must be positive",
		"sort_key=nope":           "Invalid sort key: nope. It must be one of the following: name, status, container_format, disk_format, size, id, created_at, updated_at.",
		"sort=name:up":            "Invalid sort direction",
		"sort=name&sort_key=id":   "cannot be used together",
		"visibility=secret":       "Invalid visibility value",
		"member_status=maybe":     "Invalid status value",
		"os_hidden=maybe":         "os_hidden",
		"size_min=big":            "size_min",
		"created_at=gt:yesterday": "invalid time",
		"marker=00000000-0000-0000-0000-000000000000": "No image found with ID 00000000-0000-0000-0000-000000000000",
	}
	for q, msg := range cases {
		resp, body := e.do("owner", "GET", "/v2/images?"+q, map[string]string{"Accept": "application/json"}, "")
		if resp.StatusCode != 400 || !strings.Contains(body, msg) {
			t.Errorf("%s: %d %s", q, resp.StatusCode, body)
		}
	}
}

func TestListPagingAndSorting(t *testing.T) {
	e := newEnv(t)
	const n = 23
	for i := range n {
		_, err := images.Create(ctx, e.owner, images.CreateOpts{Name: "img-" + string(rune('a'+i%5)), Tags: []string{"p"}}).Extract()
		wantStatus(t, err, 0)
	}
	// gophercloud follows the next links until the end.
	for _, opts := range []images.ListOpts{
		{Limit: 4, Sort: "name:asc"},
		{Limit: 1, SortKey: "name", SortDir: "desc"},
		{Limit: 7},
		{Limit: 5, Sort: "name:asc,created_at:desc", Tags: []string{"p"}},
	} {
		var seen []string
		err := images.List(e.owner, opts).EachPage(ctx, func(_ context.Context, page pagination.Page) (bool, error) {
			list, err := images.ExtractImages(page)
			for _, img := range list {
				seen = append(seen, img.Name+"/"+img.ID)
			}
			return true, err
		})
		wantStatus(t, err, 0)
		if len(seen) != n {
			t.Fatalf("%+v: walked %d images, want %d", opts, len(seen), n)
		}
		ids := map[string]bool{}
		for i, s := range seen {
			ids[s] = true
			if i > 0 && strings.Contains(opts.Sort+opts.SortKey, "name") {
				prev, cur := strings.Split(seen[i-1], "/")[0], strings.Split(s, "/")[0]
				if (opts.SortDir == "desc" && prev < cur) || (opts.SortDir != "desc" && prev > cur) {
					t.Fatalf("%+v: out of order at %d: %s then %s", opts, i, prev, cur)
				}
			}
		}
		if len(ids) != n {
			t.Fatalf("%+v: %d distinct images in %d", opts, len(ids), n)
		}
	}
	// Links: first never carries the marker; next does, and is absent on a short page.
	resp, body := e.do("owner", "GET", "/v2/images?limit=20&sort=name:asc", nil, "")
	var page map[string]any
	json.Unmarshal([]byte(body), &page)
	if resp.StatusCode != 200 || page["first"] != "/v2/images?limit=20&sort=name%3Aasc" || page["schema"] != "/v2/schemas/images" ||
		!strings.HasPrefix(page["next"].(string), "/v2/images?limit=20&sort=name%3Aasc&marker=") {
		t.Fatalf("links: %v", page)
	}
	_, body = e.do("owner", "GET", page["next"].(string), nil, "")
	page = nil
	json.Unmarshal([]byte(body), &page)
	if _, ok := page["next"]; ok || len(page["images"].([]any)) != 3 {
		t.Fatalf("last page: %d images, next %v", len(page["images"].([]any)), page["next"])
	}
	// Default limit 25, cap 1000.
	for i := 0; i < 3; i++ {
		images.Create(ctx, e.owner, images.CreateOpts{Name: "more"})
	}
	if got := strings.Count(listIDs(t, e, "owner", ""), "="); got != 25 {
		t.Fatalf("default page has %d images", got)
	}
	if got := strings.Count(listIDs(t, e, "owner", "limit=5000"), "="); got != n+3 {
		t.Fatalf("limit=5000 page has %d images", got)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestListFilterCaps: a thousand tag or property filters (a 500 from
// SQLite's expression depth before) or a huge in: list are a 400 naming
// the limit; at the limit the listing works.
func TestListFilterCaps(t *testing.T) {
	e := newEnv(t)
	e.createImage(t, `{"name":"a","disk_format":"raw","container_format":"bare"}`)
	many := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, "&")
	}
	ids := make([]string, 501)
	for i := range ids {
		ids[i] = fmt.Sprintf("id%d", i)
	}
	for q, msg := range map[string]string{
		many(1000, func(i int) string { return fmt.Sprintf("tag=t%d", i) }): "Too many tag filters: 1000 given, at most 64 are allowed.",
		many(1000, func(i int) string { return fmt.Sprintf("p%d=v", i) }):   "Too many property filters: 1000 given, at most 64 are allowed.",
		"id=in:" + strings.Join(ids, ","):                                   "Too many values in the id filter: 501 given, at most 500 are allowed.",
	} {
		resp, body := e.do("owner", "GET", "/v2/images?"+q, map[string]string{"Accept": "application/json"}, "")
		if resp.StatusCode != 400 || !strings.Contains(body, msg) {
			t.Errorf("%.40s...: %d %.300s", q, resp.StatusCode, body)
		}
	}
	for _, q := range []string{
		many(64, func(i int) string { return fmt.Sprintf("tag=t%d", i) }),
		many(64, func(i int) string { return fmt.Sprintf("p%d=v", i) }),
		"id=in:" + strings.Join(ids[:500], ","),
	} {
		if resp, body := e.do("owner", "GET", "/v2/images?"+q, nil, ""); resp.StatusCode != 200 {
			t.Errorf("%.40s... at the limit: %d %.300s", q, resp.StatusCode, body)
		}
	}
}
