package imagecli

import (
	"context"
	"io"

	"github.com/gophercloud/gophercloud/v2"
)

// Session is a connection made the way `glint image` makes it, for other
// commands that take the same credentials (`glint manage`).
type Session struct {
	Image     *gophercloud.ServiceClient
	Identity  *gophercloud.ServiceClient // nil with OS_TOKEN and OS_ENDPOINT
	ProjectID string                     // "" when the token was not issued here
}

// ConnectOptions are the --os-* settings of a run; the rest comes from
// Getenv (OS_* variables) and clouds.yaml, as for `glint image`.
type ConnectOptions struct {
	Cloud, Region, Interface string
	Getenv                   func(string) string
	// Debug, when not nil, receives each request and response with
	// secrets masked.
	Debug     io.Writer
	UserAgent string
}

// Connect authenticates once and finds the image endpoint.
func Connect(ctx context.Context, o ConnectOptions) (*Session, error) {
	a := &app{errw: o.Debug, getenv: o.Getenv, cloud: o.Cloud, region: o.Region, iface: o.Interface,
		debug: o.Debug != nil, userAgent: o.UserAgent}
	s, err := a.connect(ctx)
	if err != nil {
		return nil, err
	}
	return &Session{Image: s.image, Identity: s.identity, ProjectID: s.projectID}, nil
}

func (a *app) agent() string {
	return first(a.userAgent, "glint-image")
}
