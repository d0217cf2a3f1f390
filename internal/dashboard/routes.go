package dashboard

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxForm bounds a form body; the largest (an image's metadata) is far
// below it.
const maxForm = 1 << 20

// callTimeout bounds the API and identity calls of one page.
const callTimeout = 60 * time.Second

type (
	publicFunc func(w http.ResponseWriter, r *http.Request) error
	authedFunc func(w http.ResponseWriter, r *http.Request, s *session) error
)

// routes is the whole dashboard in one table.
func (h *Handler) routes() {
	pub := map[string]publicFunc{
		"GET /dashboard/static/{file}": h.static,
		"GET /dashboard/login":         h.loginForm,
		"POST /dashboard/login":        h.login,
	}
	authed := map[string]authedFunc{
		"GET /dashboard/{$}":              h.home,
		"POST /dashboard/logout":          h.logout,
		"GET /dashboard/projects":         h.projectMenu,
		"POST /dashboard/projects/switch": h.switchProject,

		"GET /dashboard/project/images":     h.projectImages,
		"GET /dashboard/project/usage":      h.usagePanel,
		"GET /dashboard/project/pending":    h.pendingCount,
		"GET /dashboard/project/images/new": h.createForm,
		"POST /dashboard/project/images":    h.createImage,
		"GET /dashboard/admin/images":       h.adminImages,

		"GET /dashboard/images/{id}":                          h.details,
		"GET /dashboard/images/{id}/row":                      h.row,
		"GET /dashboard/images/{id}/edit":                     h.editForm,
		"POST /dashboard/images/{id}/edit":                    h.editImage,
		"GET /dashboard/images/{id}/tasks":                    h.tasks,
		"GET /dashboard/images/property":                      h.propertyRow,
		"GET /dashboard/images/delete":                        h.deleteConfirm,
		"POST /dashboard/images/delete":                       h.deleteImages,
		"GET /dashboard/images/{id}/members":                  h.membersDialog,
		"POST /dashboard/images/{id}/members":                 h.addMember,
		"POST /dashboard/images/{id}/members/{member}/remove": h.removeMember,
		"POST /dashboard/images/{id}/share":                   h.answerShare,
		"POST /dashboard/images/{id}/shared":                  h.makeShared,
		"GET /dashboard/images/{id}/deactivate":               h.deactivateConfirm,
		"POST /dashboard/images/{id}/deactivate":              h.deactivate,
		"POST /dashboard/images/{id}/reactivate":              h.reactivate,
		"GET /dashboard/images/{id}/upload":                   h.uploadForm,
		"GET /dashboard/metadefs":                             h.metadefProperties,
		"PUT /dashboard/images/{id}/file":                     h.upload,
		"GET /dashboard/images/{id}/file":                     h.download,

		"GET /dashboard/admin/metadefs":               h.metadefsList,
		"GET /dashboard/admin/metadefs/new":           h.metadefsImportForm,
		"POST /dashboard/admin/metadefs":              h.metadefsImport,
		"GET /dashboard/admin/metadefs/{ns}":          h.metadefsShow,
		"GET /dashboard/admin/metadefs/{ns}/edit":     h.metadefsEditForm,
		"POST /dashboard/admin/metadefs/{ns}/edit":    h.metadefsEdit,
		"POST /dashboard/admin/metadefs/{ns}/protect": h.metadefsProtect,
		"GET /dashboard/admin/metadefs/{ns}/delete":   h.metadefsDeleteConfirm,
		"POST /dashboard/admin/metadefs/{ns}/delete":  h.metadefsDelete,

		"GET /dashboard/admin/quotas":                  h.quotas,
		"GET /dashboard/admin/quotas/{project}":        h.quotaForm,
		"POST /dashboard/admin/quotas/{project}":       h.setQuota,
		"POST /dashboard/admin/quotas/{project}/reset": h.resetQuota,
	}
	for pattern, fn := range pub {
		h.mux.Handle(pattern, h.public(fn))
	}
	for pattern, fn := range authed {
		h.mux.Handle(pattern, h.authed(fn))
	}
	h.mux.Handle("/dashboard/", h.public(func(w http.ResponseWriter, r *http.Request) error {
		return errNotFound
	}))
	h.mux.Handle("/dashboard", http.RedirectHandler(Prefix, http.StatusFound))
}

// pageError is an error the user sees as a page or a notice.
type pageError struct {
	Status  int
	Message string
}

func (e *pageError) Error() string { return e.Message }

var errNotFound = &pageError{Status: http.StatusNotFound, Message: "There is no such page."}

func badInput(msg string) error {
	return &pageError{Status: http.StatusUnprocessableEntity, Message: msg}
}

// public wraps a handler that needs no session.
func (h *Handler) public(fn publicFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(withRemote(r.Context(), r), callTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		}
		if err := fn(w, r); err != nil {
			h.fail(w, r, nil, err)
		}
	})
}

