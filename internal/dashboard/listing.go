package dashboard

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// listing is the state of an image table, read from and written to the
// page's query string, so every view has a URL (bookmarks, back button).
// Paging is by marker, as the API pages: one indexed range read per page
// whatever the catalog's size.
type listing struct {
	// Panel is "project" or "admin".
	Panel string
	// Tab (project panel): project, shared, community, public.
	Tab string

	Name, Status, Visibility, DiskFormat, Protected, Type, Owner, Member, Hidden string
	// Match is how Name matches: "" (the name starts with it) or
	// "contains".
	Match string

	Sort, Dir string
	Limit     int
	// Marker pages forward (after this id); Before pages back.
	Marker, Before string
}

var (
	tabs           = []string{"project", "shared", "community", "public"}
	sortableKeys   = []string{"name", "status", "disk_format", "size", "created_at"}
	pageSizes      = []int{20, 50, 100}
	statusChoices  = []string{"active", "queued", "saving", "importing", "uploading", "deactivated", "killed", "pending_delete"}
	visChoices     = []string{"private", "shared", "community", "public"}
	memberChoices  = []string{"all", "pending", "accepted", "rejected"}
	diskFormats    = []string{"iso", "qcow2", "raw", "vmdk", "vhd", "vhdx", "vdi", "ploop", "aki", "ami", "ari"}
	containerFmts  = []string{"bare", "ovf", "ova", "aki", "ari", "ami", "docker", "compressed"}
	architectures  = []string{"x86_64", "aarch64", "i686", "ppc64le", "s390x", "riscv64"}
	defaultSortDir = map[string]string{"name": "asc", "status": "asc", "disk_format": "asc", "size": "desc", "created_at": "desc"}
)

// choose returns v if it is one of allowed, else "".
func choose(v string, allowed []string) string {
	if slices.Contains(allowed, v) {
		return v
	}
	return ""
}

// parseListing reads a table's state; anything unknown falls back to the
// default rather than failing the page.
func parseListing(panel string, q url.Values) listing {
	l := listing{Panel: panel, Name: strings.TrimSpace(q.Get("name")), Status: choose(q.Get("status"), statusChoices),
		DiskFormat: choose(q.Get("disk_format"), diskFormats), Protected: choose(q.Get("protected"), []string{"true", "false"}),
		Type: choose(q.Get("type"), []string{"snapshot"}), Hidden: choose(q.Get("hidden"), []string{"true"}),
		Match: choose(q.Get("match"), []string{"contains"}),
		Sort:  choose(q.Get("sort"), sortableKeys), Dir: choose(q.Get("dir"), []string{"asc", "desc"}),
		Marker: idLike(q.Get("marker")), Before: idLike(q.Get("before"))}
	if len(l.Name) > 255 {
		l.Name = l.Name[:255]
	}
	if panel == "project" {
		l.Tab = choose(q.Get("tab"), tabs)
		if l.Tab == "" {
			l.Tab = "project"
		}
		if l.Tab == "project" {
			l.Visibility = choose(q.Get("visibility"), visChoices)
		}
		if l.Tab == "shared" {
			l.Member = choose(q.Get("member"), memberChoices)
			if l.Member == "" {
				l.Member = "all"
			}
		}
	} else {
		l.Visibility = choose(q.Get("visibility"), visChoices)
		l.Owner = idLike(q.Get("owner"))
	}
	if l.Sort == "" {
		l.Sort = "created_at"
	}
	if l.Dir == "" {
		l.Dir = defaultSortDir[l.Sort]
	}
	l.Limit, _ = strconv.Atoi(q.Get("limit"))
	if !slices.Contains(pageSizes, l.Limit) {
		l.Limit = pageSizes[0]
	}
	return l
}

// idLike keeps values that can be ids (markers, project ids); anything
// else is dropped before it reaches a query.
func idLike(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return ""
		}
	}
	return s
}

// sortSpec is the API's sort parameter with the tie-breakers spelled out,
// so that the reverse order (for the previous page) is exactly reversed.
func (l listing) sortSpec(reverse bool) string {
	dir := l.Dir
	if reverse {
		dir = map[string]string{"asc": "desc", "desc": "asc"}[dir]
	}
	keys := []string{l.Sort}
	for _, k := range []string{"created_at", "id"} {
		if k != l.Sort {
			keys = append(keys, k)
		}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + dir
	}
	return strings.Join(parts, ",")
}

