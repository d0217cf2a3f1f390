package config

import (
	"fmt"
	"time"
)

// fileImport is the YAML shape of import:. Lists and maps given replace
// the defaults; absent keys keep them.
type fileImport struct {
	Methods        []string            `yaml:"methods"`
	Workers        *int                `yaml:"workers"`
	TaskLease      *string             `yaml:"task_lease"`
	StagingStore   *string             `yaml:"staging_store"`
	WorkDir        *string             `yaml:"work_dir"`
	Plugins        []string            `yaml:"plugins"`
	Conversion     *fileConversion     `yaml:"conversion"`
	Inject         *fileInject         `yaml:"inject"`
	WebDownload    *fileWebDownload    `yaml:"web_download"`
	GlanceDownload *fileGlanceDownload `yaml:"glance_download"`
}

type fileConversion struct {
	OutputFormat *string `yaml:"output_format"`
	Timeout      *string `yaml:"timeout"`
	MemoryLimit  *int64  `yaml:"memory_limit"`
}

type fileInject struct {
	Properties      map[string]string `yaml:"properties"`
	IgnoreUserRoles []string          `yaml:"ignore_user_roles"`
}

type fileWebDownload struct {
	AllowedSchemes    []string `yaml:"allowed_schemes"`
	DisallowedSchemes []string `yaml:"disallowed_schemes"`
	AllowedHosts      []string `yaml:"allowed_hosts"`
	DisallowedHosts   []string `yaml:"disallowed_hosts"`
	AllowedPorts      []int    `yaml:"allowed_ports"`
	DisallowedPorts   []int    `yaml:"disallowed_ports"`
	AllowedNetworks   []string `yaml:"allowed_networks"`
	MaxRedirects      *int     `yaml:"max_redirects"`
	ConnectTimeout    *string  `yaml:"connect_timeout"`
	HeaderTimeout     *string  `yaml:"header_timeout"`
	IdleTimeout       *string  `yaml:"idle_timeout"`
	TotalTimeout      *string  `yaml:"total_timeout"`
}

type fileGlanceDownload struct {
	Regions         map[string]map[string]string `yaml:"regions"`
	ExtraProperties []string                     `yaml:"extra_properties"`
}

func (c *Config) applyImport(f *fileImport) error {
	if f == nil {
		return nil
	}
	im := &c.Import
	setList(&im.Methods, f.Methods)
	setList(&im.Plugins, f.Plugins)
	if f.Workers != nil {
		im.Workers = *f.Workers
	}
	setString(&im.StagingStore, f.StagingStore)
	setString(&im.WorkDir, f.WorkDir)
	durations := map[string]struct {
		src *string
		dst *time.Duration
	}{"import.task_lease": {f.TaskLease, &im.TaskLease}}
	if cv := f.Conversion; cv != nil {
		setString(&im.Conversion.OutputFormat, cv.OutputFormat)
		if cv.MemoryLimit != nil {
			im.Conversion.MemoryLimit = *cv.MemoryLimit
		}
		durations["import.conversion.timeout"] = struct {
			src *string
			dst *time.Duration
		}{cv.Timeout, &im.Conversion.Timeout}
	}
	if in := f.Inject; in != nil {
		if in.Properties != nil {
			im.Inject.Properties = in.Properties
		}
		setList(&im.Inject.IgnoreUserRoles, in.IgnoreUserRoles)
	}
	if wd := f.WebDownload; wd != nil {
		w := &im.WebDownload
		for _, l := range []struct {
			dst *[]string
			src []string
		}{
			{&w.AllowedSchemes, wd.AllowedSchemes}, {&w.DisallowedSchemes, wd.DisallowedSchemes},
			{&w.AllowedHosts, wd.AllowedHosts}, {&w.DisallowedHosts, wd.DisallowedHosts}, {&w.AllowedNetworks, wd.AllowedNetworks}} {
			setList(l.dst, l.src)
		}
		if wd.AllowedPorts != nil {
			w.AllowedPorts = wd.AllowedPorts
		}
		if wd.DisallowedPorts != nil {
			w.DisallowedPorts = wd.DisallowedPorts
		}
		if wd.MaxRedirects != nil {
			w.MaxRedirects = *wd.MaxRedirects
		}
		for key, d := range map[string]struct {
			src *string
			dst *time.Duration
		}{"connect_timeout": {wd.ConnectTimeout, &w.ConnectTimeout}, "header_timeout": {wd.HeaderTimeout, &w.HeaderTimeout},
			"idle_timeout": {wd.IdleTimeout, &w.IdleTimeout}, "total_timeout": {wd.TotalTimeout, &w.TotalTimeout}} {
			durations["import.web_download."+key] = d
		}
	}
	if gd := f.GlanceDownload; gd != nil {
		if gd.Regions != nil {
			im.GlanceDownload.Regions = gd.Regions
		}
		setList(&im.GlanceDownload.ExtraProperties, gd.ExtraProperties)
	}
	for key, d := range durations {
		if d.src == nil {
			continue
		}
		v, err := time.ParseDuration(*d.src)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration such as 30s or 2m", key, *d.src)
		}
		*d.dst = v
	}
	return nil
}

// setList replaces dst when the file gave a list (even an empty one).
func setList(dst *[]string, src []string) {
	if src != nil {
		*dst = src
	}
}
