package server

import (
	"net/netip"

	"github.com/glint-image/glint/internal/blob/httpstore"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/webfetch"
)

// openHTTPStore builds a read-only http store: import.web_download's
// rules and timeouts, with the store's own internal networks (none unless
// configured) and, when given, its own ports.
func openHTTPStore(wd config.WebDownload, st config.Store) *httpstore.Driver {
	pol := webfetch.Policy{AllowedSchemes: wd.AllowedSchemes, DisallowedSchemes: wd.DisallowedSchemes,
		AllowedHosts: wd.AllowedHosts, DisallowedHosts: wd.DisallowedHosts, AllowedPorts: wd.AllowedPorts,
		DisallowedPorts: wd.DisallowedPorts, MaxRedirects: wd.MaxRedirects, ConnectTimeout: wd.ConnectTimeout,
		HeaderTimeout: wd.HeaderTimeout, IdleTimeout: wd.IdleTimeout, TotalTimeout: wd.TotalTimeout}
	if len(st.HTTP.AllowedPorts) > 0 {
		pol.AllowedPorts, pol.DisallowedPorts = st.HTTP.AllowedPorts, nil
	}
	for _, n := range st.HTTP.AllowedNetworks {
		pol.AllowedNetworks = append(pol.AllowedNetworks, netip.MustParsePrefix(n)) // validated
	}
	return httpstore.New(pol)
}
