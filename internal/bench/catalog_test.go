package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/glint-image/glint/internal/config"
	benchcatalog "github.com/glint-image/glint/internal/image/catalog"
	"github.com/glint-image/glint/internal/servertest"
)

// TestListShapesCoverTheCatalog holds glint bench to every listing shape
// of package catalog that the API can ask for, under the same name: a
// shape added there is measured over HTTP too, or said here not to be
// expressible.
func TestListShapesCoverTheCatalog(t *testing.T) {
	have := map[string]bool{}
	for _, sh := range listShapes(directCatalog(10000)) {
		if have[sh.name] {
			t.Errorf("shape %s is listed twice", sh.name)
		}
		have[sh.name] = true
	}
	for _, sh := range benchcatalog.Shapes(10000) {
		switch {
		case have[sh.Name]:
		case measuredAs[sh.Name] != "":
		case notOverAPI[sh.Name] != "":
		default:
			t.Errorf("catalog shape %s is not measured over HTTP (add it to listShapes, or to notOverAPI with why)", sh.Name)
		}
	}
	for name := range notOverAPI {
		if have[name] {
			t.Errorf("shape %s is measured yet said not to be expressible", name)
		}
	}
}

// TestSeedSharesWithTheMember seeds the catalog through a real glint's
// API and lists it as each caller: the member sees its images, the
// public ones and the shares it accepted, and can ask for the pending
// ones; the lonely project sees the public images only.
func TestSeedSharesWithTheMember(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthTrustedHeaders
	ts := servertest.Start(t, cfg)
	tg := endpointTarget("endpoint", ts.URL, Identity{}, Identity{}, 0)
	tg.setTrustedCallers()
	cs := callers{member: newClient(ts.URL, tg.member, 8), admin: newClient(ts.URL, tg.admin, 8),
		sharer: newClient(ts.URL, tg.sharer, 8), lonely: newClient(ts.URL, tg.lonely, 8)}
	defer cs.close()

	const n = 100
	ctx := context.Background()
	cat, requests, err := seed(ctx, cs, n, 4)
	if err != nil {
		t.Fatal(err)
	}
	// Images 0..99: public every tenth, shared three in ten; offered to
	// the member those with i mod 30 in {2,13,24} (accepted) and
	// {3,14,22} (pending), 10 each; the member's own shared ones are the
	// other 10, which it lists whatever member_status says (as Glance).
	const public, accepted, pending, ownShared = 10, 10, 10, 10
	if want := n + 2*accepted + pending; requests != want {
		t.Errorf("seeding took %d requests, want %d", requests, want)
	}
	if want := n - accepted - pending - public; len(cat.own) != want {
		t.Errorf("the member owns %d images, want %d", len(cat.own), want)
	}
	if want := n - pending; len(cat.all) != want {
		t.Errorf("the catalog says the member lists %d images, want %d", len(cat.all), want)
	}
	for _, c := range []struct {
		name   string
		caller *client
		query  string
		want   int
	}{
		{"member, default", cs.member, "", n - pending},
		{"member, pending", cs.member, "visibility=shared&member_status=pending", ownShared + pending},
		{"member, accepted shares", cs.member, "visibility=shared&owner=" + sharerProject, accepted},
		{"member, all shared", cs.member, "visibility=shared&member_status=all", ownShared + accepted + pending},
		{"lonely, default", cs.lonely, "", public},
		{"lonely, shared", cs.lonely, "visibility=shared&member_status=all", 0},
		{"admin, sharer's images", cs.admin, "owner=" + sharerProject, accepted + pending},
		{"member, the rare tag by name", cs.member, "tag=" + benchcatalog.RareTag + "&sort_key=name", 1}, // image 5
		{"member, updated after the catalog", cs.member, "updated_at=gt:" + cat.after.UTC().Format("2006-01-02T15:04:05Z"), 0},
	} {
		if got := count(t, c.caller, c.query); got != c.want {
			t.Errorf("%s (%s): %d images, want %d", c.name, c.query, got, c.want)
		}
	}
	// Every shape is a listing glint accepts, as its caller.
	for _, sh := range listShapes(cat) {
		c := map[shapeCaller]*client{asMember: cs.member, asAdmin: cs.admin, asLonely: cs.lonely}[sh.caller]
		if _, err := c.do(ctx, "GET", "/v2/images?"+sh.query, "", nil, http.StatusOK, nil); err != nil {
			t.Errorf("shape %s: %v", sh.name, err)
		}
	}
}

// count lists every image c sees with query, following the next links.
func count(t *testing.T, c *client, query string) int {
	t.Helper()
	path := "/v2/images?limit=7"
	if query != "" {
		path += "&" + query
	}
	seen := 0
	for path != "" {
		var page imagePage
		if _, err := c.do(context.Background(), "GET", path, "", nil, http.StatusOK, &page); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		seen += len(page.Images)
		path = page.Next
	}
	return seen
}
