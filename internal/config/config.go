// Package config holds glint's one typed configuration: defaults, GLINT_*
// environment overrides, and validation at start with messages that name
// the bad setting.
package config

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glint-image/glint/internal/blob/rbd/rbdconfig"
	"github.com/glint-image/glint/internal/blob/s3/s3config"
)

// Auth modes.
const (
	// AuthBuiltin serves a Keystone v3 subset under /identity and accepts
	// its tokens: the default, needing nothing else.
	AuthBuiltin = "builtin"
	// AuthKeystone validates tokens with an external Keystone.
	AuthKeystone = "keystone"
	// AuthTrustedHeaders believes X-Project-Id, X-User-Id and X-Roles, for
	// tests and for running behind an authenticating proxy.
	AuthTrustedHeaders = "trusted-headers"
)

// Config is everything `glint serve` needs.
type Config struct {
	// DataDir holds the SQLite database and the image data.
	DataDir string
	// Listen is the HTTP address, host:port.
	Listen string
	// Auth names how callers are identified.
	Auth string
	// AllowRemoteTrustedHeaders lets trusted-headers auth listen beyond
	// loopback, for deployments behind an authenticating proxy.
	AllowRemoteTrustedHeaders bool
	// SizeCap is the largest image accepted, in bytes.
	SizeCap int64
	// MaxTransfers bounds concurrent uploads and downloads.
	MaxTransfers int
	// IdleTimeout cuts off a transfer whose peer stalls this long.
	IdleTimeout time.Duration
	// ResumeTTL is how long the bytes of an interrupted upload are kept
	// for a resume after the last of them arrived (limits.resume_ttl).
	ResumeTTL time.Duration
	// ShutdownTimeout is how long in-flight requests may finish after
	// SIGTERM before they are cut off.
	ShutdownTimeout time.Duration
	// BodyTimeout is how long a request body other than image data may
	// take to arrive (JSON, logins, forms).
	BodyTimeout time.Duration
	// MaxPending bounds the connections and requests glint waits on
	// before it knows who is calling: new connections until their first
	// request's headers are in, and requests sending a body that is not
	// image data.
	MaxPending int
	// LogLevel is debug, info, warn or error.
	LogLevel string

	// PolicyFile overrides policy rules (oslo.policy YAML or JSON).
	PolicyFile string
	// PolicyNewDefaults selects the project-scoped reader/member/admin
	// defaults instead of the Zed legacy ones.
	PolicyNewDefaults bool

	// Metadata chooses where image records live.
	Metadata Metadata
	// Stores are the named image data stores (Glance's multi-store). With
	// none configured, one filesystem store under DataDir is used and the
	// store API (/v2/info/stores) is off, as in a single-store Glance.
	Stores []Store
	// DefaultStore names the store uploads go to when they name none.
	DefaultStore string
	// SingleStore, when set, is the one image store of a deployment that
	// does not use Glance's multi-store (an S3 bucket instead of files
	// under DataDir, say): no store API, no stores attribute. Exclusive
	// with Stores.
	SingleStore *Store

	// PublicURL is the address clients reach glint at, used in the
	// service catalog and the written clouds.yaml; default http://Listen.
	PublicURL string
	// Region names the catalog's region.
	Region string
	// TokenTTL is the lifetime of built-in identity tokens.
	TokenTTL time.Duration
	// PasswordCost is the bcrypt cost of built-in identity's password
	// hashes; 0 for the default (10, the least the file accepts: a lower
	// one, for tests, must be set in code).
	PasswordCost int
	// TokenKeyFile holds the key that signs built-in tokens; nodes that
	// share it accept each other's tokens. Default DataDir/token.key,
	// created on first start.
	TokenKeyFile string
	// Keystone configures --auth keystone.
	Keystone Keystone

	// ImageFormat tunes the format inspector that checks every upload and
	// import.
	ImageFormat ImageFormat
	// Import configures the image import API.
	Import Import
	// Cache is the node-local image cache for remote stores.
	Cache Cache
	// NoDashboard turns off the web dashboard under /dashboard/ (on by
	// default with built-in identity or Keystone; trusted-headers mode has
	// no sign-in, so no dashboard).
	NoDashboard bool
	// ShowImageDirectURL and ShowMultipleLocations put direct_url and
	// locations into image records, as Glance's options of these names
	// (off by default: they tell clients where the data is).
	ShowImageDirectURL, ShowMultipleLocations bool

	// Quotas are every project's default limits by Glance's unified-limit
	// name (image_count_total, image_count_uploading, image_size_total in
	// MiB, image_stage_total in MiB); -1 or absent means unlimited. Admins
	// override them per project.
	Quotas map[string]int64

	// KeyManager serves and fetches the certificates of signed images
	// (keymanager.go).
	KeyManager KeyManager

	// Operations: metrics, health check, notifications, logs
	// (operations.go).
	Operations
}

