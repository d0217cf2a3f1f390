package dashboard

import (
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// upload streams the browser's file to the Image API: the browser sends
// the file as the raw body of PUT /dashboard/images/{id}/file (so it can
// show progress), and the request goes on to PUT /v2/images/{id}/file
// with the user's token, body and all. Nothing is buffered here: the API
// handler reads from the browser's connection, with its own size checks,
// quotas, transfer limit and hashing. The browser gets the API's answer.
func (h *Handler) upload(w http.ResponseWriter, r *http.Request, s *session) error {
	cr := r.Header.Get("Content-Range") // a resumed upload, or its progress query
	query := cr != "" && r.ContentLength == 0
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/octet-stream" && !query {
		return &pageError{Status: http.StatusUnsupportedMediaType, Message: "Send the image data as application/octet-stream."}
	}
	in := r.Clone(r.Context())
	in.URL = &url.URL{Path: "/v2/images/" + r.PathValue("id") + "/file"}
	in.RequestURI = in.URL.RequestURI()
	in.Header = http.Header{
		"Content-Type": {"application/octet-stream"},
		"Accept":       {"application/json"},
		"X-Auth-Token": {s.Token},
	}
	if n := r.Header.Get("X-Openstack-Image-Size"); n != "" {
		in.Header.Set("X-Openstack-Image-Size", n)
	}
	if st := r.Header.Get("X-Image-Meta-Store"); st != "" {
		in.Header.Set("X-Image-Meta-Store", st)
	}
	if cr != "" {
		in.Header.Set("Content-Range", cr)
		if query {
			in.Header.Del("Content-Type")
		}
	}
	// The API sets its idle deadline through the response writer, which
	// reaches the browser's connection: a stalled browser is cut off.
	in.Body = r.Body
	pw := &plainErrors{ResponseWriter: w}
	h.opts.Images.ServeHTTP(pw, in)
	pw.finish()
	return nil
}

// download streams an image's data to the browser as a file.
func (h *Handler) download(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	img, err := getImage(ctx, h.imageClient(s), r.PathValue("id"))
	if err != nil {
		return err
	}
	in := r.Clone(ctx)
	in.URL = &url.URL{Path: "/v2/images/" + r.PathValue("id") + "/file"}
	in.RequestURI = in.URL.RequestURI()
	in.Header = http.Header{"Accept": {"application/json"}, "X-Auth-Token": {s.Token}}
	in.Body = http.NoBody
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": downloadName(img)}))
	h.opts.Images.ServeHTTP(w, in)
	return nil
}

// downloadName is a file name for an image: its name with path-like and
// control characters replaced, plus the disk format as extension.
func downloadName(img *imageView) string {
	name := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`/\:*?"<>|`, r) {
			return '_'
		}
		return r
	}, img.Name)
	if name == "" {
		name = img.ID
	}
	if img.DiskFormat != "" && !strings.HasSuffix(strings.ToLower(name), "."+img.DiskFormat) {
		name += "." + img.DiskFormat
	}
	return name
}

type uploadView struct {
	base
	Image    *imageView
	Features features
}

// uploadForm asks for the data of an image still queued (an upload that
// was cancelled, or an image created elsewhere without data).
func (h *Handler) uploadForm(w http.ResponseWriter, r *http.Request, s *session) error {
	c := h.imageClient(s)
	img, err := getImage(r.Context(), c, r.PathValue("id"))
	if err != nil {
		return err
	}
	h.show(w, r, s, http.StatusOK, "Upload image data", "project-images", "upload-form",
		uploadView{base: base{S: s}, Image: img, Features: detectFeatures(r.Context(), c)})
	return nil
}
