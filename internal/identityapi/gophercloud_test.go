package identityapi_test

import (
	"slices"
	"testing"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/projects"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/roles"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/tokens"
	"github.com/gophercloud/gophercloud/v2/openstack/identity/v3/users"
)

// TestGophercloud drives the API with gophercloud v2, as glint's own CLI
// and image manager do: an admin logs in, creates a project, a user and a
// member assignment; the new user then logs in, scoped to the project, and
// finds the image service in its catalog.
func TestGophercloud(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	authURL := e.srv.URL + "/identity/v3"
	provider, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "admin", Password: adminPassword,
		DomainName: "Default", TenantName: "admin",
	})
	if err != nil {
		t.Fatalf("admin login: %v", err)
	}
	idc, err := openstack.NewIdentityV3(provider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	if idc.Endpoint != authURL+"/" {
		t.Errorf("identity endpoint %q", idc.Endpoint)
	}

	project, err := projects.Create(ctx, idc, projects.CreateOpts{Name: "gc-project", DomainID: "default",
		Description: "from gophercloud"}).Extract()
	if err != nil {
		t.Fatalf("create project: %v", err)
	}
	if project.Name != "gc-project" || !project.Enabled || project.ParentID != "default" {
		t.Errorf("project %+v", project)
	}
	user, err := users.Create(ctx, idc, users.CreateOpts{Name: "gc-user", DomainID: "default",
		Password: "gc-password", DefaultProjectID: project.ID}).Extract()
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	pages, err := roles.List(idc, roles.ListOpts{Name: "member"}).AllPages(ctx)
	if err != nil {
		t.Fatalf("list roles: %v", err)
	}
	found, err := roles.ExtractRoles(pages)
	if err != nil || len(found) != 1 {
		t.Fatalf("roles?name=member: %v %v", found, err)
	}
	if err := roles.Assign(ctx, idc, found[0].ID, roles.AssignOpts{UserID: user.ID, ProjectID: project.ID}).ExtractErr(); err != nil {
		t.Fatalf("assign: %v", err)
	}
	apages, err := roles.ListAssignments(idc, roles.ListAssignmentsOpts{UserID: user.ID}).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	as, err := roles.ExtractRoleAssignments(apages)
	if err != nil || len(as) != 1 || as[0].Scope.Project.ID != project.ID || as[0].Role.ID != found[0].ID {
		t.Errorf("assignments %+v %v", as, err)
	}

	// The new user, scoped to the new project by name.
	userProvider, err := openstack.AuthenticatedClient(ctx, gophercloud.AuthOptions{
		IdentityEndpoint: authURL, Username: "gc-user", Password: "gc-password",
		DomainName: "Default", TenantName: "gc-project",
	})
	if err != nil {
		t.Fatalf("user login: %v", err)
	}
	image, err := openstack.NewImageV2(userProvider, gophercloud.EndpointOpts{Region: "RegionOne"})
	if err != nil {
		t.Fatalf("image endpoint from the catalog: %v", err)
	}
	if image.Endpoint != e.srv.URL+"/" || image.ResourceBase != e.srv.URL+"/v2/" {
		t.Errorf("image endpoint %q, resource base %q", image.Endpoint, image.ResourceBase)
	}

	// The admin validates the user's token as a service would.
	res := tokens.Get(ctx, idc, userProvider.Token())
	tok, err := res.ExtractProject()
	if err != nil || tok.ID != project.ID {
		t.Errorf("validated token project %+v, %v", tok, err)
	}
	rs, err := res.ExtractRoles()
	var names []string
	for _, r := range rs {
		names = append(names, r.Name)
	}
	if err != nil || !slices.Equal(names, []string{"member", "reader"}) {
		t.Errorf("validated token roles %v, %v", names, err)
	}

	// The user lists its projects (GET /v3/auth/projects).
	uidc, err := openstack.NewIdentityV3(userProvider, gophercloud.EndpointOpts{})
	if err != nil {
		t.Fatal(err)
	}
	ppages, err := projects.ListAvailable(uidc).AllPages(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := projects.ExtractProjects(ppages)
	if err != nil || len(mine) != 1 || mine[0].ID != project.ID {
		t.Errorf("available projects %+v %v", mine, err)
	}

	// Revocation through gophercloud.
	if err := tokens.Revoke(ctx, idc, userProvider.Token()).Err; err != nil {
		t.Fatal(err)
	}
	if err := tokens.Get(ctx, idc, userProvider.Token()).Err; err == nil {
		t.Error("revoked token still validates")
	}
}
