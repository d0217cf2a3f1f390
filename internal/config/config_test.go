package config

import (
	"strings"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*Config)
		want   string // "" = valid
	}{
		{"default", func(*Config) {}, ""},
		{"localhost", func(c *Config) { c.Listen = "localhost:1" }, ""},
		{"ipv6 loopback", func(c *Config) { c.Listen = "[::1]:9292" }, ""},
		{"trusted headers on all interfaces", func(c *Config) { c.Auth = AuthTrustedHeaders; c.Listen = ":9292" }, "not a loopback address"},
		{"trusted headers on a public address", func(c *Config) { c.Auth = AuthTrustedHeaders; c.Listen = "192.0.2.1:9292" }, "not a loopback address"},
		{"trusted headers forced remote", func(c *Config) {
			c.Auth, c.Listen, c.AllowRemoteTrustedHeaders = AuthTrustedHeaders, "0.0.0.0:9292", true
		}, ""},
		{"builtin identity on all interfaces", func(c *Config) { c.Listen = "0.0.0.0:9292" }, ""},
		{"token ttl too short", func(c *Config) { c.TokenTTL = time.Second }, "token_ttl"},
		{"keystone without url", func(c *Config) { c.Auth = AuthKeystone }, "keystone.url"},
		{"keystone without service user", func(c *Config) { c.Auth = AuthKeystone; c.Keystone.URL = "http://ks:5000/v3" }, "service user"},
		{"no port", func(c *Config) { c.Listen = "127.0.0.1" }, "listen:"},
		{"bad port", func(c *Config) { c.Listen = "127.0.0.1:99999" }, "no valid port"},
		{"empty data dir", func(c *Config) { c.DataDir = " " }, "data-dir"},
		{"unknown auth", func(c *Config) { c.Auth = "magic" }, "auth:"},
		{"zero size cap", func(c *Config) { c.SizeCap = 0 }, "size-cap"},
		{"no transfers", func(c *Config) { c.MaxTransfers = 0 }, "max-transfers"},
		{"log level", func(c *Config) { c.LogLevel = "loud" }, "log-level"},
	}
	for _, c := range cases {
		cfg := Default()
		c.change(&cfg)
		err := cfg.Validate()
		if c.want == "" && err != nil {
			t.Errorf("%s: unexpected error %v", c.name, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: error %v, want one naming %q", c.name, err, c.want)
		}
	}
}

func TestApplyEnv(t *testing.T) {
	env := map[string]string{"GLINT_DATA_DIR": "/srv/glint", "GLINT_LISTEN": "127.0.0.1:1234", "GLINT_SIZE_CAP": "42"}
	cfg := Default()
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if cfg.DataDir != "/srv/glint" || cfg.Listen != "127.0.0.1:1234" || cfg.SizeCap != 42 {
		t.Fatalf("env not applied: %+v", cfg)
	}
	env["GLINT_SIZE_CAP"] = "lots"
	if err := cfg.ApplyEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "GLINT_SIZE_CAP") {
		t.Fatalf("bad GLINT_SIZE_CAP: %v", err)
	}
}
