package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/glint-image/glint/internal/blob/rbd/rbdconfig"
)

// fileConfig is the YAML shape of a configuration file. Keys are snake_case;
// unknown keys are errors, so a typo never silently falls back to a default.
// Every secret can instead be read from a file (the *_file keys), which is
// how container secrets are mounted.
type fileConfig struct {
	DataDir                   *string          `yaml:"data_dir"`
	Listen                    *string          `yaml:"listen"`
	Auth                      *string          `yaml:"auth"`
	AllowRemoteTrustedHeaders *bool            `yaml:"allow_remote_trusted_headers"`
	LogLevel                  *string          `yaml:"log_level"`
	Policy                    *filePolicy      `yaml:"policy"`
	Limits                    *fileLimits      `yaml:"limits"`
	Metadata                  *fileMetadata    `yaml:"metadata"`
	DefaultStore              *string          `yaml:"default_store"`
	Stores                    []fileStore      `yaml:"stores"`
	Store                     *fileStore       `yaml:"store"`
	Quotas                    map[string]int64 `yaml:"quotas"`
	ImageFormat               *fileImageFormat `yaml:"image_format"`
	Import                    *fileImport      `yaml:"import"`
	Cache                     *fileCache       `yaml:"cache"`
	PublicURL                 *string          `yaml:"public_url"`
	Region                    *string          `yaml:"region"`
	TokenTTL                  *string          `yaml:"token_ttl"`
	PasswordCost              *int             `yaml:"password_cost"`
	TokenKeyFile              *string          `yaml:"token_key_file"`
	Keystone                  *fileKeystone    `yaml:"keystone"`
	Dashboard                 *bool            `yaml:"dashboard"`
	ShowImageDirectURL        *bool            `yaml:"show_image_direct_url"`
	ShowMultipleLocations     *bool            `yaml:"show_multiple_locations"`
	fileOperations            `yaml:",inline"`
	fileKeyManager            `yaml:",inline"`
}

type fileKeystone struct {
	URL               string `yaml:"url"`
	Username          string `yaml:"username"`
	Password          string `yaml:"password"`
	PasswordFile      string `yaml:"password_file"`
	UserDomainName    string `yaml:"user_domain_name"`
	ProjectName       string `yaml:"project_name"`
	ProjectDomainName string `yaml:"project_domain_name"`
	CacheTTL          string `yaml:"cache_ttl"`
}

type fileImageFormat struct {
	VMDKAllowedTypes   []string `yaml:"vmdk_allowed_types"`
	RequireFormatMatch *bool    `yaml:"require_format_match"`
}

type filePolicy struct {
	File        string `yaml:"file"`
	NewDefaults bool   `yaml:"new_defaults"`
}

type fileLimits struct {
	SizeCap         *int64  `yaml:"size_cap"`
	MaxTransfers    *int    `yaml:"max_transfers"`
	IdleTimeout     *string `yaml:"idle_timeout"`
	ShutdownTimeout *string `yaml:"shutdown_timeout"`
	BodyTimeout     *string `yaml:"body_timeout"`
	MaxPending      *int    `yaml:"max_pending"`
	ResumeTTL       *string `yaml:"resume_ttl"`
}

type fileMetadata struct {
	Driver      string `yaml:"driver"`
	DSN         string `yaml:"dsn"`
	DSNFile     string `yaml:"dsn_file"`
	RecordCache *int   `yaml:"record_cache"`
}

type fileStore struct {
	ID          string            `yaml:"id"`
	Description string            `yaml:"description"`
	Type        string            `yaml:"type"`
	Path        string            `yaml:"path"`
	Layout      string            `yaml:"layout"`
	ShareData   *bool             `yaml:"share_data"`
	S3          *fileS3           `yaml:"s3"`
	RBD         *rbdconfig.Config `yaml:"rbd"`
	HTTP        *fileHTTP         `yaml:"http"`
}

type fileHTTP struct {
	AllowedNetworks []string `yaml:"allowed_networks"`
	AllowedPorts    []int    `yaml:"allowed_ports"`
}

