package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/gophercloud/gophercloud/v2"

	"github.com/glint-image/glint/internal/imageclient"
)

// The namespace list of Admin → Metadata Definitions pages as the
// metadefs API does: by marker, in namespace order (Horizon's), so a
// catalog of any size is read one page at a time.

var nsPageSizes = []int{25, 50, 100}

const nsDefaultPage = 50

// nsListing is the namespace list's state from its query string.
type nsListing struct {
	Limit int
	// Marker pages forward (after this namespace); Before pages back.
	Marker, Before string
}

func parseNSListing(q url.Values) nsListing {
	l := nsListing{Marker: nsMarker(q.Get("marker")), Before: nsMarker(q.Get("before"))}
	l.Limit, _ = strconv.Atoi(q.Get("limit"))
	if !slices.Contains(nsPageSizes, l.Limit) {
		l.Limit = nsDefaultPage
	}
	if l.Marker != "" {
		l.Before = ""
	}
	return l
}

// nsMarker keeps a value that can be a namespace name (the API's are at
// most 80 characters); it travels in a query string, escaped, so any
// character is fine.
func nsMarker(s string) string {
	if len(s) > 80 || !utf8.ValidString(s) {
		return ""
	}
	return s
}

// apiQuery asks for one more namespace than shown: whether another page
// follows is then known exactly (the API's next link only says the page
// was full). Paging back reads backwards from Before.
func (l nsListing) apiQuery() url.Values {
	q := url.Values{"sort_key": {"namespace"}, "sort_dir": {"asc"}, "limit": {strconv.Itoa(l.Limit + 1)}}
	switch {
	case l.Before != "":
		q.Set("sort_dir", "desc")
		q.Set("marker", l.Before)
	case l.Marker != "":
		q.Set("marker", l.Marker)
	}
	return q
}

func (l nsListing) url(marker, before string) string {
	v := url.Values{}
	if l.Limit != nsDefaultPage {
		v.Set("limit", strconv.Itoa(l.Limit))
	}
	if marker != "" {
		v.Set("marker", marker)
	}
	if before != "" {
		v.Set("before", before)
	}
	if len(v) == 0 {
		return Prefix + "admin/metadefs"
	}
	return Prefix + "admin/metadefs?" + v.Encode()
}

// URL is this page again, for refreshes.
func (l nsListing) URL() string { return l.url(l.Marker, l.Before) }

// PageSizes are the page lengths offered.
func (l nsListing) PageSizes() []int { return nsPageSizes }

// namespacePageOf reads the page l names. A marker that went away (its
// namespace deleted meanwhile) starts over at the first page.
func namespacePageOf(ctx context.Context, c *gophercloud.ServiceClient, l nsListing) (nsListing, []*imageclient.Namespace, bool, error) {
	p, err := imageclient.ListNamespaces(ctx, c, l.apiQuery())
	if isStatus(err, http.StatusNotFound) && (l.Marker != "" || l.Before != "") {
		l.Marker, l.Before = "", ""
		p, err = imageclient.ListNamespaces(ctx, c, l.apiQuery())
	}
	if err != nil {
		return l, nil, false, err
	}
	list := p.Namespaces
	more := len(list) > l.Limit
	if more {
		list = list[:l.Limit]
	}
	if l.Before != "" {
		slices.Reverse(list)
		if len(list) == 0 {
			// Nothing before it: the first page.
			l.Before = ""
			return namespacePageOf(ctx, c, l)
		}
	}
	return l, list, more, nil
}

// pager sets the page's Prev and Next links.
func (v *metadefsPage) pager(l nsListing, more bool) {
	v.L = l
	if len(v.Rows) == 0 {
		if l.Marker != "" || l.Before != "" {
			v.Prev = l.url("", "")
		}
		return
	}
	first, last := v.Rows[0].Namespace.Namespace, v.Rows[len(v.Rows)-1].Namespace.Namespace
	if l.Before != "" {
		v.Next = l.url(last, "")
		if more {
			v.Prev = l.url("", first)
		}
		return
	}
	if more {
		v.Next = l.url(last, "")
	}
	if l.Marker != "" {
		v.Prev = l.url("", first)
	}
}
