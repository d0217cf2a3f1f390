package config

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"time"
)

// Import configures the interoperable import API: methods, the task
// runner, the plugin chain and the web-download address rules. The
// defaults are Glance's, with its import filter made safe (see
// WebDownload).
type Import struct {
	// Methods are the enabled import methods (Glance's
	// enabled_import_methods); glance-download is opt-in.
	Methods []string
	// Workers bounds the imports one node runs at once.
	Workers int
	// TaskLease is how long a node's claim on an import task lasts
	// unrenewed: after a node dies, another resumes its imports within
	// about this long.
	TaskLease time.Duration
	// StagingStore names the store that holds staged data (default: the
	// default store). With several nodes it must be shared by all.
	StagingStore string
	// WorkDir is a node-local directory for the files the plugins work on
	// (default data_dir/import).
	WorkDir string
	// Plugins is the import plugin chain, in order (Glance's
	// image_import_plugins): image_decompression, image_conversion,
	// inject_image_metadata, no_op.
	Plugins []string
	// Conversion is the image_conversion plugin's setting.
	Conversion Conversion
	// Inject is the inject_image_metadata plugin's setting.
	Inject Inject
	// WebDownload holds web-download's address rules and limits.
	WebDownload WebDownload
	// GlanceDownload names the other regions' Image API endpoints.
	GlanceDownload GlanceDownload
}

// Conversion is [image_conversion] plus the limits qemu-img runs under.
type Conversion struct {
	// OutputFormat is raw, qcow2 or vmdk.
	OutputFormat string
	// Timeout bounds one qemu-img run (wall clock); MemoryLimit its
	// address space in bytes.
	Timeout     time.Duration
	MemoryLimit int64
}

// Inject is [inject_metadata_properties].
type Inject struct {
	Properties      map[string]string
	IgnoreUserRoles []string
}

// WebDownload is Glance's [import_filtering_opts] with glint's address
// rules: whatever the host filters say, a connection to a loopback,
// private, link-local (cloud metadata), multicast or otherwise internal
// address is refused unless that address is in AllowedNetworks.
type WebDownload struct {
	AllowedSchemes, DisallowedSchemes []string
	AllowedHosts, DisallowedHosts     []string
	AllowedPorts, DisallowedPorts     []int
	AllowedNetworks                   []string
	MaxRedirects                      int
	// ConnectTimeout bounds dialling and TLS; HeaderTimeout the wait for
	// the response headers; IdleTimeout a stall while the body streams;
	// TotalTimeout the whole download.
	ConnectTimeout, HeaderTimeout, IdleTimeout, TotalTimeout time.Duration
}

// GlanceDownload is where glance-download may fetch from.
type GlanceDownload struct {
	// Regions: region name → interface (public, internal, admin) → Image
	// API URL.
	Regions map[string]map[string]string
	// ExtraProperties are the property prefixes copied from the source
	// image (Glance's [glance_download_properties]).
	ExtraProperties []string
}

// Import method and plugin names.
var (
	importMethods = []string{"glance-direct", "web-download", "copy-image", "glance-download"}
	importPlugins = []string{"image_decompression", "image_conversion", "inject_image_metadata", "no_op"}
)

func defaultImport() Import {
	return Import{
		Methods:    []string{"glance-direct", "web-download", "copy-image"},
		Workers:    2,
		TaskLease:  time.Minute,
		Conversion: Conversion{OutputFormat: "raw", Timeout: time.Hour, MemoryLimit: 1 << 30},
		Inject:     Inject{IgnoreUserRoles: []string{"admin"}},
		WebDownload: WebDownload{
			AllowedSchemes: []string{"http", "https"}, AllowedPorts: []int{80, 443}, MaxRedirects: 5,
			ConnectTimeout: 10 * time.Second, HeaderTimeout: 30 * time.Second, IdleTimeout: time.Minute,
			TotalTimeout: 12 * time.Hour,
		},
		GlanceDownload: GlanceDownload{ExtraProperties: []string{"hw_", "trait:", "os_distro", "os_secure_boot", "os_type"}},
	}
}

func (c Config) validateImport() []error {
	im := c.Import
	var errs []error
	for _, m := range im.Methods {
		if !slices.Contains(importMethods, m) {
			errs = append(errs, fmt.Errorf("import.methods: %q is not one of %v", m, importMethods))
		}
	}
	if im.Workers < 1 || im.Workers > 64 {
		errs = append(errs, fmt.Errorf("import.workers: must be between 1 and 64, not %d", im.Workers))
	}
	if im.TaskLease < time.Second || im.TaskLease > time.Hour {
		errs = append(errs, fmt.Errorf("import.task_lease: %s is outside 1s..1h", im.TaskLease))
	}
	if im.StagingStore != "" && !slices.ContainsFunc(c.Stores, func(s Store) bool { return s.ID == im.StagingStore }) {
		errs = append(errs, fmt.Errorf("import.staging_store: %q is not one of the configured stores", im.StagingStore))
	}
	for _, p := range im.Plugins {
		if !slices.Contains(importPlugins, p) {
			errs = append(errs, fmt.Errorf("import.plugins: %q is not one of %v", p, importPlugins))
		}
	}
	cv := im.Conversion
	if !slices.Contains([]string{"raw", "qcow2", "vmdk"}, cv.OutputFormat) {
		errs = append(errs, fmt.Errorf("import.conversion.output_format: %q is not one of raw, qcow2, vmdk", cv.OutputFormat))
	}
	if cv.Timeout <= 0 || cv.MemoryLimit < 64<<20 {
		errs = append(errs, errors.New("import.conversion: timeout must be positive and memory_limit at least 64 MiB"))
	}
	return append(errs, im.validateDownloads()...)
}

func (im Import) validateDownloads() []error {
	var errs []error
	wd := im.WebDownload
	for _, s := range append(slices.Clone(wd.AllowedSchemes), wd.DisallowedSchemes...) {
		if s != "http" && s != "https" {
			errs = append(errs, fmt.Errorf("import.web_download: scheme %q is not http or https, the only ones glint downloads", s))
		}
	}
	for _, p := range append(slices.Clone(wd.AllowedPorts), wd.DisallowedPorts...) {
		if p < 1 || p > 65535 {
			errs = append(errs, fmt.Errorf("import.web_download: port %d is not in 1..65535", p))
		}
	}
	for _, n := range wd.AllowedNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			errs = append(errs, fmt.Errorf("import.web_download.allowed_networks: %q is not a network such as 10.1.0.0/16", n))
		}
	}
	if wd.MaxRedirects < 0 || wd.MaxRedirects > 20 {
		errs = append(errs, fmt.Errorf("import.web_download.max_redirects: must be between 0 and 20, not %d", wd.MaxRedirects))
	}
	if wd.ConnectTimeout <= 0 || wd.HeaderTimeout <= 0 || wd.IdleTimeout <= 0 || wd.TotalTimeout <= 0 {
		errs = append(errs, errors.New("import.web_download: every timeout must be positive"))
	}
	for region, eps := range im.GlanceDownload.Regions {
		for iface, u := range eps {
			if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
				errs = append(errs, fmt.Errorf("import.glance_download.regions.%s.%s: %q is not an http(s) URL", region, iface, u))
			}
		}
	}
	return errs
}