type fileS3 struct {
	Endpoint           string `yaml:"endpoint"`
	Region             string `yaml:"region"`
	Bucket             string `yaml:"bucket"`
	Prefix             string `yaml:"prefix"`
	AccessKey          string `yaml:"access_key"`
	AccessKeyFile      string `yaml:"access_key_file"`
	SecretKey          string `yaml:"secret_key"`
	SecretKeyFile      string `yaml:"secret_key_file"`
	UseTLS             bool   `yaml:"use_tls"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	PathStyle          *bool  `yaml:"path_style"`
	CreateBucket       bool   `yaml:"create_bucket"`
	PartSize           int64  `yaml:"part_size"`
	Concurrency        int    `yaml:"concurrency"`
}

// LoadFile reads a YAML configuration file over c.
func (c *Config) LoadFile(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	var f fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file (io.EOF) means all defaults.
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return c.apply(f)
}

func (c *Config) apply(f fileConfig) error {
	setString(&c.DataDir, f.DataDir)
	setString(&c.Listen, f.Listen)
	setString(&c.Auth, f.Auth)
	setString(&c.LogLevel, f.LogLevel)
	setString(&c.DefaultStore, f.DefaultStore)
	if f.AllowRemoteTrustedHeaders != nil {
		c.AllowRemoteTrustedHeaders = *f.AllowRemoteTrustedHeaders
	}
	if p := f.Policy; p != nil {
		c.PolicyFile, c.PolicyNewDefaults = p.File, p.NewDefaults
	}
	if err := c.applyLimits(f.Limits); err != nil {
		return err
	}
	if m := f.Metadata; m != nil {
		c.Metadata.Driver = m.Driver
		dsn, err := secret("metadata.dsn", m.DSN, m.DSNFile)
		if err != nil {
			return err
		}
		c.Metadata.DSN = dsn
		if m.RecordCache != nil {
			c.Metadata.RecordCache = *m.RecordCache
		}
	}
	if f.Quotas != nil {
		c.Quotas = f.Quotas
	}
	if fi := f.ImageFormat; fi != nil {
		if fi.VMDKAllowedTypes != nil {
			c.ImageFormat.VMDKAllowedTypes = fi.VMDKAllowedTypes
		}
		if fi.RequireFormatMatch != nil {
			c.ImageFormat.AllowMismatch = !*fi.RequireFormatMatch
		}
	}
	setString(&c.PublicURL, f.PublicURL)
	setString(&c.Region, f.Region)
	setString(&c.TokenKeyFile, f.TokenKeyFile)
	if f.ShowImageDirectURL != nil {
		c.ShowImageDirectURL = *f.ShowImageDirectURL
	}
	if f.ShowMultipleLocations != nil {
		c.ShowMultipleLocations = *f.ShowMultipleLocations
	}
	if f.Dashboard != nil {
		c.NoDashboard = !*f.Dashboard
	}
	if f.PasswordCost != nil {
		// Operators get at least bcrypt cost 10; only code (tests) may
		// set a cheaper one, explicitly.
		if n := *f.PasswordCost; n < 10 || n > 31 {
			return fmt.Errorf("password_cost: %d is outside 10..31", n)
		}
		c.PasswordCost = *f.PasswordCost
	}
	if f.TokenTTL != nil {
		d, err := time.ParseDuration(*f.TokenTTL)
		if err != nil {
			return fmt.Errorf("token_ttl: %q is not a duration such as 1h", *f.TokenTTL)
		}
		c.TokenTTL = d
	}
	if err := c.applyKeystone(f.Keystone); err != nil {
		return err
	}
	if err := c.applyImport(f.Import); err != nil {
		return err
	}
	if err := c.applyOperations(f.fileOperations); err != nil {
		return err
	}
	c.applyCache(f.Cache)
	c.applyKeyManager(f.fileKeyManager)
	if f.Store != nil {
		st, err := f.Store.store("store")
		if err != nil {
			return err
		}
		c.SingleStore = &st
	}
	for i, fs := range f.Stores {
		st, err := fs.store(fmt.Sprintf("stores[%d]", i))
		if err != nil {
			return err
		}
		c.Stores = append(c.Stores, st)
	}
	return nil
}

func (c *Config) applyLimits(l *fileLimits) error {
	if l == nil {
		return nil
	}
	if l.SizeCap != nil {
		c.SizeCap = *l.SizeCap
	}
	if l.MaxTransfers != nil {
		c.MaxTransfers = *l.MaxTransfers
	}
	if l.MaxPending != nil {
		c.MaxPending = *l.MaxPending
	}
	for key, pair := range map[string]struct {
		src *string
		dst *time.Duration
	}{"limits.idle_timeout": {l.IdleTimeout, &c.IdleTimeout}, "limits.shutdown_timeout": {l.ShutdownTimeout, &c.ShutdownTimeout},
		"limits.body_timeout": {l.BodyTimeout, &c.BodyTimeout}, "limits.resume_ttl": {l.ResumeTTL, &c.ResumeTTL}} {
		if pair.src == nil {
			continue
		}
		d, err := time.ParseDuration(*pair.src)
		if err != nil {
			return fmt.Errorf("%s: %q is not a duration such as 30s or 2m", key, *pair.src)
		}
		*pair.dst = d
	}
	return nil
}

func (fs fileStore) store(where string) (Store, error) {
	st := Store{ID: fs.ID, Description: fs.Description, Type: fs.Type, Path: fs.Path, Layout: fs.Layout, ShareData: fs.ShareData}
	if fs.RBD != nil {
		st.RBD = *fs.RBD
	}
	if fs.HTTP != nil {
		st.HTTP = HTTPStore{AllowedNetworks: fs.HTTP.AllowedNetworks, AllowedPorts: fs.HTTP.AllowedPorts}
	}
	if fs.S3 == nil {
		return st, nil
	}
	access, err := secret(where+".s3.access_key", fs.S3.AccessKey, fs.S3.AccessKeyFile)
	if err != nil {
		return st, err
	}
	secretKey, err := secret(where+".s3.secret_key", fs.S3.SecretKey, fs.S3.SecretKeyFile)
	if err != nil {
		return st, err
	}
	st.S3 = S3{Endpoint: fs.S3.Endpoint, Region: fs.S3.Region, Bucket: fs.S3.Bucket, Prefix: fs.S3.Prefix,
		AccessKey: access, SecretKey: secretKey, UseTLS: fs.S3.UseTLS, InsecureSkipVerify: fs.S3.InsecureSkipVerify,
		PathStyle: fs.S3.PathStyle == nil || *fs.S3.PathStyle, CreateBucket: fs.S3.CreateBucket, PartSize: fs.S3.PartSize,
		Concurrency: fs.S3.Concurrency}
	return st, nil
}

// secret takes a value given inline or read from a file (trailing newline
// dropped), never both.
func secret(key, inline, file string) (string, error) {
	if inline != "" && file != "" {
		return "", fmt.Errorf("%s: give either %s or %s_file, not both", key, key, key)
	}
	if file == "" {
		return inline, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s_file: %w", key, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}

func setString(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

func (c *Config) applyKeystone(k *fileKeystone) error {
	if k == nil {
		return nil
	}
	password, err := secret("keystone.password", k.Password, k.PasswordFile)
	if err != nil {
		return err
	}
	c.Keystone = Keystone{URL: k.URL, Username: k.Username, Password: password, UserDomainName: k.UserDomainName,
		ProjectName: k.ProjectName, ProjectDomainName: k.ProjectDomainName}
	if k.CacheTTL != "" {
		d, err := time.ParseDuration(k.CacheTTL)
		if err != nil || d < 0 {
			return fmt.Errorf("keystone.cache_ttl: %q is not a duration such as 60s", k.CacheTTL)
		}
		c.Keystone.CacheTTL = d
	}
	return nil
}