// ImageFormat is Glance's [image_format] inspection settings.
type ImageFormat struct {
	// VMDKAllowedTypes are the accepted VMDK createType values; nil means
	// streamOptimized and monolithicSparse (Glance's default), empty
	// refuses every VMDK.
	VMDKAllowedTypes []string
	// AllowMismatch accepts data whose format differs from the declared
	// disk_format (Glance's require_image_format_match = false); unsafe
	// images are refused regardless.
	AllowMismatch bool
}

// Keystone is an external Keystone and glint's service user in it.
type Keystone struct {
	URL               string
	Username          string
	Password          string
	UserDomainName    string
	ProjectName       string
	ProjectDomainName string
	CacheTTL          time.Duration
}

// Metadata selects the record store.
type Metadata struct {
	// Driver is "sqlite" (the embedded default, DataDir/glint.db) or
	// "postgres".
	Driver string
	// DSN is the PostgreSQL connection string.
	DSN string
	// RecordCache is how many decoded image records each node keeps for
	// listings, checked on every use against the revision the listing's
	// query reads (internal/sqlstore/records.go); 0 turns it off.
	RecordCache int
}

// DefaultRecordCache is Metadata.RecordCache's default: some 10-20 MiB.
const DefaultRecordCache = 10000

// maxRecordCache bounds Metadata.RecordCache (some 2 GiB of records).
const maxRecordCache = 1000000

// Store is one named image data store.
type Store struct {
	ID          string
	Description string
	// Type is "file", "s3", "rbd" or "http" (read-only: images whose
	// location is a web URL, Glance's http store).
	Type string
	// Path is the directory of a file store.
	Path string
	// Layout of a file store: "" keeps glint's (blobs/ and tmp/ under
	// Path); "glance" reads and writes image files directly in Path, as
	// Glance's file store does, so glint serves a Glance store's files in
	// place after `glint admin migrate-glance`.
	Layout string
	// ShareData makes uploads of data already in the store (same size
	// and sha512) refer to it instead of keeping another copy; nil takes
	// the type's default (SharesData).
	ShareData *bool
	// S3 configures an s3 store.
	S3 S3
	// RBD configures an rbd store; the driver owns and checks it.
	RBD rbdconfig.Config
	// HTTP configures an http store.
	HTTP HTTPStore
}

// HTTPStore is a read-only store of web URLs. Its requests follow
// import.web_download's rules (schemes, hosts, ports, timeouts,
// redirects); AllowedNetworks are the internal networks it may reach
// (none by default: no loopback, private or link-local address), and
// AllowedPorts, when set, replace web_download's ports.
type HTTPStore struct {
	AllowedNetworks []string
	AllowedPorts    []int
}

// SharesData tells whether uploads to the store share identical data:
// as configured, else on for file and s3 stores and off for rbd, where
// an image's data is the snapshot Nova and Cinder clone, so sharing it
// would make deleting one image wait for the clones of another's users
// (and its direct_url name another image's snapshot).
func (st Store) SharesData() bool {
	if st.ShareData != nil {
		return *st.ShareData
	}
	return st.Type != "rbd"
}

// S3 is an S3-compatible store's settings (Ceph RGW, MinIO, AWS, ...),
// as the S3 store defines and checks them.
type S3 = s3config.Config

// MultiStore reports whether stores were configured explicitly.
func (c Config) MultiStore() bool { return len(c.Stores) > 0 }

// Default returns the embedded default: everything under ./glint-data,
// listening on loopback only.
func Default() Config {
	return Config{
		DataDir:         "./glint-data",
		Listen:          "127.0.0.1:9292",
		Auth:            AuthBuiltin,
		Region:          "RegionOne",
		TokenTTL:        time.Hour,
		SizeCap:         1 << 40,
		MaxTransfers:    64,
		IdleTimeout:     2 * time.Minute,
		ResumeTTL:       24 * time.Hour,
		ShutdownTimeout: 30 * time.Second,
		BodyTimeout:     30 * time.Second,
		MaxPending:      256,
		LogLevel:        "info",
		Metadata:        Metadata{Driver: "sqlite", RecordCache: DefaultRecordCache},
		Import:          defaultImport(),
		KeyManager:      KeyManager{Driver: KeyManagerBuiltin},
		Operations:      defaultOperations(),
	}
}

