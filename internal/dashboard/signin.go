package dashboard

import (
	"net/http"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/identity"
)

// lastProjectCookie remembers the project a browser last worked in, so
// the next sign-in starts there (Horizon does the same).
const lastProjectCookie = "glint_dashboard_project"

type loginView struct {
	CSRF           string
	User, Domain   string
	Next           string
	Error          string
	ExternalSource bool
}

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) error {
	if h.readSession(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return nil
	}
	csrf, err := h.preCSRF(w, r)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	h.writePage(w, r, nil, http.StatusOK, "Sign in", "", "login", loginView{CSRF: csrf, Domain: h.opts.DefaultDomain,
		Next: r.URL.Query().Get("next"), ExternalSource: h.opts.Identity == nil})
	return nil
}

func (h *Handler) login(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Cache-Control", "no-store")
	v := loginView{User: strings.TrimSpace(r.PostFormValue("username")), Domain: strings.TrimSpace(r.PostFormValue("domain")),
		Next: r.PostFormValue("next"), ExternalSource: h.opts.Identity == nil}
	if v.Domain == "" {
		v.Domain = h.opts.DefaultDomain
	}
	again := func(status int, msg string) error {
		csrf, err := h.preCSRF(w, r)
		if err != nil {
			return err
		}
		v.CSRF, v.Error = csrf, msg
		h.writePage(w, r, nil, status, "Sign in", "", "login", v)
		return nil
	}
	pre := h.readPre(r)
	if pre == nil || !sameSecret(r.PostFormValue("csrf"), pre.CSRF) {
		return again(http.StatusForbidden, "The sign-in form expired. Please try again.")
	}
	password := r.PostFormValue("password")
	if v.User == "" || password == "" {
		return again(http.StatusUnprocessableEntity, "Enter your user name and password.")
	}
	// The identity service throttles logins per source: the browser's.
	g, err := h.passwordGrant(identity.WithSource(r.Context(), r.RemoteAddr), v.User, password, v.Domain, nil)
	if err == errSignIn {
		return again(http.StatusUnauthorized, "Invalid user name or password.")
	}
	if err != nil && asAPIError(err).Status == http.StatusTooManyRequests {
		return again(http.StatusTooManyRequests, "Too many sign-ins are in progress. Please try again in a moment.")
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "dashboard: sign-in failed", "err", err)
		return again(http.StatusBadGateway, "The identity service could not be reached. Please try again later.")
	}
	s := &session{CSRF: newCSRF(), UserID: g.UserID, UserName: g.UserName, Domain: g.Domain,
		BaseToken: g.Token, Expires: g.Expires.Unix()}
	if s.UserName == "" {
		s.UserName = v.User
	}
	h.chooseProject(r, s, g)
	if err := h.writeSession(w, r, s); err != nil {
		return err
	}
	h.clearPre(w, r)
	http.Redirect(w, r, safeNext(v.Next), http.StatusSeeOther)
	return nil
}

// chooseProject scopes a fresh session: to the project this browser used
// last if the user still has it, else to the token's own (the user's
// default project), else to the user's first project. A user without
// projects gets a session that can only say so.
func (h *Handler) chooseProject(r *http.Request, s *session, g *grant) {
	ctx := r.Context()
	want := ""
	if c, err := r.Cookie(lastProjectCookie); err == nil {
		want = c.Value
	}
	if g.ProjectID != "" && (want == "" || want == g.ProjectID) {
		h.setScope(s, g)
		return
	}
	list, err := h.userProjects(ctx, g.Token)
	if err != nil {
		h.log.InfoContext(ctx, "dashboard: listing the user's projects failed", "err", err)
	}
	target := ""
	for _, p := range list {
		if p.ID == want {
			target = p.ID
		}
	}
	if target == "" && g.ProjectID != "" {
		h.setScope(s, g)
		return
	}
	if target == "" && len(list) > 0 {
		target = list[0].ID
	}
	if target == "" {
		return
	}
	sg, err := h.rescope(ctx, g.Token, target)
	if err != nil {
		h.log.InfoContext(ctx, "dashboard: scoping to a project failed", "project", target, "err", err)
		return
	}
	h.setScope(s, sg)
}

func (h *Handler) setScope(s *session, g *grant) {
	s.Token, s.ProjectID, s.ProjectName, s.Admin = g.Token, g.ProjectID, g.ProjectName, g.Admin
	if e := g.Expires.Unix(); e < s.Expires {
		s.Expires = e
	}
}

// safeNext keeps a post-sign-in redirect on the dashboard.
func safeNext(next string) string {
	if !strings.HasPrefix(next, Prefix) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return Prefix + "project/images"
	}
	return next
}

func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	h.revoke(r.Context(), s.Token)
	if s.BaseToken != s.Token {
		h.revoke(r.Context(), s.BaseToken)
	}
	h.clearSession(w, r)
	http.Redirect(w, r, "/dashboard/login", http.StatusSeeOther)
	return nil
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) error {
	http.Redirect(w, r, Prefix+"project/images", http.StatusSeeOther)
	return nil
}

type projectMenuView struct {
	base
	Projects []projectRef
}

// projectMenu lists the user's projects for the switcher (loaded when the
// menu is first opened, so pages do not wait for it).
func (h *Handler) projectMenu(w http.ResponseWriter, r *http.Request, s *session) error {
	list, err := h.userProjects(r.Context(), s.BaseToken)
	if err != nil {
		return err
	}
	h.writeFragment(w, http.StatusOK, "project-menu", projectMenuView{base: base{S: s}, Projects: list})
	return nil
}

func (h *Handler) switchProject(w http.ResponseWriter, r *http.Request, s *session) error {
	project := r.PostFormValue("project")
	if project == "" {
		return badInput("Choose a project.")
	}
	g, err := h.rescope(r.Context(), s.BaseToken, project)
	if err == errSignIn {
		return &pageError{Status: http.StatusForbidden, Message: "You have no role in that project."}
	}
	if err != nil {
		return err
	}
	old := s.Token
	h.setScope(s, g)
	if err := h.writeSession(w, r, s); err != nil {
		return err
	}
	if old != s.BaseToken {
		h.revoke(r.Context(), old)
	}
	http.SetCookie(w, &http.Cookie{Name: lastProjectCookie, Value: g.ProjectID, Path: cookiePath, HttpOnly: true,
		Secure: h.secure(r), SameSite: http.SameSiteStrictMode, Expires: h.now().Add(365 * 24 * time.Hour)})
	next := Prefix + "project/images"
	if isHTMX(r) {
		w.Header().Set("HX-Redirect", next)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}
