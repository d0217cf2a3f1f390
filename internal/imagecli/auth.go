package imagecli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/config/clouds"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"

	"github.com/glint-image/glint/internal/imageclient"
)

// session is what one run talks to: the image service, the identity
// service when the credentials went through Keystone, and the project the
// token is scoped to. It is built once per run, so one run uses one token.
type session struct {
	image     *gophercloud.ServiceClient
	identity  *gophercloud.ServiceClient // nil with OS_TOKEN and OS_ENDPOINT
	projectID string                     // "" when the token was not issued here
}

// credentials is where a run's identity comes from, resolved from
// --os-* flags, OS_* variables and clouds.yaml.
type credentials struct {
	auth     gophercloud.AuthOptions
	endpoint gophercloud.EndpointOpts
	tls      *tls.Config
	// imageURL, from OS_ENDPOINT, replaces the catalog's image endpoint;
	// with OS_TOKEN and no auth URL no identity call is made at all.
	imageURL string
}

// connect authenticates once and finds the image endpoint in the catalog.
func (a *app) connect(ctx context.Context) (*session, error) {
	if a.sess != nil {
		return a.sess, nil
	}
	cred, err := a.credentials()
	if err != nil {
		return nil, err
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = cred.tls
	client := http.Client{Transport: &roundTripper{next: transport, debug: a.debugWriter()}}

	if cred.auth.IdentityEndpoint == "" {
		a.sess, err = tokenSession(client, cred, a.agent())
		return a.sess, err
	}
	provider, err := openstack.NewClient(cred.auth.IdentityEndpoint)
	if err != nil {
		return nil, fmt.Errorf("auth URL %q: %w", cred.auth.IdentityEndpoint, err)
	}
	provider.HTTPClient = client
	provider.UserAgent.Prepend(a.agent())
	// No reauthentication: a run keeps the token it started with, and a
	// streamed upload could not be replayed anyway.
	cred.auth.AllowReauth = false
	if err := openstack.Authenticate(ctx, provider, cred.auth); err != nil {
		return nil, fmt.Errorf("authentication failed: %w", imageclient.Describe(err))
	}
	s := &session{}
	if r, ok := provider.GetAuthResult().(tokens.CreateResult); ok {
		if p, err := r.ExtractProject(); err == nil && p != nil {
			s.projectID = p.ID
		}
	}
	if s.identity, err = openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{}); err != nil {
		s.identity = nil
	}
	if cred.imageURL != "" {
		s.image = imageClient(provider, cred.imageURL)
	} else if s.image, err = openstack.NewImageV2(provider, cred.endpoint); err != nil {
		return nil, fmt.Errorf("no image service in the catalog: %w", err)
	}
	a.sess = s
	return s, nil
}

// tokenSession uses OS_TOKEN against OS_ENDPOINT directly, as
// openstackclient's token_endpoint auth does: nothing asks Keystone.
func tokenSession(client http.Client, cred credentials, agent string) (*session, error) {
	if cred.auth.TokenID == "" || cred.imageURL == "" {
		return nil, errors.New("no credentials: give --os-cloud (or OS_CLOUD) naming a clouds.yaml entry, " +
			"or OS_AUTH_URL with OS_USERNAME and OS_PASSWORD, or OS_TOKEN with OS_ENDPOINT")
	}
	provider := &gophercloud.ProviderClient{HTTPClient: client}
	provider.UserAgent.Prepend(agent)
	provider.SetToken(cred.auth.TokenID)
	return &session{image: imageClient(provider, cred.imageURL)}, nil
}

// imageClient points at an image endpoint given by the user, with or
// without its /v2 suffix.
func imageClient(p *gophercloud.ProviderClient, endpoint string) *gophercloud.ServiceClient {
	base := strings.TrimRight(endpoint, "/")
	base = strings.TrimSuffix(base, "/v2") + "/"
	return &gophercloud.ServiceClient{ProviderClient: p, Endpoint: base, ResourceBase: base + "v2/", Type: "image"}
}

