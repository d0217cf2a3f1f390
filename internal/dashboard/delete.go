package dashboard

import (
	"net/http"
	"strings"
)

// maxDelete bounds how many images one confirmation deletes.
const maxDelete = 100

type deleteView struct {
	base
	Images []*imageView
	// Skipped are selected images that cannot be deleted (protected).
	Skipped []*imageView
	Missing []string
	Next    string
}

// selectedIDs reads the ids of a selection (repeated id parameters).
func selectedIDs(values []string) ([]string, error) {
	var ids []string
	seen := map[string]bool{}
	for _, v := range values {
		for _, id := range strings.Split(v, ",") {
			if id = idLike(strings.TrimSpace(id)); id != "" && !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, badInput("Select the images to delete first.")
	}
	if len(ids) > maxDelete {
		return nil, badInput("Delete at most 100 images at once.")
	}
	return ids, nil
}

// deleteConfirm names the selected images and asks before deleting.
// Protected images are listed apart and are not deleted.
func (h *Handler) deleteConfirm(w http.ResponseWriter, r *http.Request, s *session) error {
	ids, err := selectedIDs(r.URL.Query()["id"])
	if err != nil {
		return err
	}
	v := deleteView{base: base{S: s}, Next: safeNext(r.URL.Query().Get("next"))}
	c := h.imageClient(s)
	for _, id := range ids {
		img, err := getImage(r.Context(), c, id)
		switch {
		case isStatus(err, http.StatusNotFound):
			v.Missing = append(v.Missing, id)
		case err != nil:
			return err
		case img.Protected:
			v.Skipped = append(v.Skipped, img)
		default:
			v.Images = append(v.Images, img)
		}
	}
	h.show(w, r, s, http.StatusOK, "Delete images", "project-images", "delete-confirm", v)
	return nil
}

type deleteResult struct {
	base
	Deleted []string
	Failed  []struct{ Name, Message string }
}

// deleteImages deletes the confirmed images one by one and reports each
// failure by name; the others are still deleted.
func (h *Handler) deleteImages(w http.ResponseWriter, r *http.Request, s *session) error {
	ids, err := selectedIDs(r.PostForm["id"])
	if err != nil {
		return err
	}
	ctx := r.Context()
	c := h.imageClient(s)
	res := deleteResult{base: base{S: s}}
	for _, id := range ids {
		name := r.PostFormValue("name_" + id)
		if name == "" {
			name = id
		}
		if err := deleteImage(ctx, c, id); err != nil {
			ae := asAPIError(err)
			if ae.Status == http.StatusUnauthorized {
				return err
			}
			res.Failed = append(res.Failed, struct{ Name, Message string }{name, ae.Message})
			continue
		}
		res.Deleted = append(res.Deleted, name)
	}
	next := safeNext(r.PostFormValue("next"))
	if len(res.Failed) == 0 {
		msg := "Deleted " + strings.Join(res.Deleted, ", ") + "."
		h.done(w, r, next, msg)
		return nil
	}
	if isHTMX(r) {
		w.Header().Set("HX-Trigger", "glint-refresh")
	}
	h.show(w, r, s, http.StatusOK, "Delete images", "project-images", "delete-result", res)
	return nil
}
