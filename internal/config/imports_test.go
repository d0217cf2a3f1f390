package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadImport(t *testing.T) {
	path := writeFile(t, "glint.yaml", `
stores: [{id: a, type: file, path: /srv/a}, {id: b, type: file, path: /srv/b}]
default_store: a
image_format: {vmdk_allowed_types: [streamOptimized], require_format_match: false}
import:
  methods: [glance-direct, glance-download]
  workers: 8
  task_lease: 30s
  staging_store: b
  plugins: [image_decompression, image_conversion]
  conversion: {output_format: qcow2, timeout: 10m, memory_limit: 536870912}
  inject: {properties: {k: v}, ignore_user_roles: []}
  web_download:
    allowed_hosts: [mirror.example.com]
    allowed_networks: [10.0.0.0/8, "fd00::/8"]
    idle_timeout: 5s
  glance_download:
    regions: {Two: {public: "https://two.example/"}}
`)
	cfg := Default()
	if err := cfg.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	im := cfg.Import
	if len(im.Methods) != 2 || im.Workers != 8 || im.TaskLease != 30*time.Second || im.StagingStore != "b" ||
		im.Conversion.OutputFormat != "qcow2" || im.Conversion.Timeout != 10*time.Minute || im.Conversion.MemoryLimit != 512<<20 ||
		im.Inject.Properties["k"] != "v" || len(im.Inject.IgnoreUserRoles) != 0 || im.WebDownload.IdleTimeout != 5*time.Second ||
		im.WebDownload.ConnectTimeout != 10*time.Second || len(im.WebDownload.AllowedPorts) != 2 || len(im.WebDownload.AllowedNetworks) != 2 ||
		im.GlanceDownload.Regions["Two"]["public"] != "https://two.example/" || len(im.GlanceDownload.ExtraProperties) != 5 ||
		!cfg.ImageFormat.AllowMismatch || len(cfg.ImageFormat.VMDKAllowedTypes) != 1 {
		t.Fatalf("loaded: %+v %+v", im, cfg.ImageFormat)
	}
}

func TestImportValidation(t *testing.T) {
	for change, want := range map[string]string{
		"methods: [glance-upload]":                           "import.methods",
		"workers: 0":                                         "import.workers",
		"task_lease: 2h":                                     "import.task_lease",
		"staging_store: nope":                                "import.staging_store",
		"plugins: [image_encryption]":                        "import.plugins",
		"conversion: {output_format: vhd}":                   "import.conversion.output_format",
		"conversion: {memory_limit: 1024}":                   "memory_limit",
		"web_download: {allowed_schemes: [ftp]}":             "scheme \"ftp\"",
		"web_download: {allowed_ports: [0]}":                 "port 0",
		"web_download: {allowed_networks: [10.0.0.0/99]}":    "allowed_networks",
		"web_download: {max_redirects: 99}":                  "max_redirects",
		"glance_download: {regions: {r: {public: ftp://x}}}": "import.glance_download.regions.r.public",
	} {
		cfg := Default()
		if err := cfg.LoadFile(writeFile(t, "glint.yaml", "import:\n  "+change+"\n")); err != nil {
			t.Fatalf("%s: %v", change, err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", change, err, want)
		}
	}
	cfg := Default()
	if err := cfg.LoadFile(writeFile(t, "glint.yaml", "import:\n  web_download: {idle_timeout: soon}\n")); err == nil ||
		!strings.Contains(err.Error(), "import.web_download.idle_timeout") {
		t.Errorf("bad duration: %v", err)
	}
}
