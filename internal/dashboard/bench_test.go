package dashboard_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// BenchmarkImagesPage renders Project → Images on a catalog of 10,000
// images: the first page, a page deep in the catalog (by marker, sorted by
// name), a filtered page, and the htmx fragment a filter change fetches;
// and, for scale, the one API call a page makes. The dashboard pages with
// the API's markers, so the deep page should cost what the first does.
//
//	go test -run X -bench ImagesPage ./internal/dashboard/
func BenchmarkImagesPage(b *testing.B) {
	c := newCloud(b)
	c.addUser("alice", "demo")
	token := c.token("alice", "pw-alice", "demo")
	const n = 10000
	ids := make([]string, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				img := c.createImage(token, map[string]any{"name": fmt.Sprintf("image-%05d", i), "disk_format": "qcow2",
					"container_format": "bare", "os_distro": "cirros"})
				ids[i] = img["id"].(string)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	br := c.browser()
	br.signIn("alice", "pw-alice")

	for _, bc := range []struct {
		name, path, target string
	}{
		{"first", "/dashboard/project/images", ""},
		{"deep", "/dashboard/project/images?sort=name&dir=asc&marker=" + ids[n/2], ""},
		{"filtered", "/dashboard/project/images?name=image-04242", ""},
		{"fragment", "/dashboard/project/images?disk_format=qcow2&sort=name&dir=desc", "image-list"},
		// The edit dialog reads the whole metadata-definitions catalog.
		{"edit-dialog", "/dashboard/images/" + ids[42] + "/edit", "modal-content"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				var p answer
				if bc.target != "" {
					p = br.hx("GET", bc.path, nil, bc.target)
				} else {
					p = br.get(bc.path)
				}
				if p.status != http.StatusOK || (bc.name != "edit-dialog" && len(rows(p.body)) == 0) {
					b.Fatalf("%s: %d, %d rows", bc.path, p.status, len(rows(p.body)))
				}
			}
		})
	}
	// The API calls behind the pages, alone: what the dashboard adds is
	// the difference.
	demo := c.projects["demo"]
	for _, bc := range []struct{ name, query string }{
		{"api-first", "owner=" + demo + "&visibility=all&limit=21&sort=created_at:desc,id:desc"},
		{"api-deep", "owner=" + demo + "&visibility=all&limit=21&sort=name:asc,created_at:asc,id:asc&marker=" + ids[n/2]},
		{"api-default-list", "limit=21"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				if status, _ := c.do("GET", "/v2/images?"+bc.query, token, nil, nil); status != 200 {
					b.Fatal(status)
				}
			}
		})
	}
}
