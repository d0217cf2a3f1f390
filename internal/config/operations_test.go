package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOperationsFileAndValidation(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "glint.yaml")
	os.WriteFile(filepath.Join(dir, "url"), []byte("rabbit://glint:s3cret@mq:5672/\n"), 0o600)
	os.WriteFile(file, []byte(`metrics_listen: 127.0.0.1:9393
disable_by_file_path: /etc/glint/healthcheck_disable
log_format: json
disabled_notifications: [image.create, task]
notifications:
  transport_url_file: `+filepath.Join(dir, "url")+`
  publisher_id: image.node1
`), 0o600)
	c := Default()
	if err := c.LoadFile(file); err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "127.0.0.1:9393" || c.LogFormat != "json" || c.DisableByFilePath == "" ||
		c.Notifications.TransportURL != "rabbit://glint:s3cret@mq:5672/" || c.Notifications.Exchange != "glance" ||
		len(c.Notifications.Disabled) != 2 || c.Notifications.PublisherID != "image.node1" {
		t.Fatalf("loaded: %+v", c.Operations)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.MetricsListen = "0.0.0.0:9393" }, "metrics_allow_remote"},
		{func(c *Config) { c.MetricsListen = c.Listen }, "the API's own address"},
		{func(c *Config) { c.LogFormat = "xml" }, "log_format"},
		{func(c *Config) { c.Notifications.TransportURL = "http://u:pw@mq/" }, "transport_url"},
	} {
		c := Default()
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("want an error about %s, got %v", tc.want, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error shows the broker password: %v", err)
		}
	}
	c = Default()
	c.MetricsListen, c.MetricsAllowRemote = "0.0.0.0:9393", true
	if err := c.Validate(); err != nil {
		t.Errorf("allowed remote metrics: %v", err)
	}
}
