// Package s3config is the S3 store's configuration: its settings, their
// defaults and bounds, and the checks the store makes of them. It is apart
// from the driver (internal/blob/s3) so that the configuration can hold
// and check an S3 section without linking the S3 client.
package s3config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7/pkg/s3utils"

	"github.com/glint-image/glint/internal/blob"
)

// Part size limits. S3 requires every part but the last to be at least
// 5 MiB and none to exceed 5 GiB; the driver grows parts as a blob does,
// so 16 MiB parts reach 1.03 TiB within S3's 10 000 parts.
const (
	DefaultPartSize = 16 << 20
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
)

// Concurrency limits: parts of one blob uploaded at the same time.
const (
	DefaultConcurrency = 2
	MaxConcurrency     = 64
)

// Config says where and how the driver stores blobs.
type Config struct {
	// Endpoint is the server's host or host:port, without a scheme:
	// "s3.eu-west-1.amazonaws.com", "127.0.0.1:7070".
	Endpoint string
	// Region is sent with requests and used to create the bucket; empty
	// lets the client ask the server for the bucket's region.
	Region string
	// Bucket holds the blobs.
	Bucket string
	// Prefix is put before every key, so one bucket can hold several
	// stores. Empty, or ending in "/" ("github.com/glint-image/glint/images/").
	Prefix string
	// AccessKey and SecretKey sign requests (AWS signature v4); both
	// empty means anonymous access. SessionToken is for temporary
	// credentials.
	AccessKey, SecretKey, SessionToken string
	// UseTLS selects https. InsecureSkipVerify turns off certificate
	// checks, for test servers with self-signed certificates only.
	UseTLS, InsecureSkipVerify bool
	// PathStyle addresses the bucket in the path (host/bucket/key) rather
	// than the host name (bucket.host/key). Self-hosted servers such as
	// Ceph RGW, MinIO or versitygw usually need it.
	PathStyle bool
	// CreateBucket lets New create Bucket when it does not exist;
	// otherwise a missing bucket is an error.
	CreateBucket bool
	// PartSize is the multipart upload part size in bytes; 0 means
	// DefaultPartSize. Each open Writer buffers up to
	// (Concurrency + 1) × PartSize bytes while its blob is under
	// 800 × PartSize (12.5 GiB at the default); beyond that parts grow by
	// PartSize every 800 parts.
	PartSize int64
	// Concurrency is how many parts of one blob upload at the same time;
	// 0 means DefaultConcurrency.
	Concurrency int
}

// FieldError is one problem Validate found: the field (Go name), its
// key in the configuration file, and what is wrong.
type FieldError struct {
	Field, Key, Msg string
}

func (e *FieldError) Error() string { return "s3: " + e.Field + ": " + e.Msg }

// Validate checks every field and reports all problems, each a
// *FieldError, joined.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, key, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if msg := checkEndpoint(c.Endpoint); msg != "" {
		bad("Endpoint", "endpoint", "%s", msg)
	}
	if err := s3utils.CheckValidBucketNameStrict(c.Bucket); err != nil {
		bad("Bucket", "bucket", "%q: %v", c.Bucket, err)
	}
	if !validPrefix(c.Prefix) {
		bad("Prefix", "prefix", "%q must be empty or key segments ending in \"/\" (letters, digits, '.', '_', '-'), at most 512 bytes", c.Prefix)
	}
	if (c.AccessKey == "") != (c.SecretKey == "") {
		bad("SecretKey", "secret_key", "AccessKey and SecretKey must both be set, or both be empty for anonymous access")
	}
	if c.SessionToken != "" && c.AccessKey == "" {
		bad("SessionToken", "session_token", "needs AccessKey and SecretKey")
	}
	if c.InsecureSkipVerify && !c.UseTLS {
		bad("InsecureSkipVerify", "insecure_skip_verify", "only applies with UseTLS")
	}
	if c.PartSize != 0 && (c.PartSize < MinPartSize || c.PartSize > MaxPartSize) {
		bad("PartSize", "part_size", "%d must be 0 (default %d) or between %d (5 MiB) and %d (5 GiB)", c.PartSize, DefaultPartSize, MinPartSize, MaxPartSize)
	}
	if c.Concurrency < 0 || c.Concurrency > MaxConcurrency {
		bad("Concurrency", "concurrency", "%d must be 0 (default %d) or between 1 and %d", c.Concurrency, DefaultConcurrency, MaxConcurrency)
	}
	return errors.Join(errs...)
}

// WithDefaults fills in the zero values Validate allows.
func (c Config) WithDefaults() Config {
	if c.PartSize == 0 {
		c.PartSize = DefaultPartSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	return c
}

// checkEndpoint returns why e is not a bare host[:port], or "".
func checkEndpoint(e string) string {
	switch {
	case e == "":
		return "required"
	case strings.Contains(e, "://"):
		return fmt.Sprintf("%q must be host[:port] without a scheme (use UseTLS for https)", e)
	}
	u, err := url.Parse("http://" + e)
	if err != nil || u.Host != e || u.Hostname() == "" {
		return fmt.Sprintf("%q is not host[:port]", e)
	}
	return ""
}

// validPrefix: empty, or valid key segments followed by "/", short enough
// that prefix plus the longest key (512) stays within S3's 1024-byte
// object name limit.
func validPrefix(p string) bool {
	if p == "" {
		return true
	}
	return len(p) <= 512 && strings.HasSuffix(p, "/") && blob.ValidKey(strings.TrimSuffix(p, "/"))
}
