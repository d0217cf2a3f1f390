package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

// static holds htmx (vendored from the npm package htmx.org 2.0.11,
// dist/htmx.min.js, unchanged), the dashboard's own script and its
// stylesheet.
//
//go:embed static
var staticFS embed.FS

// ui is the parsed templates and the static files with their versions.
type ui struct {
	tmpl    *template.Template
	files   map[string][]byte
	version map[string]string
}

func newUI() (*ui, error) {
	u := &ui{files: map[string][]byte{}, version: map[string]string{}}
	err := fs.WalkDir(staticFS, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := staticFS.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := path.Base(p)
		u.files[name], u.version[name] = b, hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, err
	}
	u.tmpl, err = template.New("").Funcs(u.funcs()).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	return u, nil
}

func (u *ui) funcs() template.FuncMap {
	return template.FuncMap{
		"static": func(name string) (string, error) {
			v, ok := u.version[name]
			if !ok {
				return "", fmt.Errorf("no static file %q", name)
			}
			return Prefix + "static/" + name + "?v=" + v, nil
		},
		"size":  bytesText,
		"bytes": func(n int64) string { return bytesText(&n) },
		"when":  func(t time.Time) string { return whenText(t) },
		"iso":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"short": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("2006-01-02 15:04")
		},
		"label": label,
		"limit": limitText,
		"mib":   mibText,
		"pct": func(usage, limit int64) int64 {
			if limit <= 0 {
				return 0
			}
			return min(100, usage*100/limit)
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict wants pairs")
			}
			m := map[string]any{}
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		"pathesc":  url.PathEscape,
		"tabsList": func() []string { return tabs },
		"tabLabel": func(tab string) string {
			return map[string]string{"project": "Project", "shared": "Shared with me", "community": "Community", "public": "Public"}[tab]
		},
		"plural": func(n int) string {
			if n == 1 {
				return ""
			}
			return "s"
		},
		"join": strings.Join,
		// breakable lets a long OS::Kind::Name wrap after each "::".
		"breakable": func(s string) template.HTML {
			parts := strings.Split(s, "::")
			for i, p := range parts {
				parts[i] = template.HTMLEscapeString(p)
			}
			return template.HTML(strings.Join(parts, "::<wbr>"))
		},
		"itoa": strconv.Itoa,
	}
}

func whenText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// label turns API values into the words the tables show.
func label(s string) string {
	switch s {
	case "":
		return "—"
	case "pending_delete":
		return "Pending delete"
	case "image_count_total":
		return "Images"
	case "image_count_uploading":
		return "Uploads in progress"
	case "image_size_total":
		return "Storage"
	case "image_stage_total":
		return "Staging area"
	case "iso", "raw", "vmdk", "vhd", "vhdx", "vdi", "qcow2", "ami", "ari", "aki", "ovf", "ova", "ploop", "aki,ari":
		return strings.ToUpper(s)
	}
	return strings.ToUpper(s[:1]) + strings.ReplaceAll(s[1:], "_", " ")
}

func limitText(name string, n int64) string {
	if n < 0 {
		return "unlimited"
	}
	if strings.HasPrefix(name, "image_size") || strings.HasPrefix(name, "image_stage") {
		return mibText(n)
	}
	return strconv.FormatInt(n, 10)
}

// mibText renders a quota size, which the API counts in whole MiB.
func mibText(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " MiB"
	}
	b := n << 20
	return bytesText(&b)
}

// base is what every template gets: the session and its CSRF secret.
type base struct {
	S   *session
	Nav string
}

// CSRF is the value forms and htmx requests echo.
func (b base) CSRF() string {
	if b.S == nil {
		return ""
	}
	return b.S.CSRF
}

// layoutData is the page shell around a rendered body.
type layoutData struct {
	base
	Title string
	Body  template.HTML
	Login bool
}

// toast is a notice shown out of band.
type toast struct {
	Kind, Text string
}

// writeFragment renders one template alone, for htmx swaps.
func (h *Handler) writeFragment(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := h.ui.tmpl.ExecuteTemplate(&buf, name, data); err != nil {
		h.log.Error("dashboard: rendering a fragment", "template", name, "err", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writePage renders a template as the body of a whole page.
func (h *Handler) writePage(w http.ResponseWriter, r *http.Request, s *session, status int, title, nav, name string, data any) {
	var body bytes.Buffer
	err := h.ui.tmpl.ExecuteTemplate(&body, name, data)
	var page bytes.Buffer
	if err == nil {
		err = h.ui.tmpl.ExecuteTemplate(&page, "layout", layoutData{base: base{S: s, Nav: nav}, Title: title,
			Body: template.HTML(body.String()), Login: s == nil})
	}
	if err != nil {
		h.log.ErrorContext(r.Context(), "dashboard: rendering a page", "template", name, "err", err)
		http.Error(w, "The page could not be rendered.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(page.Bytes())
}

// show renders a dialog: alone for htmx (it goes into the modal), or as
// a whole page when opened directly.
func (h *Handler) show(w http.ResponseWriter, r *http.Request, s *session, status int, title, nav, name string, data any) {
	if isHTMX(r) {
		h.writeFragment(w, status, name, data)
		return
	}
	h.writePage(w, r, s, status, title, nav, name, data)
}

// done answers a successful action: for htmx a notice, the dialog closed
// and the lists refreshed (events the page's script and hx-triggers
// listen for); otherwise a redirect to next.
func (h *Handler) done(w http.ResponseWriter, r *http.Request, next, message string) {
	if isHTMX(r) {
		w.Header().Set("HX-Trigger", "glint-close-modal, glint-refresh")
		w.Header().Set("HX-Reswap", "none")
		h.writeFragment(w, http.StatusOK, "toast", toast{Kind: "ok", Text: message})
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// static serves the embedded files; versioned URLs are cached for good.
func (h *Handler) static(w http.ResponseWriter, r *http.Request) error {
	name := r.PathValue("file")
	b, ok := h.ui.files[name]
	if !ok {
		return errNotFound
	}
	if v := r.URL.Query().Get("v"); v != "" && v == h.ui.version[name] {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("ETag", `"`+h.ui.version[name]+`"`)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}
