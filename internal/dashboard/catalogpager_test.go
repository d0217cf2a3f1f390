package dashboard_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

var (
	nsRowName = regexp.MustCompile(`<tr id="ns-[^"]*">\s*<td class="ns-name"><a [^>]*>[^<]*</a> <span class="muted mono">([^<]*)</span>`)
	pagerLink = regexp.MustCompile(`<a href="([^"]*)" hx-get="[^"]*" hx-target="#namespace-list" hx-swap="outerHTML" hx-push-url="true" rel="(prev|next)">`)
)

// TestMetadefsPanelPages: Admin → Metadata Definitions reads the catalog
// a page at a time in namespace order, forward and back, whatever its
// size (it stopped at 500 namespaces before), on SQLite and PostgreSQL.
func TestMetadefsPanelPages(t *testing.T) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			var c *cloud
			if backend == "postgres" {
				dsn := pgtest.Schema(t)
				c = newCloud(t, func(cfg *config.Config) { cfg.Metadata = config.Metadata{Driver: "postgres", DSN: dsn} })
			} else {
				c = newCloud(t)
			}
			// 15 shipped namespaces and 110 more, in an order unlike
			// their creation's.
			for i := range 110 {
				c.json("POST", "/v2/metadefs/namespaces", c.adminToken, map[string]any{"namespace": fmt.Sprintf("Zz::%03d", (i*37)%110)}, 201, nil)
			}
			var all []string
			marker := ""
			for {
				var page struct {
					Namespaces []struct{ Namespace string }
					Next       string
				}
				q := url.Values{"sort_key": {"namespace"}, "sort_dir": {"asc"}, "limit": {"1000"}}
				if marker != "" {
					q.Set("marker", marker)
				}
				c.json("GET", "/v2/metadefs/namespaces?"+q.Encode(), c.adminToken, nil, 200, &page)
				for _, n := range page.Namespaces {
					all = append(all, n.Namespace)
				}
				if page.Next == "" {
					break
				}
				marker = all[len(all)-1]
			}
			if len(all) != 125 {
				t.Fatalf("the API lists %d namespaces, want 125", len(all))
			}

			b := c.browser()
			b.signIn("admin", adminPassword)
			read := func(path string) (names []string, prev, next string) {
				t.Helper()
				p := b.get(path)
				if p.status != 200 {
					t.Fatalf("%s: %d %s", path, p.status, p.body)
				}
				for _, m := range nsRowName.FindAllStringSubmatch(p.body, -1) {
					names = append(names, html.UnescapeString(m[1]))
				}
				for _, m := range pagerLink.FindAllStringSubmatch(p.body, -1) {
					if m[2] == "prev" {
						prev = html.UnescapeString(m[1])
					} else {
						next = html.UnescapeString(m[1])
					}
				}
				return names, prev, next
			}
			same := func(what string, got, want []string) {
				t.Helper()
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("%s: %q, want %q", what, got, want)
				}
			}
			names, prev, next := read("/dashboard/admin/metadefs")
			same("page 1", names, all[:50])
			if prev != "" || next == "" {
				t.Fatalf("page 1 links: prev %q next %q", prev, next)
			}
			names, prev, next = read(next)
			same("page 2", names, all[50:100])
			names, prev3, next3 := read(next)
			same("page 3", names, all[100:])
			if next3 != "" || prev3 == "" {
				t.Fatalf("page 3 links: prev %q next %q", prev3, next3)
			}
			names, _, _ = read(prev3)
			same("back to page 2", names, all[50:100])
			names, _, _ = read(prev)
			same("back to page 1", names, all[:50])
			names, _, next = read("/dashboard/admin/metadefs?limit=100")
			same("100 a page", names, all[:100])
			names, _, _ = read(next)
			same("the rest", names, all[100:])
			// A marker whose namespace went away starts over.
			names, _, _ = read("/dashboard/admin/metadefs?marker=" + url.QueryEscape("No::Such"))
			same("a stale marker", names, all[:50])
		})
	}
}
