package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/config"
)

// Cloud is a Server with built-in identity and a clouds.yaml that names
// its admin as the cloud "glint", for the clients under test.
type Cloud struct {
	*Server
	Dir      string // the clients' directory (their HOME): clouds.yaml
	Clouds   string // that clouds.yaml
	Password string // the admin's
}

// StartCloud starts a glint with built-in identity on a new data
// directory, bcrypt at its lowest cost (fast: tests only), cfg edited by
// each of edit. On its first start glint writes its admin's password
// (GLINT_BOOTSTRAP_PASSWORD, or one it makes up) into the data
// directory's clouds.yaml, whose auth_url is its listen address; the
// clients' clouds.yaml is written anew with the loopback URL.
func StartCloud(t testing.TB, edit ...func(*config.Config)) *Cloud {
	t.Helper()
	cfg := config.Default()
	cfg.PasswordCost = 4
	cfg.DataDir = t.TempDir()
	for _, f := range edit {
		f(&cfg)
	}
	c := &Cloud{Server: Start(t, cfg), Dir: t.TempDir(), Password: adminPassword(t, cfg.DataDir)}
	c.Clouds = filepath.Join(c.Dir, "clouds.yaml")
	doc := fmt.Sprintf(`clouds:
  glint:
    auth:
      auth_url: %s/identity/v3
      username: admin
      password: %s
      project_name: admin
      user_domain_name: Default
      project_domain_name: Default
    region_name: RegionOne
`, c.URL, c.Password)
	if err := os.WriteFile(c.Clouds, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return c
}

// adminPassword reads the admin's password from the clouds.yaml glint
// wrote into dataDir.
func adminPassword(t testing.TB, dataDir string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dataDir, "clouds.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Clouds map[string]struct {
			Auth struct {
				Password string `yaml:"password"`
			} `yaml:"auth"`
		} `yaml:"clouds"`
	}
	if err := yaml.Unmarshal(raw, &f); err != nil || f.Clouds["glint"].Auth.Password == "" {
		t.Fatalf("glint's clouds.yaml: %v", err)
	}
	return f.Clouds["glint"].Auth.Password
}