// credentials reads a clouds.yaml entry when one is named, else the OS_*
// variables. As with openstackclient's --os-* options, OS_* variables
// that are set override what clouds.yaml says.
func (a *app) credentials() (credentials, error) {
	env := a.getenv
	region := first(a.region, env("OS_REGION_NAME"))
	iface := first(a.iface, env("OS_INTERFACE"))
	cred := credentials{imageURL: env("OS_ENDPOINT")}
	if cloud := first(a.cloud, env("OS_CLOUD")); cloud != "" {
		opts := []clouds.ParseOption{clouds.WithCloudName(cloud), clouds.WithLocations(a.cloudsLocations()...),
			clouds.WithRegion(region), clouds.WithEndpointType(iface)}
		for name, with := range envOverrides {
			if v := env(name); v != "" {
				opts = append(opts, with(v))
			}
		}
		var err error
		cred.auth, cred.endpoint, cred.tls, err = clouds.Parse(opts...)
		if err != nil {
			return cred, fmt.Errorf("cloud %q: %w", cloud, err)
		}
		return cred, nil
	}
	cred.auth = gophercloud.AuthOptions{
		IdentityEndpoint: env("OS_AUTH_URL"), Username: env("OS_USERNAME"), UserID: env("OS_USER_ID"),
		Password: env("OS_PASSWORD"), TokenID: env("OS_TOKEN"),
		DomainID: env("OS_USER_DOMAIN_ID"), DomainName: env("OS_USER_DOMAIN_NAME"),
		ApplicationCredentialID:     env("OS_APPLICATION_CREDENTIAL_ID"),
		ApplicationCredentialName:   env("OS_APPLICATION_CREDENTIAL_NAME"),
		ApplicationCredentialSecret: env("OS_APPLICATION_CREDENTIAL_SECRET"),
	}
	// openstackclient's --os-default-domain: names without a domain are
	// looked up in "default".
	if cred.auth.Username != "" && cred.auth.UserID == "" && cred.auth.DomainID == "" && cred.auth.DomainName == "" {
		cred.auth.DomainID = "default"
	}
	cred.auth.Scope = envScope(env)
	cred.endpoint = gophercloud.EndpointOpts{Region: region, Availability: availability(iface)}
	if cred.auth.IdentityEndpoint == "" && cred.auth.TokenID == "" {
		return cred, errors.New("no credentials: give --os-cloud (or OS_CLOUD) naming a clouds.yaml entry, " +
			"or OS_AUTH_URL with OS_USERNAME and OS_PASSWORD, or OS_TOKEN with OS_ENDPOINT")
	}
	return cred, nil
}

// envOverrides are the OS_* variables that override a clouds.yaml entry.
var envOverrides = map[string]func(string) clouds.ParseOption{
	"OS_AUTH_URL":         clouds.WithIdentityEndpoint,
	"OS_USERNAME":         clouds.WithUsername,
	"OS_USER_ID":          clouds.WithUserID,
	"OS_PASSWORD":         clouds.WithPassword,
	"OS_PROJECT_NAME":     clouds.WithProjectName,
	"OS_PROJECT_ID":       clouds.WithProjectID,
	"OS_USER_DOMAIN_NAME": clouds.WithDomainName,
	"OS_USER_DOMAIN_ID":   clouds.WithDomainID,
	"OS_TOKEN":            clouds.WithToken,
}

// envScope is the project the token is scoped to, from OS_PROJECT_*.
func envScope(env func(string) string) *gophercloud.AuthScope {
	switch {
	case env("OS_PROJECT_ID") != "":
		return &gophercloud.AuthScope{ProjectID: env("OS_PROJECT_ID")}
	case env("OS_PROJECT_NAME") != "":
		s := &gophercloud.AuthScope{ProjectName: env("OS_PROJECT_NAME"),
			DomainID: env("OS_PROJECT_DOMAIN_ID"), DomainName: env("OS_PROJECT_DOMAIN_NAME")}
		if s.DomainID == "" && s.DomainName == "" {
			s.DomainID = "default"
		}
		return s
	}
	return nil
}

// cloudsLocations is where clouds.yaml is looked for, as openstackclient
// does: OS_CLIENT_CONFIG_FILE alone when set, else the working directory,
// the user's config directory and /etc/openstack. secure.yaml is read from
// the directory the file was found in.
func (a *app) cloudsLocations() []string {
	if f := a.getenv("OS_CLIENT_CONFIG_FILE"); f != "" {
		return []string{f}
	}
	config := a.getenv("XDG_CONFIG_HOME")
	if config == "" {
		config = filepath.Join(a.getenv("HOME"), ".config")
	}
	return []string{"clouds.yaml", filepath.Join(config, "openstack", "clouds.yaml"), "/etc/openstack/clouds.yaml"}
}

func availability(iface string) gophercloud.Availability {
	switch strings.TrimSuffix(iface, "URL") {
	case "internal":
		return gophercloud.AvailabilityInternal
	case "admin":
		return gophercloud.AvailabilityAdmin
	}
	return gophercloud.AvailabilityPublic
}

func first(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}
