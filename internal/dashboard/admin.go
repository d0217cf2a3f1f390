package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func (h *Handler) deactivate(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.imageAction(w, r, s, "deactivate", "deactivated")
}

type deactivateView struct {
	base
	Image *imageView
	Next  string
}

// deactivateConfirm asks before deactivating: a deactivated image stops
// new servers and downloads.
func (h *Handler) deactivateConfirm(w http.ResponseWriter, r *http.Request, s *session) error {
	img, err := getImage(r.Context(), h.imageClient(s), r.PathValue("id"))
	if err != nil {
		return err
	}
	next := ""
	if r.URL.Query().Get("next") != "" {
		next = safeNext(r.URL.Query().Get("next"))
	}
	h.show(w, r, s, http.StatusOK, "Deactivate image", "admin-images", "deactivate-confirm", deactivateView{base: base{S: s}, Image: img, Next: next})
	return nil
}

func (h *Handler) reactivate(w http.ResponseWriter, r *http.Request, s *session) error {
	return h.imageAction(w, r, s, "reactivate", "reactivated")
}

func (h *Handler) imageAction(w http.ResponseWriter, r *http.Request, s *session, action, done string) error {
	id := r.PathValue("id")
	if err := imageAction(r.Context(), h.imageClient(s), id, action); err != nil {
		return err
	}
	name := id
	if img, err := getImage(r.Context(), h.imageClient(s), id); err == nil && img.Name != "" {
		name = img.Name
	}
	h.done(w, r, safeNext(r.PostFormValue("next")), "Image "+name+" "+done+".")
	return nil
}

// quotasPageSize is how many projects one quotas page shows; each costs
// one in-process API call.
const quotasPageSize = 25

type quotaRow struct {
	Project projectRef
	Quotas  []quota
	Error   string
}

type quotasView struct {
	base
	Rows       []quotaRow
	Page       int
	Prev, Next string
	Filter     string
	Total      int
	// Self is this page again, for refreshes.
	Self string
}

// quotas is Admin → Quotas: every project's limits with their usage.
func (h *Handler) quotas(w http.ResponseWriter, r *http.Request, s *session) error {
	if !s.Admin {
		return &pageError{Status: http.StatusForbidden, Message: "The admin panels need the admin role in the current project."}
	}
	ctx := r.Context()
	list, err := h.allProjects(ctx, s.Token)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	v := quotasView{base: base{S: s}, Filter: strings.TrimSpace(q.Get("project"))}
	if v.Filter != "" {
		kept := list[:0]
		for _, p := range list {
			if strings.Contains(strings.ToLower(p.Name), strings.ToLower(v.Filter)) || p.ID == v.Filter {
				kept = append(kept, p)
			}
		}
		list = kept
	}
	v.Total = len(list)
	v.Page, _ = strconv.Atoi(q.Get("page"))
	pages := (len(list) + quotasPageSize - 1) / quotasPageSize
	v.Page = max(1, min(v.Page, pages))
	link := func(page int) string {
		u := url.Values{"page": {strconv.Itoa(page)}}
		if v.Filter != "" {
			u.Set("project", v.Filter)
		}
		return Prefix + "admin/quotas?" + u.Encode()
	}
	v.Self = link(v.Page)
	if v.Page > 1 {
		v.Prev = link(v.Page - 1)
	}
	if v.Page < pages {
		v.Next = link(v.Page + 1)
	}
	start := (v.Page - 1) * quotasPageSize
	c := h.imageClient(s)
	for _, p := range list[start:min(len(list), start+quotasPageSize)] {
		row := quotaRow{Project: p}
		if row.Quotas, err = projectQuotas(ctx, c, p.ID); err != nil {
			row.Error = asAPIError(err).Message
		}
		v.Rows = append(v.Rows, row)
	}
	if hxTarget(r) == "quota-list" {
		h.writeFragment(w, http.StatusOK, "quota-list", v)
		return nil
	}
	h.writePage(w, r, s, http.StatusOK, "Quotas", "admin-quotas", "quotas-page", v)
	return nil
}

type quotaFormView struct {
	base
	Project projectRef
	Quotas  []quota
	Values  map[string]string
	Errors  map[string]string
	Error   string
}

func (h *Handler) quotaFormView(r *http.Request, s *session) (quotaFormView, error) {
	ctx := r.Context()
	id := idLike(r.PathValue("project"))
	if id == "" {
		return quotaFormView{}, errNotFound
	}
	v := quotaFormView{base: base{S: s}, Project: projectRef{ID: id, Name: h.projectNames(ctx, s)[id]},
		Values: map[string]string{}, Errors: map[string]string{}}
	var err error
	if v.Quotas, err = projectQuotas(ctx, h.imageClient(s), id); err != nil {
		return v, err
	}
	for _, q := range v.Quotas {
		v.Values[q.Name] = strconv.FormatInt(q.Limit, 10)
	}
	return v, nil
}

func (h *Handler) quotaForm(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.quotaFormView(r, s)
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Edit quotas", "admin-quotas", "quota-form", v)
	return nil
}

// setQuota saves the limits the admin changed (-1 is unlimited).
func (h *Handler) setQuota(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.quotaFormView(r, s)
	if err != nil {
		return err
	}
	limits := map[string]int64{}
	for _, q := range v.Quotas {
		if _, sent := r.PostForm[q.Name]; !sent {
			continue
		}
		raw := strings.TrimSpace(r.PostFormValue(q.Name))
		v.Values[q.Name] = raw
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < -1 {
			v.Errors[q.Name] = "Enter a whole number, or -1 for unlimited."
			continue
		}
		if n != q.Limit {
			limits[q.Name] = n
		}
	}
	if len(v.Errors) > 0 {
		h.show(w, r, s, http.StatusUnprocessableEntity, "Edit quotas", "admin-quotas", "quota-form", v)
		return nil
	}
	if len(limits) > 0 {
		if err := setProjectQuotas(r.Context(), h.imageClient(s), v.Project.ID, limits); err != nil {
			if ae := asAPIError(err); ae.Status < 500 && ae.Status != http.StatusUnauthorized {
				v.Error = ae.Message
				h.show(w, r, s, http.StatusUnprocessableEntity, "Edit quotas", "admin-quotas", "quota-form", v)
				return nil
			}
			return err
		}
	}
	h.done(w, r, Prefix+"admin/quotas", "Quotas of "+projectLabel(v.Project)+" saved.")
	return nil
}

func (h *Handler) resetQuota(w http.ResponseWriter, r *http.Request, s *session) error {
	id := idLike(r.PathValue("project"))
	if id == "" {
		return errNotFound
	}
	if err := resetProjectQuotas(r.Context(), h.imageClient(s), id); err != nil {
		return err
	}
	h.done(w, r, Prefix+"admin/quotas", "Quotas of "+id+" reset to the defaults.")
	return nil
}

func projectLabel(p projectRef) string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}
