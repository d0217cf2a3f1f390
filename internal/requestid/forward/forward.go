// Package forward sends a request's id on to the services glint calls on
// its behalf (Keystone, web-download and glance-download sources).
package forward

import (
	"net/http"

	"github.com/glint-image/glint/internal/requestid"
)

// Transport sets the request id of the outgoing request's context as
// X-Openstack-Request-Id, so the service called can tie its logs to ours.
type Transport struct {
	// Base sends the request; nil is http.DefaultTransport.
	Base http.RoundTripper
}

func (t Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if id := requestid.From(r.Context()); id != "" && r.Header.Get(requestid.Header) == "" {
		r = r.Clone(r.Context())
		r.Header.Set(requestid.Header, id)
	}
	return base.RoundTrip(r)
}
