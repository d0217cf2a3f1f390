package s3config

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	good := Config{
		Endpoint:  "127.0.0.1:7070",
		Bucket:    "glint-images",
		AccessKey: "key",
		SecretKey: "secret",
	}
	cases := []struct {
		name   string
		change func(*Config)
		// wantErr lists substrings the error must contain (the field
		// names); empty means valid.
		wantErr []string
	}{
		{"minimal", func(*Config) {}, nil},
		{"everything", func(c *Config) {
			c.Endpoint, c.Region, c.Prefix = "s3.eu-west-1.amazonaws.com", "eu-west-1", "github.com/glint-image/glint/images/"
			c.SessionToken, c.UseTLS, c.InsecureSkipVerify = "token", true, true
			c.PathStyle, c.CreateBucket = true, true
			c.PartSize, c.Concurrency = 64<<20, 8
		}, nil},
		{"host without port", func(c *Config) { c.Endpoint = "minio" }, nil},
		{"IPv6 endpoint", func(c *Config) { c.Endpoint = "[::1]:9000" }, nil},
		{"anonymous", func(c *Config) { c.AccessKey, c.SecretKey = "", "" }, nil},
		{"part size bounds", func(c *Config) { c.PartSize = MinPartSize }, nil},
		{"part size max", func(c *Config) { c.PartSize = MaxPartSize }, nil},
		{"concurrency max", func(c *Config) { c.Concurrency = MaxConcurrency }, nil},

		{"no endpoint", func(c *Config) { c.Endpoint = "" }, []string{"Endpoint: required"}},
		{"endpoint with scheme", func(c *Config) { c.Endpoint = "https://s3.example.com" }, []string{"Endpoint", "UseTLS"}},
		{"endpoint with path", func(c *Config) { c.Endpoint = "s3.example.com/bucket" }, []string{"Endpoint"}},
		{"endpoint with bad port", func(c *Config) { c.Endpoint = "s3.example.com:http" }, []string{"Endpoint"}},
		{"endpoint port only", func(c *Config) { c.Endpoint = ":9000" }, []string{"Endpoint"}},
		{"no bucket", func(c *Config) { c.Bucket = "" }, []string{"Bucket"}},
		{"bucket upper case", func(c *Config) { c.Bucket = "Images" }, []string{"Bucket"}},
		{"bucket too short", func(c *Config) { c.Bucket = "ab" }, []string{"Bucket"}},
		{"bucket underscore", func(c *Config) { c.Bucket = "my_images" }, []string{"Bucket"}},
		{"prefix without slash", func(c *Config) { c.Prefix = "images" }, []string{"Prefix"}},
		{"prefix absolute", func(c *Config) { c.Prefix = "/images/" }, []string{"Prefix"}},
		{"prefix dot-dot", func(c *Config) { c.Prefix = "a/../b/" }, []string{"Prefix"}},
		{"prefix empty segment", func(c *Config) { c.Prefix = "a//" }, []string{"Prefix"}},
		{"prefix just slash", func(c *Config) { c.Prefix = "/" }, []string{"Prefix"}},
		{"prefix too long", func(c *Config) { c.Prefix = strings.Repeat("p", 512) + "/" }, []string{"Prefix"}},
		{"access key without secret", func(c *Config) { c.SecretKey = "" }, []string{"SecretKey"}},
		{"secret without access key", func(c *Config) { c.AccessKey = "" }, []string{"SecretKey"}},
		{"session token alone", func(c *Config) { c.AccessKey, c.SecretKey, c.SessionToken = "", "", "t" }, []string{"SessionToken"}},
		{"insecure without TLS", func(c *Config) { c.InsecureSkipVerify = true }, []string{"InsecureSkipVerify"}},
		{"part size too small", func(c *Config) { c.PartSize = MinPartSize - 1 }, []string{"PartSize"}},
		{"part size negative", func(c *Config) { c.PartSize = -1 }, []string{"PartSize"}},
		{"part size too large", func(c *Config) { c.PartSize = MaxPartSize + 1 }, []string{"PartSize"}},
		{"concurrency negative", func(c *Config) { c.Concurrency = -1 }, []string{"Concurrency"}},
		{"concurrency too high", func(c *Config) { c.Concurrency = MaxConcurrency + 1 }, []string{"Concurrency"}},
		{"several at once", func(c *Config) { c.Endpoint, c.Bucket, c.PartSize = "", "", 1 },
			[]string{"Endpoint", "Bucket", "PartSize"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			c.change(&cfg)
			err := cfg.Validate()
			if len(c.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %v", c.wantErr)
			}
			for _, want := range c.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to mention %q", err, want)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{}.WithDefaults()
	if c.PartSize != DefaultPartSize || c.Concurrency != DefaultConcurrency {
		t.Errorf("WithDefaults() = PartSize %d, Concurrency %d; want %d, %d",
			c.PartSize, c.Concurrency, DefaultPartSize, DefaultConcurrency)
	}
	c = Config{PartSize: 6 << 20, Concurrency: 5}.WithDefaults()
	if c.PartSize != 6<<20 || c.Concurrency != 5 {
		t.Errorf("WithDefaults() changed set values: PartSize %d, Concurrency %d", c.PartSize, c.Concurrency)
	}
}
