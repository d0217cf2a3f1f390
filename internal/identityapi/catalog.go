package identityapi

import (
	"net/http"

	"github.com/glint-image/glint/internal/identity"
)

// Services, endpoints and regions: read-only views of the catalog, which
// glint derives from its public URL instead of storing it. Reading them is
// admin-only, as in Keystone's legacy policy.

type serviceJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	ID          string   `json:"id"`
	Type        string   `json:"type"`
	Enabled     bool     `json:"enabled"`
	Links       selfLink `json:"links"`
}

type endpointJSON struct {
	ID        string   `json:"id"`
	Interface string   `json:"interface"`
	RegionID  string   `json:"region_id"`
	ServiceID string   `json:"service_id"`
	URL       string   `json:"url"`
	Enabled   bool     `json:"enabled"`
	Region    string   `json:"region"`
	Links     selfLink `json:"links"`
}

func (c *call) service(s identity.CatalogService) serviceJSON {
	return serviceJSON{Name: s.Name, Description: s.Description, ID: s.ID, Type: s.Type, Enabled: true,
		Links: selfLink{c.url("/services/" + s.ID)}}
}

func (c *call) endpoint(e identity.Endpoint) endpointJSON {
	return endpointJSON{ID: e.ID, Interface: e.Interface, RegionID: e.Region, ServiceID: e.ServiceID,
		URL: e.URL, Enabled: true, Region: e.Region, Links: selfLink{c.url("/endpoints/" + e.ID)}}
}

func (h *Handler) catalog(c *call) []identity.CatalogService {
	return identity.Catalog(c.base, h.opts.Region, h.opts.KeyManagerPath)
}

// listServices is GET /v3/services, filtered by ?type= and ?name=.
func (h *Handler) listServices(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_services"); err != nil {
		return err
	}
	q := c.URL.Query()
	out := []serviceJSON{}
	for _, s := range h.catalog(c) {
		if match(q.Get("type"), s.Type) && match(q.Get("name"), s.Name) {
			out = append(out, c.service(s))
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"services": out, "links": c.listLinks()})
	return nil
}

func (h *Handler) showService(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:get_service"); err != nil {
		return err
	}
	id := c.PathValue("id")
	for _, s := range h.catalog(c) {
		if s.ID == id {
			writeJSON(w, c, http.StatusOK, map[string]any{"service": c.service(s)})
			return nil
		}
	}
	return identity.NotFound("service", id)
}

// listEndpoints is GET /v3/endpoints, filtered by ?service_id=,
// ?interface= and ?region_id=.
func (h *Handler) listEndpoints(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:list_endpoints"); err != nil {
		return err
	}
	q := c.URL.Query()
	out := []endpointJSON{}
	for _, s := range h.catalog(c) {
		for _, e := range s.Endpoints {
			if match(q.Get("service_id"), e.ServiceID) && match(q.Get("interface"), e.Interface) &&
				match(q.Get("region_id"), e.Region) {
				out = append(out, c.endpoint(e))
			}
		}
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"endpoints": out, "links": c.listLinks()})
	return nil
}

func (h *Handler) showEndpoint(w http.ResponseWriter, c *call) error {
	if err := requireAdmin(c, "identity:get_endpoint"); err != nil {
		return err
	}
	id := c.PathValue("id")
	for _, s := range h.catalog(c) {
		for _, e := range s.Endpoints {
			if e.ID == id {
				writeJSON(w, c, http.StatusOK, map[string]any{"endpoint": c.endpoint(e)})
				return nil
			}
		}
	}
	return identity.NotFound("endpoint", id)
}

type regionJSON struct {
	ID             string   `json:"id"`
	Description    string   `json:"description"`
	ParentRegionID *string  `json:"parent_region_id"`
	Links          selfLink `json:"links"`
}

func (c *call) region(id string) regionJSON {
	return regionJSON{ID: id, Links: selfLink{c.url("/regions/" + id)}}
}

// listRegions is GET /v3/regions: the one region of the catalog. Keystone
// lets anyone read regions.
func (h *Handler) listRegions(w http.ResponseWriter, c *call) error {
	writeJSON(w, c, http.StatusOK, map[string]any{"regions": []regionJSON{c.region(h.opts.Region)},
		"links": c.listLinks()})
	return nil
}

func (h *Handler) showRegion(w http.ResponseWriter, c *call) error {
	id := c.PathValue("id")
	if id != h.opts.Region {
		return identity.NotFound("region", id)
	}
	writeJSON(w, c, http.StatusOK, map[string]any{"region": c.region(id)})
	return nil
}

// match is an optional equality filter.
func match(want, have string) bool { return want == "" || want == have }