// ApplyEnv overrides settings from GLINT_* variables read through getenv.
func (c *Config) ApplyEnv(getenv func(string) string) error {
	strs := map[string]*string{
		"GLINT_DATA_DIR":        &c.DataDir,
		"GLINT_LISTEN":          &c.Listen,
		"GLINT_AUTH":            &c.Auth,
		"GLINT_LOG_LEVEL":       &c.LogLevel,
		"GLINT_POLICY_FILE":     &c.PolicyFile,
		"GLINT_METADATA_DRIVER": &c.Metadata.Driver,
		"GLINT_METADATA_DSN":    &c.Metadata.DSN,
		"GLINT_DEFAULT_STORE":   &c.DefaultStore,
		"GLINT_KEY_MANAGER":     &c.KeyManager.Driver,
		"GLINT_BARBICAN_URL":    &c.KeyManager.BarbicanURL,
	}
	for name, dst := range strs {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if err := c.applyOperationsEnv(getenv); err != nil {
		return err
	}
	if v := getenv("GLINT_SIZE_CAP"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("GLINT_SIZE_CAP: %q is not a number of bytes", v)
		}
		c.SizeCap = n
	}
	if v := getenv("GLINT_ALLOW_REMOTE_TRUSTED_HEADERS"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("GLINT_ALLOW_REMOTE_TRUSTED_HEADERS: %q is not true or false", v)
		}
		c.AllowRemoteTrustedHeaders = b
	}
	return nil
}

// Validate checks every setting and names the first bad one.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.DataDir) == "" {
		errs = append(errs, errors.New("data-dir: must not be empty"))
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port: %v", c.Listen, err))
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		errs = append(errs, fmt.Errorf("listen: %q has no valid port", c.Listen))
	}
	switch c.Auth {
	case AuthBuiltin:
		if c.TokenTTL < time.Minute || c.TokenTTL > 7*24*time.Hour {
			errs = append(errs, fmt.Errorf("token_ttl: %s is outside 1m..168h", c.TokenTTL))
		}
		if c.PasswordCost != 0 && (c.PasswordCost < 4 || c.PasswordCost > 31) {
			errs = append(errs, fmt.Errorf("password_cost: %d is outside 4..31", c.PasswordCost))
		}
	case AuthKeystone:
		k := c.Keystone
		if !strings.HasPrefix(k.URL, "http://") && !strings.HasPrefix(k.URL, "https://") {
			errs = append(errs, fmt.Errorf("keystone.url: %q is not an http(s) URL of Keystone's v3 API", k.URL))
		}
		if k.Username == "" || k.Password == "" || k.ProjectName == "" {
			errs = append(errs, errors.New("keystone: username, password (or password_file) and project_name of glint's service user are required"))
		}
	case AuthTrustedHeaders:
		if err == nil && !isLoopback(host) && !c.AllowRemoteTrustedHeaders {
			errs = append(errs, fmt.Errorf("listen: %q is not a loopback address; with --auth trusted-headers any client could claim any identity, "+
				"so glint only listens on loopback unless --allow-remote-trusted-headers is given (use it only behind a proxy that sets X-Project-Id, X-User-Id and X-Roles itself)", c.Listen))
		}
	default:
		errs = append(errs, fmt.Errorf("auth: %q is not a known mode (known: %s, %s, %s)", c.Auth, AuthBuiltin, AuthKeystone, AuthTrustedHeaders))
	}
	if c.SizeCap <= 0 {
		errs = append(errs, fmt.Errorf("size-cap: must be a positive number of bytes, not %d", c.SizeCap))
	}
	if c.MaxTransfers <= 0 || c.MaxTransfers > 100000 {
		errs = append(errs, fmt.Errorf("max-transfers: must be between 1 and 100000, not %d", c.MaxTransfers))
	}
	if c.IdleTimeout <= 0 {
		errs = append(errs, errors.New("idle-timeout: must be positive"))
	}
	if c.ResumeTTL < time.Minute || c.ResumeTTL > 30*24*time.Hour {
		errs = append(errs, fmt.Errorf("limits.resume_ttl: must be between 1m and 720h (30 days), not %s", c.ResumeTTL))
	}
	if c.ShutdownTimeout < 0 {
		errs = append(errs, errors.New("shutdown-timeout: must not be negative"))
	}
	if c.BodyTimeout <= 0 {
		errs = append(errs, errors.New("limits.body_timeout: must be positive"))
	}
	if c.MaxPending <= 0 || c.MaxPending > 100000 {
		errs = append(errs, fmt.Errorf("limits.max_pending: must be between 1 and 100000, not %d", c.MaxPending))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	errs = append(errs, c.validateMetadata()...)
	errs = append(errs, c.validateStores()...)
	errs = append(errs, c.validateImport()...)
	errs = append(errs, c.validateOperations()...)
	errs = append(errs, c.validateCache()...)
	errs = append(errs, c.validateKeyManager()...)
	if c.PolicyFile != "" {
		// The rules themselves are checked when the policy engine loads
		// them; this catches a wrong path with the other settings.
		if _, err := os.Stat(c.PolicyFile); err != nil {
			errs = append(errs, fmt.Errorf("policy-file: %v", err))
		}
	}
	return errors.Join(errs...)
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
