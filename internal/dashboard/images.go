package dashboard

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/gophercloud/gophercloud/v2"
)

// rowView is one row of an image table.
type rowView struct {
	*imageView
	Panel, Tab string
	OwnerName  string
	// Mine: the image belongs to the current project.
	Mine bool
	// Admin: the signed-in user holds the admin role here.
	Admin bool
	// Member is the current project's answer to a share (shared tab).
	Member string
	CSRF   string
}

// CanEdit reports whether the row offers Edit (the API decides anyway;
// this only hides actions that would be refused).
func (r rowView) CanEdit() bool { return r.Mine || r.Admin }

// CanDelete reports whether the row can be selected for deletion.
func (r rowView) CanDelete() bool { return r.CanEdit() && !r.Protected }

// CanShare reports whether the row offers the members dialog.
// A private image offers it too: the dialog offers to make it shared.
func (r rowView) CanShare() bool {
	return r.Mine && (r.Visibility == "shared" || r.Visibility == "private")
}

// RowURL is where the row reloads itself from while it changes.
func (r rowView) RowURL() string {
	v := url.Values{"panel": {r.Panel}}
	if r.Tab != "" {
		v.Set("tab", r.Tab)
	}
	return Prefix + "images/" + url.PathEscape(r.ID) + "/row?" + v.Encode()
}

type tableView struct {
	base
	L          listing
	Rows       []rowView
	Prev, Next string
	Usage      []quota
	Owners     []projectRef
	Admin      bool
	// Total is how many images the view holds over all pages (nil when
	// not counted); Capped: more than that.
	Total  *int
	Capped bool
}

// Columns is how many columns the table has (for empty-state cells).
func (t tableView) Columns() int {
	n := 10
	if t.L.Panel == "admin" || t.L.Tab == "shared" || t.L.Tab == "community" || t.L.Tab == "public" {
		n++
	}
	if t.L.Tab == "shared" {
		n++
	}
	return n
}

// ShowOwner reports whether the table has an Owner column.
func (t tableView) ShowOwner() bool { return t.L.Panel == "admin" || t.L.Tab != "project" }

func (h *Handler) projectImages(w http.ResponseWriter, r *http.Request, s *session) error {
	if s.Token == "" {
		h.writePage(w, r, s, http.StatusOK, "Images", "project-images", "no-project", base{S: s})
		return nil
	}
	return h.imageTable(w, r, s, parseListing("project", r.URL.Query()), "project-images", "Images")
}

func (h *Handler) adminImages(w http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Admin {
		return &pageError{Status: http.StatusForbidden, Message: "The admin panels need the admin role in the current project."}
	}
	return h.imageTable(w, r, s, parseListing("admin", r.URL.Query()), "admin-images", "All images")
}

func (h *Handler) imageTable(w http.ResponseWriter, r *http.Request, s *session, l listing, nav, title string) error {
	ctx := r.Context()
	c := h.imageClient(s)
	t, err := h.table(ctx, c, s, l)
	if err != nil {
		return err
	}
	if hxTarget(r) == "image-list" {
		h.writeFragment(w, http.StatusOK, "image-list", t)
		return nil
	}
	if l.Panel == "admin" {
		t.Owners, _ = h.allProjects(ctx, s.Token)
	}
	h.writePage(w, r, s, http.StatusOK, title, nav, "images-page", t)
	return nil
}

