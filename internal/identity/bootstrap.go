package identity

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Names bootstrap gives the first project and user.
const (
	AdminProjectName = "admin"
	AdminUserName    = "admin"
)

// BootstrapOptions configure Bootstrap.
type BootstrapOptions struct {
	// Password of the admin user when bootstrap creates it. Required.
	Password string
	// ResetPassword also sets Password on an admin user that already
	// exists, and enables it: the recovery path keystone-manage bootstrap
	// offers. Off by default, so a restart never changes the password.
	ResetPassword bool
}

// Bootstrap makes sure the records a fresh installation needs exist:
// domain Default, roles admin, member and reader, project admin and user
// admin with role admin on that project and on the system. It is
// idempotent and only adds what is missing. It reports whether it created
// the admin user (so the caller knows whether Password is now in use).
func Bootstrap(ctx context.Context, svc *Service, opts BootstrapOptions) (created bool, err error) {
	if opts.Password == "" {
		return false, errors.New("identity: bootstrap needs an admin password")
	}
	st := svc.store
	if _, err := st.GetDomain(ctx, DefaultDomainID); errors.Is(err, ErrNotFound) {
		err = st.CreateDomain(ctx, &Domain{ID: DefaultDomainID, Name: DefaultDomainName,
			Description: "The default domain", Enabled: true})
		if err != nil && !errors.Is(err, ErrConflict) {
			return false, fmt.Errorf("identity: bootstrap domain: %w", err)
		}
	} else if err != nil {
		return false, fmt.Errorf("identity: bootstrap domain: %w", err)
	}

	var admin *Role
	for _, name := range []string{RoleAdmin, RoleMember, RoleReader} {
		r, err := ensure(ctx, func() ([]*Role, error) { return st.ListRoles(ctx, Filter{Name: name}) },
			func() (*Role, error) { return svc.CreateRole(ctx, Role{Name: name}) })
		if err != nil {
			return false, fmt.Errorf("identity: bootstrap role %s: %w", name, err)
		}
		if name == RoleAdmin {
			admin = r
		}
	}

	project, err := ensure(ctx,
		func() ([]*Project, error) {
			return st.ListProjects(ctx, Filter{Name: AdminProjectName, DomainID: DefaultDomainID})
		},
		func() (*Project, error) {
			return svc.CreateProject(ctx, Project{Name: AdminProjectName, DomainID: DefaultDomainID,
				Description: "Bootstrap project for initializing the cloud.", Enabled: true})
		})
	if err != nil {
		return false, fmt.Errorf("identity: bootstrap project: %w", err)
	}

	users, err := st.ListUsers(ctx, Filter{Name: AdminUserName, DomainID: DefaultDomainID})
	if err != nil {
		return false, fmt.Errorf("identity: bootstrap user: %w", err)
	}
	var user *User
	switch {
	case len(users) == 0:
		user, err = svc.CreateUser(ctx, NewUser{Name: AdminUserName, DomainID: DefaultDomainID, Password: opts.Password})
		created = err == nil
		if errors.Is(err, ErrConflict) {
			// Another node bootstrapping the same database got there
			// first; its admin (and its password) stand.
			users, err = st.ListUsers(ctx, Filter{Name: AdminUserName, DomainID: DefaultDomainID})
			if err == nil && len(users) == 0 {
				err = errors.New("admin user vanished during bootstrap")
			}
			if err == nil {
				user = users[0]
			}
		}
	case opts.ResetPassword:
		enabled := true
		user, err = svc.UpdateUser(ctx, users[0].ID, UserUpdate{Password: &opts.Password, Enabled: &enabled})
	default:
		user = users[0]
	}
	if err != nil {
		return false, fmt.Errorf("identity: bootstrap user: %w", err)
	}

	for _, a := range []Assignment{
		{UserID: user.ID, ProjectID: project.ID, RoleID: admin.ID},
		{UserID: user.ID, System: true, RoleID: admin.ID},
	} {
		if err := st.AddAssignment(ctx, a); err != nil {
			return created, fmt.Errorf("identity: bootstrap %s: %w", a, err)
		}
	}
	return created, nil
}

// ensure returns the one record find finds, or creates it. Two nodes
// bootstrapping one database at once may both try to create it; the loser
// of that race finds the winner's record.
func ensure[T any](ctx context.Context, find func() ([]*T, error), create func() (*T, error)) (*T, error) {
	for range 2 {
		found, err := find()
		if err != nil {
			return nil, err
		}
		if len(found) > 0 {
			return found[0], nil
		}
		rec, err := create()
		if !errors.Is(err, ErrConflict) {
			return rec, err
		}
	}
	return nil, fmt.Errorf("record keeps conflicting: %w", ErrConflict)
}

// RandomPassword returns a new random password: 24 characters from
// crypto/rand (about 120 bits), letters and digits only so it survives
// shells and YAML unquoted.
func RandomPassword() string {
	return rand.Text()[:24]
}

// CloudsOptions describe the cloud WriteCloudsYAML writes.
type CloudsOptions struct {
	AuthURL       string // e.g. AuthURL("http://127.0.0.1:9292")
	Username      string
	Password      string
	ProjectName   string
	UserDomain    string // domain name; default Default
	ProjectDomain string // domain name; default Default
	Region        string // default RegionOne
}

// CloudName is the cloud WriteCloudsYAML defines.
const CloudName = "glint"

// WriteCloudsYAML writes a clouds.yaml with one cloud, "glint", holding
// the given credentials, so that `openstack --os-cloud glint` works with
// OS_CLIENT_CONFIG_FILE=path. The file holds a password: it is created
// mode 0600 and replaced atomically (a temporary file renamed over it), so
// a reader never sees half of it.
func WriteCloudsYAML(path string, o CloudsOptions) error {
	if o.AuthURL == "" || o.Username == "" || o.Password == "" {
		return errors.New("identity: clouds.yaml needs an auth URL, a user name and a password")
	}
	if o.UserDomain == "" {
		o.UserDomain = DefaultDomainName
	}
	if o.ProjectDomain == "" {
		o.ProjectDomain = DefaultDomainName
	}
	if o.Region == "" {
		o.Region = DefaultRegion
	}
	var b strings.Builder
	b.WriteString("# Written by glint: credentials of the bootstrap admin. Keep private.\n")
	b.WriteString("clouds:\n  " + CloudName + ":\n    auth:\n")
	for _, kv := range [][2]string{
		{"auth_url", o.AuthURL}, {"username", o.Username}, {"password", o.Password},
		{"project_name", o.ProjectName}, {"user_domain_name", o.UserDomain},
		{"project_domain_name", o.ProjectDomain},
	} {
		if kv[1] != "" {
			b.WriteString("      " + kv[0] + ": " + yamlString(kv[1]) + "\n")
		}
	}
	b.WriteString("    region_name: " + yamlString(o.Region) + "\n")
	b.WriteString("    interface: public\n    identity_api_version: 3\n")
	return writeFileAtomic(path, []byte(b.String()), 0o600)
}

// yamlString quotes s as a YAML double-quoted scalar. JSON string syntax
// is a subset of it, so encoding/json does the escaping.
func yamlString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("identity: write %s: %w", path, err)
	}
	tmp := f.Name()
	err = f.Chmod(mode)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("identity: write %s: %w", path, err)
	}
	syncDir(dir)
	return nil
}
