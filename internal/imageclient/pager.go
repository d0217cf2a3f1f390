package imageclient

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
)

// Page is one page of GET /v2/images.
type Page struct {
	Images []*Image `json:"images"`
	// Next is the link to the following page as the server gave it
	// ("/v2/images?marker=..."); empty on the last page.
	Next string `json:"next"`
	// Total is how many images the listing holds over all its pages, when
	// glint's in-process API was asked for it (glint_total); TotalCapped
	// says there are more than Total.
	Total       *int `json:"glint_total"`
	TotalCapped bool `json:"glint_total_capped"`
}

// Marker is the marker of the following page, "" on the last.
func (p *Page) Marker() string {
	if p.Next == "" {
		return ""
	}
	u, err := url.Parse(p.Next)
	if err != nil {
		return ""
	}
	return u.Query().Get("marker")
}

// MaxPages bounds a listing that follows next links: 2000 pages of 1000
// images.
const MaxPages = 2000

// List fetches one page: query is the query string, "" or starting with
// "?" ("?limit=20&marker=...").
func List(ctx context.Context, c *gophercloud.ServiceClient, query string) (*Page, error) {
	return listURL(ctx, c, c.ServiceURL("images")+query)
}

// Each lists the images query selects page after page, following the
// next links, and calls fn with each page until fn returns false or the
// last page; more than MaxPages pages is an error.
func Each(ctx context.Context, c *gophercloud.ServiceClient, query string, fn func(*Page) (more bool, err error)) error {
	next := c.ServiceURL("images") + query
	for n := 0; next != ""; n++ {
		if n == MaxPages {
			return fmt.Errorf("listing images: more than %d pages", MaxPages)
		}
		p, err := listURL(ctx, c, next)
		if err != nil {
			return err
		}
		if more, err := fn(p); err != nil || !more {
			return err
		}
		next = ""
		if p.Next != "" {
			next = resolve(c, p.Next)
		}
	}
	return nil
}

func listURL(ctx context.Context, c *gophercloud.ServiceClient, u string) (*Page, error) {
	ctx, cancel := context.WithTimeout(ctx, CallTimeout)
	defer cancel()
	var p Page
	if _, err := c.Get(ctx, u, &p, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
		return nil, Describe(err)
	}
	return &p, nil
}

// resolve turns a next link ("/v2/images?marker=...") into a URL on the
// endpoint the client was given.
func resolve(c *gophercloud.ServiceClient, link string) string {
	u, err := url.Parse(link)
	if err != nil || u.IsAbs() {
		return link
	}
	base := strings.TrimSuffix(c.Endpoint, "/")
	if strings.HasPrefix(u.Path, "/v2/") {
		return base + link
	}
	return c.ResourceBaseURL() + strings.TrimPrefix(link, "/")
}
