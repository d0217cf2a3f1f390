package identity

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// PathPrefix is where the identity API is mounted on glint's listener.
const PathPrefix = "/identity"

// DefaultRegion is the region of the catalog's endpoints, Keystone's
// bootstrap default.
const DefaultRegion = "RegionOne"

// AuthURL returns the identity v3 URL (clouds.yaml's auth_url) for a glint
// whose public base URL is base, e.g. http://127.0.0.1:9292 →
// http://127.0.0.1:9292/identity/v3.
func AuthURL(base string) string {
	return strings.TrimRight(base, "/") + PathPrefix + "/v3"
}

// CatalogService is one service of the catalog with its endpoints.
type CatalogService struct {
	ID          string
	Type        string
	Name        string
	Description string
	Endpoints   []Endpoint
}

// Endpoint is one URL of a service for one interface.
type Endpoint struct {
	ID        string
	ServiceID string
	Interface string // public, internal or admin
	Region    string
	URL       string
}

// Interfaces are the endpoint interfaces the catalog lists, as Keystone's
// bootstrap registers them.
var Interfaces = []string{"public", "internal", "admin"}

// Catalog returns the service catalog of a glint whose public base URL is
// base: the image service at base itself (clients discover the API
// version at its root, so no /v2 suffix, as Glance is registered) and the
// identity service at AuthURL(base), each on every interface in region.
// The catalog is derived rather than stored, so every node serving the
// same URL shows the same one; ids are stable hashes for the same reason.
// keyManagerPath, when not empty, adds the built-in key manager (the
// key-manager service, Barbican's API) at base+keyManagerPath.
func Catalog(base, region, keyManagerPath string) []CatalogService {
	if region == "" {
		region = DefaultRegion
	}
	base = strings.TrimRight(base, "/")
	services := []CatalogService{
		{Type: "identity", Name: "keystone", Description: "Identity service (built into glint)"},
		{Type: "image", Name: "glance", Description: "Image service"},
	}
	urls := map[string]string{"identity": AuthURL(base), "image": base}
	if keyManagerPath != "" {
		services = append(services, CatalogService{Type: "key-manager", Name: "barbican", Description: "Key manager (built into glint)"})
		urls["key-manager"] = base + keyManagerPath
	}
	for i := range services {
		svc := &services[i]
		svc.ID = stableID("service", svc.Type)
		for _, iface := range Interfaces {
			svc.Endpoints = append(svc.Endpoints, Endpoint{
				ID:        stableID("endpoint", svc.Type, iface),
				ServiceID: svc.ID,
				Interface: iface,
				Region:    region,
				URL:       urls[svc.Type],
			})
		}
	}
	return services
}

// stableID derives a Keystone-shaped id (32 hex digits) from its parts.
func stableID(parts ...string) string {
	sum := sha256.Sum256([]byte("glint-catalog/" + strings.Join(parts, "/")))
	return hex.EncodeToString(sum[:16])
}