// authed wraps a handler that needs a signed-in user: without a session
// the browser goes to the sign-in page; a request that changes anything
// must echo the session's CSRF secret.
func (h *Handler) authed(fn authedFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s := h.readSession(r)
		if s == nil {
			h.toLogin(w, r)
			return
		}
		if id := r.PathValue("id"); id != "" && idLike(id) == "" {
			// Ids go into API paths; anything but id characters is
			// no image of ours.
			h.fail(w, r, s, errNotFound)
			return
		}
		ctx := withRemote(r.Context(), r)
		transfer := strings.HasSuffix(r.URL.Path, "/file")
		if !transfer {
			// Transfers are bounded by the idle timeout instead.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, callTimeout)
			defer cancel()
		}
		r = r.WithContext(ctx)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !transfer {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
				if err := r.ParseForm(); err != nil {
					h.fail(w, r, s, badInput("The form could not be read: it is too large or malformed."))
					return
				}
			}
			echoed := r.Header.Get("X-CSRF-Token")
			if !transfer && echoed == "" {
				echoed = r.PostFormValue("csrf")
			}
			if !sameSecret(echoed, s.CSRF) {
				h.fail(w, r, s, &pageError{Status: http.StatusForbidden,
					Message: "This form has expired or did not come from this dashboard. Reload the page and try again."})
				return
			}
		}
		if err := fn(w, r, s); err != nil {
			h.fail(w, r, s, err)
		}
	})
}

// toLogin sends the browser to the sign-in page, coming back here after.
func (h *Handler) toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/dashboard/login"
	if r.Method == http.MethodGet && !isHTMX(r) && r.URL.Path != Prefix {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if isHTMX(r) {
		// htmx would follow a 302 and swap the sign-in page into a
		// fragment; HX-Redirect makes it load the page instead, which
		// says why.
		w.Header().Set("HX-Redirect", target+"?ended=1")
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Your session has ended; sign in again.", http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// fail shows err: a page, or a notice for htmx requests. An API call
// refused for the token (401) means the session is over.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *session, err error) {
	status, msg := http.StatusInternalServerError, "Something went wrong; the error was logged."
	var pe *pageError
	switch {
	case errors.As(err, &pe):
		status, msg = pe.Status, pe.Message
	case errors.Is(err, errSignIn):
		status, msg = http.StatusUnauthorized, "Invalid user name or password."
	case isAPIFailure(err):
		ae := asAPIError(err)
		status, msg = ae.Status, ae.Message
		if status == http.StatusUnauthorized && s != nil {
			h.clearSession(w, r)
			h.toLogin(w, r)
			return
		}
		if status >= 500 {
			h.log.ErrorContext(r.Context(), "dashboard: API call failed", "path", r.URL.Path, "status", status, "err", err)
		}
	default:
		h.log.ErrorContext(r.Context(), "dashboard: request failed", "path", r.URL.Path, "err", err)
	}
	if s == nil {
		// Only the sign-in page and static files come without a session.
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		http.Error(w, msg, status)
		return
	}
	if isHTMX(r) {
		// The notice goes out of band; the target keeps its content.
		w.Header().Set("HX-Reswap", "none")
		h.writeFragment(w, status, "toast", toast{Kind: "error", Text: msg})
		return
	}
	if r.URL.Path == "/dashboard/images/"+r.PathValue("id")+"/file" {
		http.Error(w, msg, status)
		return
	}
	h.writePage(w, r, s, status, "Error", "", "error-page", struct {
		Status  int
		Message string
	}{status, msg})
}

// isHTMX reports a request made by htmx (not a history restore, which
// wants a whole page).
func isHTMX(r *http.Request) bool {
	return r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-History-Restore-Request") != "true"
}

// hxTarget is the element an htmx request will swap.
func hxTarget(r *http.Request) string {
	if !isHTMX(r) {
		return ""
	}
	return r.Header.Get("HX-Target")
}
