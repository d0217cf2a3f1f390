package dashboard

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type membersView struct {
	base
	Image   *imageView
	Members []memberRow
	Error   string
	Member  string // the add form's value, shown again on error
}

type memberRow struct {
	memberView
	Name string
}

func (h *Handler) membersView(r *http.Request, s *session, id string) (membersView, error) {
	ctx := r.Context()
	c := h.imageClient(s)
	img, err := getImage(ctx, c, id)
	if err != nil {
		return membersView{}, err
	}
	v := membersView{base: base{S: s}, Image: img}
	if img.Visibility != "shared" {
		return v, nil
	}
	list, err := listMembers(ctx, c, id)
	if err != nil {
		return v, err
	}
	ids := make([]string, len(list))
	for i, m := range list {
		ids[i] = m.MemberID
	}
	names := h.ownerNames(ctx, s, ids)
	for _, m := range list {
		v.Members = append(v.Members, memberRow{memberView: m, Name: names[m.MemberID]})
	}
	return v, nil
}

// membersDialog shows who an image is shared with, for its owner.
func (h *Handler) membersDialog(w http.ResponseWriter, r *http.Request, s *session) error {
	v, err := h.membersView(r, s, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Sharing", "project-images", "members-dialog", v)
	return nil
}

func (h *Handler) addMember(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	typed := strings.TrimSpace(r.PostFormValue("member"))
	again := func(msg string) error {
		v, err := h.membersView(r, s, id)
		if err != nil {
			return err
		}
		v.Error, v.Member = msg, typed
		h.show(w, r, s, http.StatusUnprocessableEntity, "Sharing", "project-images", "members-dialog", v)
		return nil
	}
	if typed == "" || len(typed) > 255 {
		return again("Enter the name or ID of the project to share with.")
	}
	// A member the identity service does not know could never accept:
	// refuse it rather than let the API store it.
	found, err := h.findProject(r.Context(), s, typed)
	if err != nil {
		return err
	}
	if found.Checked && !found.Found {
		return again("There is no project “" + typed + "”. Check its name or ID.")
	}
	if found.Project.ID == s.ProjectID {
		return again("That is this image's own project; share it with another one.")
	}
	if err := addMember(r.Context(), h.imageClient(s), id, found.Project.ID); err != nil {
		if ae := asAPIError(err); ae.Status < 500 && ae.Status != http.StatusUnauthorized {
			if ae.Status == http.StatusConflict {
				return again("The image is already shared with " + projectLabel(found.Project) + ".")
			}
			return again(ae.Message)
		}
		return err
	}
	msg := "Shared with " + projectLabel(found.Project) + "."
	if !found.Checked {
		msg += " The project ID was not checked: this cloud's identity service does not let you look projects up, so make sure it is right."
	}
	return h.membersAgain(w, r, s, id, msg)
}

func (h *Handler) removeMember(w http.ResponseWriter, r *http.Request, s *session) error {
	id, member := r.PathValue("id"), r.PathValue("member")
	if err := removeMember(r.Context(), h.imageClient(s), id, member); err != nil {
		return err
	}
	return h.membersAgain(w, r, s, id, "No longer shared with "+member+".")
}

// makeShared turns a private image into a shared one, so it can get
// members (Glance refuses members on other visibilities).
func (h *Handler) makeShared(w http.ResponseWriter, r *http.Request, s *session) error {
	id := r.PathValue("id")
	if _, err := updateImage(r.Context(), h.imageClient(s), id, []patchOp{{Op: "replace", Path: "/visibility", Value: "shared"}}); err != nil {
		return err
	}
	return h.membersAgain(w, r, s, id, "The image is now shared; add the projects it is shared with.")
}

// membersAgain shows the dialog after a change, with a notice.
func (h *Handler) membersAgain(w http.ResponseWriter, r *http.Request, s *session, id, message string) error {
	if !isHTMX(r) {
		http.Redirect(w, r, Prefix+"images/"+url.PathEscape(id)+"/members", http.StatusSeeOther)
		return nil
	}
	v, err := h.membersView(r, s, id)
	if err != nil {
		return err
	}
	w.Header().Set("HX-Trigger", "glint-refresh")
	h.writeFragment(w, http.StatusOK, "members-dialog", v)
	if err := h.ui.tmpl.ExecuteTemplate(w, "toast", toast{Kind: "ok", Text: message}); err != nil {
		h.log.Error("dashboard: rendering a toast", "err", err)
	}
	return nil
}

// answerShare accepts or rejects an image shared with the current
// project (the member's side of sharing).
func (h *Handler) answerShare(w http.ResponseWriter, r *http.Request, s *session) error {
	status := r.PostFormValue("status")
	if status != "accepted" && status != "rejected" && status != "pending" {
		return badInput("Answer with accepted, rejected or pending.")
	}
	id := r.PathValue("id")
	if err := setMemberStatus(r.Context(), h.imageClient(s), id, s.ProjectID, status); err != nil {
		return err
	}
	msg := map[string]string{"accepted": "Share accepted.", "rejected": "Share rejected.", "pending": "Share set back to pending."}[status]
	h.done(w, r, Prefix+"project/images?tab=shared", msg)
	return nil
}

// pendingScan bounds the shared images one count looks at.
const pendingScan = 100

type pendingView struct {
	N    int
	More bool
}

// pendingCount is the badge on "Shared with me": how many images other
// projects shared with this one wait for an answer. It is loaded after
// the page, and reads at most one page of pendingScan images (an admin's
// listing holds every shared image, so each is checked for a membership).
func (h *Handler) pendingCount(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	c := h.imageClient(s)
	q := url.Values{"visibility": {"shared"}, "member_status": {"pending"}, "limit": {strconv.Itoa(pendingScan)}}
	page, err := listImages(ctx, c, q)
	if err != nil {
		h.log.InfoContext(ctx, "dashboard: counting pending shares failed", "err", err)
		w.WriteHeader(http.StatusOK)
		return nil
	}
	v := pendingView{More: page.Next != "" && len(page.Images) >= pendingScan}
	for _, img := range page.Images {
		if img.Owner == s.ProjectID {
			continue
		}
		if s.Admin && myMemberStatus(ctx, c, img.ID, s.ProjectID) != "pending" {
			continue
		}
		v.N++
	}
	h.writeFragment(w, http.StatusOK, "pending-count", v)
	return nil
}
