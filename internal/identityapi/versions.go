package identityapi

import (
	"net/http"
)

// The identity API version glint speaks, as Keystone 22 announces it.
const (
	apiVersion = "v3.14"
	apiUpdated = "2020-04-07T00:00:00Z"
)

func (h *Handler) versionDoc(c *call) map[string]any {
	return map[string]any{
		"id":      apiVersion,
		"status":  "stable",
		"updated": apiUpdated,
		"links":   []map[string]string{{"rel": "self", "href": c.url("/")}},
		"media-types": []map[string]string{{
			"base": "application/json",
			"type": "application/vnd.openstack.identity-v3+json",
		}},
	}
}

// versions answers the unversioned root with the list of versions (300),
// which keystoneauth reads when an auth_url has no version.
func (h *Handler) versions(w http.ResponseWriter, c *call) error {
	w.Header().Set("Location", c.url("/"))
	writeJSON(w, c, http.StatusMultipleChoices, map[string]any{
		"versions": map[string]any{"values": []any{h.versionDoc(c)}},
	})
	return nil
}

// version answers /v3 with its own document (200).
func (h *Handler) version(w http.ResponseWriter, c *call) error {
	writeJSON(w, c, http.StatusOK, map[string]any{"version": h.versionDoc(c)})
	return nil
}