// apiQuery is the GET /v2/images query for this state, for a caller in
// project.
func (l listing) apiQuery(project string) url.Values {
	q := url.Values{}
	// One more than shown tells whether another page follows, exactly;
	// the API's next link only says the page was full.
	q.Set("limit", strconv.Itoa(l.Limit+1))
	q.Set("sort", l.sortSpec(l.Before != ""))
	switch {
	case l.Before != "":
		q.Set("marker", l.Before)
	case l.Marker != "":
		q.Set("marker", l.Marker)
	}
	switch l.Tab {
	case "project":
		q.Set("owner", project)
		if l.Visibility != "" {
			q.Set("visibility", l.Visibility)
		} else {
			q.Set("visibility", "all")
		}
	case "shared":
		q.Set("visibility", "shared")
		q.Set("member_status", l.Member)
	case "community", "public":
		q.Set("visibility", l.Tab)
	case "":
		// Admin: every project's images, community ones included.
		q.Set("visibility", "all")
		if l.Visibility != "" {
			q.Set("visibility", l.Visibility)
		}
		if l.Owner != "" {
			q.Set("owner", l.Owner)
		}
	}
	if l.Name != "" {
		// Names are searched by prefix (a range of the name index) or
		// substring (a bounded scan), through the API's in-process
		// extension; the public API keeps Glance's exact match.
		if l.Match == "contains" {
			q.Set("glint_name_contains", l.Name)
		} else {
			q.Set("glint_name_prefix", l.Name)
		}
	}
	if l.Tab != "shared" {
		// The shared tab drops rows after listing (the project's own
		// shared images), so a count of the listing would be wrong there.
		q.Set("glint_total", "1")
	}
	for k, v := range map[string]string{"status": l.Status, "disk_format": l.DiskFormat, "protected": l.Protected, "os_hidden": l.Hidden} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if l.Type == "snapshot" {
		q.Set("image_type", "snapshot")
	}
	return q
}

// values is the page query for this state, without paging.
func (l listing) values() url.Values {
	v := url.Values{}
	set := func(k, val, def string) {
		if val != "" && val != def {
			v.Set(k, val)
		}
	}
	if l.Panel == "project" {
		set("tab", l.Tab, "project")
	}
	set("name", l.Name, "")
	set("match", l.Match, "")
	set("status", l.Status, "")
	set("visibility", l.Visibility, "")
	set("disk_format", l.DiskFormat, "")
	set("protected", l.Protected, "")
	set("type", l.Type, "")
	set("hidden", l.Hidden, "")
	set("owner", l.Owner, "")
	set("member", l.Member, "all")
	set("sort", l.Sort, "created_at")
	set("dir", l.Dir, defaultSortDir[l.Sort])
	if l.Limit != pageSizes[0] {
		v.Set("limit", strconv.Itoa(l.Limit))
	}
	return v
}

// Path is the panel's page.
func (l listing) Path() string { return Prefix + l.Panel + "/images" }

func (l listing) url(v url.Values) string {
	if len(v) == 0 {
		return l.Path()
	}
	return l.Path() + "?" + v.Encode()
}

// URL is this view again (first page), for refreshes.
func (l listing) URL() string {
	v := l.values()
	if l.Marker != "" {
		v.Set("marker", l.Marker)
	}
	if l.Before != "" {
		v.Set("before", l.Before)
	}
	return l.url(v)
}

// TabURL is another tab with the filters reset.
func (l listing) TabURL(tab string) string {
	v := url.Values{}
	if tab != "project" {
		v.Set("tab", tab)
	}
	return l.url(v)
}

// SortURL sorts by key: ascending first (descending for size and
// created), flipped when already sorted by it.
func (l listing) SortURL(key string) string {
	m := l
	m.Marker, m.Before = "", ""
	if m.Sort == key {
		m.Dir = map[string]string{"asc": "desc", "desc": "asc"}[m.Dir]
	} else {
		m.Sort, m.Dir = key, defaultSortDir[key]
	}
	return m.url(m.values())
}

// AriaSort is the aria-sort value of a column header.
func (l listing) AriaSort(key string) string {
	if l.Sort != key {
		return "none"
	}
	if l.Dir == "asc" {
		return "ascending"
	}
	return "descending"
}

func (l listing) pageURL(marker, before string) string {
	v := l.values()
	if marker != "" {
		v.Set("marker", marker)
	}
	if before != "" {
		v.Set("before", before)
	}
	return l.url(v)
}

// Choices are the filters' options, for the template.
func (l listing) Choices() map[string][]string {
	return map[string][]string{"status": statusChoices, "visibility": visChoices, "disk_format": diskFormats,
		"member": memberChoices}
}

// PageSizes are the page lengths offered.
func (l listing) PageSizes() []int { return pageSizes }

// Filtered reports whether any filter is set (to offer clearing them).
func (l listing) Filtered() bool {
	return l.Name != "" || l.Status != "" || l.Visibility != "" || l.DiskFormat != "" || l.Protected != "" ||
		l.Type != "" || l.Owner != "" || l.Hidden != "" || (l.Member != "" && l.Member != "all")
}

// ClearURL is the tab without filters (sort and size kept).
func (l listing) ClearURL() string {
	m := listing{Panel: l.Panel, Tab: l.Tab, Sort: l.Sort, Dir: l.Dir, Limit: l.Limit, Match: l.Match}
	if m.Tab == "shared" {
		m.Member = "all"
	}
	return m.url(m.values())
}
