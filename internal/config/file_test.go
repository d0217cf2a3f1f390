package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadFileExamples(t *testing.T) {
	for _, name := range []string{"glint-embedded.yaml", "glint-cluster.yaml"} {
		cfg := Default()
		if err := cfg.LoadFile(filepath.Join("..", "..", "docs", name)); err != nil && !strings.Contains(err.Error(), "/run/secrets") {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dsn := writeFile(t, "dsn", "postgres://u:p@db/glint\n")
	key := writeFile(t, "secret", "s3cret\n")
	path := writeFile(t, "glint.yaml", `
data_dir: /srv/glint
listen: 127.0.0.1:9393
limits: {size_cap: 1024, idle_timeout: 5s}
metadata: {driver: postgres, dsn_file: `+dsn+`, record_cache: 500}
default_store: b
stores:
  - {id: a, type: file, path: /srv/a}
  - id: b
    type: s3
    s3: {endpoint: "127.0.0.1:7070", bucket: img, access_key: k, secret_key_file: `+key+`, part_size: 8388608, concurrency: 4}
`)
	cfg := Default()
	if err := cfg.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/srv/glint" || cfg.Listen != "127.0.0.1:9393" || cfg.SizeCap != 1024 || cfg.IdleTimeout != 5*time.Second ||
		cfg.Metadata.DSN != "postgres://u:p@db/glint" || len(cfg.Stores) != 2 || cfg.Stores[1].S3.SecretKey != "s3cret" ||
		!cfg.Stores[1].S3.PathStyle || cfg.Stores[1].S3.PartSize != 8<<20 || cfg.Stores[1].S3.Concurrency != 4 ||
		cfg.ShutdownTimeout != 30*time.Second || cfg.Metadata.RecordCache != 500 {
		t.Fatalf("loaded: %+v", cfg)
	}
}

func TestLoadFileErrors(t *testing.T) {
	cases := map[string]string{
		"unknown key":    "listn: 127.0.0.1:1\n",
		"bad duration":   "limits: {idle_timeout: soon}\n",
		"both secrets":   "metadata: {driver: postgres, dsn: x, dsn_file: /y}\n",
		"missing secret": "metadata: {driver: postgres, dsn_file: /nonexistent/dsn}\n",
		"bad yaml":       "stores: [\n",
	}
	for name, content := range cases {
		cfg := Default()
		if err := cfg.LoadFile(writeFile(t, "c.yaml", content)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	empty := Default()
	if err := empty.LoadFile(writeFile(t, "empty.yaml", "")); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestValidateStores(t *testing.T) {
	cases := []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"default missing", func(c *Config) { c.Stores = []Store{{ID: "a", Type: "file", Path: "/a"}} }, "default_store"},
		{"default without stores", func(c *Config) { c.DefaultStore = "a" }, "no stores are configured"},
		{"duplicate id", func(c *Config) {
			c.Stores = []Store{{ID: "a", Type: "file", Path: "/a"}, {ID: "a", Type: "file", Path: "/b"}}
			c.DefaultStore = "a"
		}, "used twice"},
		{"reserved id", func(c *Config) {
			c.Stores = []Store{{ID: "os_glance_x", Type: "file", Path: "/a"}}
			c.DefaultStore = "os_glance_x"
		}, "stores[0].id"},
		{"bad type", func(c *Config) { c.Stores = []Store{{ID: "a", Type: "tape"}}; c.DefaultStore = "a" }, "stores[0].type"},
		{"unknown file layout", func(c *Config) {
			c.Stores = []Store{{ID: "a", Type: "file", Path: "/x", Layout: "flat"}}
			c.DefaultStore = "a"
		}, "stores[0].layout"},
		{"http default", func(c *Config) {
			c.Stores = []Store{{ID: "f", Type: "file", Path: "/f"}, {ID: "web", Type: "http"}}
			c.DefaultStore = "web"
		}, "read-only"},
		{"http bad network", func(c *Config) {
			c.Stores = []Store{{ID: "f", Type: "file", Path: "/f"}, {ID: "web", Type: "http", HTTP: HTTPStore{AllowedNetworks: []string{"loopback"}}}}
			c.DefaultStore = "f"
		}, "stores[1].http.allowed_networks"},
		{"http single store", func(c *Config) { c.SingleStore = &Store{Type: "http"} }, "store.type"},
		{"layout on s3", func(c *Config) { c.Stores = []Store{{ID: "a", Type: "s3", Layout: "glance"}}; c.DefaultStore = "a" }, "stores[0].layout"},
		{"s3 without bucket", func(c *Config) { c.Stores = []Store{{ID: "a", Type: "s3"}}; c.DefaultStore = "a" }, "stores[0].s3"},
		{"s3 part too small", func(c *Config) {
			c.Stores = []Store{{ID: "a", Type: "s3", S3: S3{Endpoint: "e", Bucket: "b", PartSize: 1 << 20}}}
			c.DefaultStore = "a"
		}, "stores[0].s3.part_size"},
		{"s3 concurrency too high", func(c *Config) {
			c.Stores = []Store{{ID: "a", Type: "s3", S3: S3{Endpoint: "e", Bucket: "b", Concurrency: 65}}}
			c.DefaultStore = "a"
		}, "stores[0].s3.concurrency"},
		{"postgres without dsn", func(c *Config) { c.Metadata.Driver = "postgres" }, "metadata.dsn"},
		{"bad driver", func(c *Config) { c.Metadata.Driver = "mysql" }, "metadata.driver"},
		{"negative record cache", func(c *Config) { c.Metadata.RecordCache = -1 }, "metadata.record_cache"},
		{"huge record cache", func(c *Config) { c.Metadata.RecordCache = 1 << 30 }, "metadata.record_cache"},
	}
	for _, c := range cases {
		cfg := Default()
		c.cfg(&cfg)
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestLoadFileDashboard(t *testing.T) {
	for text, off := range map[string]bool{"dashboard: false\n": true, "dashboard: true\n": false, "listen: 127.0.0.1:1\n": false} {
		cfg := Default()
		if err := cfg.LoadFile(writeFile(t, "glint.yaml", text)); err != nil {
			t.Fatal(err)
		}
		if cfg.NoDashboard != off {
			t.Errorf("%q: NoDashboard %v", text, cfg.NoDashboard)
		}
	}
}

// TestEmbeddedExampleIsDefault: docs/glint-embedded.yaml says it spells
// out the default, so loading it must change nothing (it once set
// trusted-headers auth).
func TestEmbeddedExampleIsDefault(t *testing.T) {
	cfg := Default()
	if err := cfg.LoadFile(filepath.Join("..", "..", "docs", "glint-embedded.yaml")); err != nil {
		t.Fatal(err)
	}
	want := Default()
	// Unset vmdk_allowed_types means the inspector's default, which the
	// file writes out.
	if slices.Equal(cfg.ImageFormat.VMDKAllowedTypes, []string{"streamOptimized", "monolithicSparse"}) {
		cfg.ImageFormat.VMDKAllowedTypes = want.ImageFormat.VMDKAllowedTypes
	}
	// Printed, an empty list and none are the same setting.
	if fmt.Sprintf("%+v", cfg) != fmt.Sprintf("%+v", want) {
		t.Fatalf("docs/glint-embedded.yaml is not the default:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadFileLocations(t *testing.T) {
	cfg := Default()
	if cfg.ShowImageDirectURL || cfg.ShowMultipleLocations {
		t.Fatal("locations are shown by default")
	}
	if err := cfg.LoadFile(writeFile(t, "glint.yaml", "show_image_direct_url: true\nshow_multiple_locations: true\n")); err != nil {
		t.Fatal(err)
	}
	if !cfg.ShowImageDirectURL || !cfg.ShowMultipleLocations {
		t.Errorf("after the file: %v %v", cfg.ShowImageDirectURL, cfg.ShowMultipleLocations)
	}
}

func TestLoadFileRBDStore(t *testing.T) {
	cfg := Default()
	text := "stores:\n- id: ceph\n  type: rbd\n  rbd: {pool: images, user: glance, ceph_conf: /etc/ceph/ceph.conf, keyring: /etc/ceph/k, chunk_size: 16, thin_provisioning: true}\ndefault_store: ceph\n"
	if err := cfg.LoadFile(writeFile(t, "glint.yaml", text)); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := cfg.Stores[0].RBD
	if r.Pool != "images" || r.User != "glance" || r.ChunkSizeMiB != 16 || !r.ThinProvisioning || r.Keyring != "/etc/ceph/k" {
		t.Errorf("rbd store: %+v", r)
	}
	cfg.Stores[0].RBD.ChunkSizeMiB = 3
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "stores[0].rbd.chunk_size") {
		t.Errorf("bad chunk size: %v", err)
	}
}

// TestLoadFileHTTPStore: an http store's section is read.
func TestLoadFileHTTPStore(t *testing.T) {
	cfg := Default()
	err := cfg.LoadFile(writeFile(t, "c.yaml", "default_store: f\nstores:\n- {id: f, type: file, path: /f}\n"+
		"- id: web\n  type: http\n  http: {allowed_networks: [10.0.0.0/8], allowed_ports: [8080]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if h := cfg.Stores[1].HTTP; len(h.AllowedNetworks) != 1 || h.AllowedNetworks[0] != "10.0.0.0/8" || len(h.AllowedPorts) != 1 || h.AllowedPorts[0] != 8080 {
		t.Errorf("http store: %+v", cfg.Stores[1])
	}
}