// table fetches one page of the listing and turns it into rows.
func (h *Handler) table(ctx context.Context, c *gophercloud.ServiceClient, s *session, l listing) (tableView, error) {
	t := tableView{base: base{S: s}, L: l, Admin: s.Admin}
	page, err := listImages(ctx, c, l.apiQuery(s.ProjectID))
	if isStatus(err, http.StatusBadRequest) && (l.Marker != "" || l.Before != "") {
		// The marker image went away (deleted meanwhile): start over.
		l.Marker, l.Before = "", ""
		t.L = l
		page, err = listImages(ctx, c, l.apiQuery(s.ProjectID))
	}
	if err != nil {
		return t, err
	}
	t.Total, t.Capped = page.Total, page.Capped
	list := page.Images
	more := len(list) > l.Limit
	if more {
		list = list[:l.Limit]
	}
	if l.Before != "" {
		slices.Reverse(list)
		if len(list) == 0 {
			l.Before = ""
			t.L = l
			return h.table(ctx, c, s, l)
		}
	}
	if len(list) > 0 {
		first, last := list[0].ID, list[len(list)-1].ID
		if l.Before != "" {
			t.Next = l.pageURL(last, "")
			if more {
				t.Prev = l.pageURL("", first)
			}
		} else {
			if more {
				t.Next = l.pageURL(last, "")
			}
			if l.Marker != "" {
				t.Prev = l.pageURL("", first)
			}
		}
	} else if l.Marker != "" {
		t.Prev = l.url(l.values())
	}
	var names map[string]string
	if t.ShowOwner() {
		owners := make([]string, len(list))
		for i, img := range list {
			owners[i] = img.Owner
		}
		names = h.ownerNames(ctx, s, owners)
	}
	for _, img := range list {
		row := h.newRow(s, l, img, names)
		if l.Tab == "shared" {
			if row.Mine {
				// visibility=shared also lists the project's own
				// shared images; this tab is about others'.
				continue
			}
			if row.Member = myMemberStatus(ctx, c, img.ID, s.ProjectID); row.Member == "" {
				// An admin lists every shared image; keep the ones
				// actually shared with this project.
				continue
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t, nil
}

func (h *Handler) newRow(s *session, l listing, img *imageView, names map[string]string) rowView {
	row := rowView{imageView: img, Panel: l.Panel, Tab: l.Tab, Mine: img.Owner != "" && img.Owner == s.ProjectID,
		Admin: s.Admin, CSRF: s.CSRF, OwnerName: img.Owner}
	if n, ok := names[img.Owner]; ok && n != "" {
		row.OwnerName = n
	}
	return row
}

// myMemberStatus is the project's membership status of a shared image,
// "" when it is no member.
func myMemberStatus(ctx context.Context, c *gophercloud.ServiceClient, image, project string) string {
	var m memberView
	if err := getJSON(ctx, c, "v2/images/"+url.PathEscape(image)+"/members/"+url.PathEscape(project), &m); err != nil {
		return ""
	}
	return m.Status
}

// row renders one table row again; the row asks for itself while its
// image changes status (Queued → Saving → Active).
// usagePanel is the project's usage over the images table. It is loaded
// after the page (counting a large project's images costs more than its
// first page), and a failure only leaves it empty.
func (h *Handler) usagePanel(w http.ResponseWriter, r *http.Request, s *session) error {
	u, err := usage(r.Context(), h.imageClient(s))
	if err != nil {
		h.log.InfoContext(r.Context(), "dashboard: reading usage failed", "err", err)
	}
	h.writeFragment(w, http.StatusOK, "usage", tableView{base: base{S: s}, Usage: u})
	return nil
}

func (h *Handler) row(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	img, err := getImage(ctx, c, r.PathValue("id"))
	if isStatus(err, http.StatusNotFound) {
		// Gone: an empty answer removes the row.
		w.WriteHeader(http.StatusOK)
		return nil
	}
	if err != nil {
		return err
	}
	q := r.URL.Query()
	l := listing{Panel: choose(q.Get("panel"), []string{"project", "admin"}), Tab: choose(q.Get("tab"), tabs)}
	if l.Panel == "" {
		l.Panel = "project"
	}
	var names map[string]string
	if l.Panel == "admin" || l.Tab != "project" {
		names = h.ownerNames(ctx, s, []string{img.Owner})
	}
	row := h.newRow(s, l, img, names)
	if l.Tab == "shared" {
		row.Member = myMemberStatus(ctx, c, img.ID, s.ProjectID)
	}
	h.writeFragment(w, http.StatusOK, "image-row", row)
	return nil
}
