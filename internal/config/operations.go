package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Operations are the settings of what operators watch glint with:
// metrics, the health check, notifications and logs.
type Operations struct {
	// MetricsListen is the host:port of the Prometheus listener (/metrics
	// and the detailed health check); empty turns it off.
	MetricsListen string
	// MetricsAllowRemote lets MetricsListen be a non-loopback address, or
	// the API's own address (then /metrics is served beside the API).
	MetricsAllowRemote bool
	// DisableByFilePath drains the node: while the file exists
	// /healthcheck answers 503 DISABLED BY FILE (oslo.middleware's
	// disable_by_file backend). Empty: never drained.
	DisableByFilePath string
	// LogFormat is "auto" (text on a terminal, JSON otherwise), "text" or
	// "json".
	LogFormat string
	// Notifications configures the notifications Glance emits.
	Notifications Notifications
}

// Notifications are oslo.messaging's notification settings, as Glance
// reads them.
type Notifications struct {
	// TransportURL is the RabbitMQ to publish to (rabbit:// or amqp://);
	// empty: notifications are off, as with Glance's default driver.
	TransportURL string
	// Exchange is the topic exchange (Glance's control exchange, glance).
	Exchange string
	// Topics become routing keys <topic>.<priority> (notifications.info).
	Topics []string
	// PublisherID is the messages' publisher_id (image.<host name>).
	PublisherID string
	// Disabled are event types (image.create) or groups (image, task,
	// metadef_namespace) not sent: Glance's disabled_notifications.
	Disabled []string
	// OutboxMax bounds the notifications waiting for the broker; past it
	// the oldest are dropped (and counted).
	OutboxMax int64
	// Durable declares the exchange and queues durable and publishes
	// persistent messages (oslo.messaging's amqp_durable_queues; off by
	// default there, so consumers must agree).
	Durable bool
}

// Enabled reports whether notifications are sent at all.
func (n Notifications) Enabled() bool { return n.TransportURL != "" }

// Log formats.
const (
	LogFormatAuto = "auto"
	LogFormatText = "text"
	LogFormatJSON = "json"
)

// DefaultOutboxMax is how many notifications may wait for the broker.
const DefaultOutboxMax = 100000

func defaultOperations() Operations {
	return Operations{LogFormat: LogFormatAuto,
		Notifications: Notifications{Exchange: "glance", Topics: []string{"notifications"}, OutboxMax: DefaultOutboxMax}}
}

// fileOperations are the YAML keys of Operations, at the top level.
type fileOperations struct {
	MetricsListen         *string            `yaml:"metrics_listen"`
	MetricsAllowRemote    *bool              `yaml:"metrics_allow_remote"`
	DisableByFilePath     *string            `yaml:"disable_by_file_path"`
	LogFormat             *string            `yaml:"log_format"`
	DisabledNotifications []string           `yaml:"disabled_notifications"`
	Notifications         *fileNotifications `yaml:"notifications"`
}

type fileNotifications struct {
	TransportURL     string   `yaml:"transport_url"`
	TransportURLFile string   `yaml:"transport_url_file"`
	Exchange         string   `yaml:"exchange"`
	Topics           []string `yaml:"topics"`
	PublisherID      string   `yaml:"publisher_id"`
	OutboxMax        int64    `yaml:"outbox_max"`
	Durable          bool     `yaml:"durable"`
}

func (c *Config) applyOperations(f fileOperations) error {
	setString(&c.MetricsListen, f.MetricsListen)
	setString(&c.DisableByFilePath, f.DisableByFilePath)
	setString(&c.LogFormat, f.LogFormat)
	if f.MetricsAllowRemote != nil {
		c.MetricsAllowRemote = *f.MetricsAllowRemote
	}
	if f.DisabledNotifications != nil {
		c.Notifications.Disabled = f.DisabledNotifications
	}
	n := f.Notifications
	if n == nil {
		return nil
	}
	u, err := secret("notifications.transport_url", n.TransportURL, n.TransportURLFile)
	if err != nil {
		return err
	}
	c.Notifications.TransportURL = u
	if n.Exchange != "" {
		c.Notifications.Exchange = n.Exchange
	}
	if n.Topics != nil {
		c.Notifications.Topics = n.Topics
	}
	if n.PublisherID != "" {
		c.Notifications.PublisherID = n.PublisherID
	}
	if n.OutboxMax != 0 {
		c.Notifications.OutboxMax = n.OutboxMax
	}
	c.Notifications.Durable = n.Durable
	return nil
}

func (c *Config) applyOperationsEnv(getenv func(string) string) error {
	for name, dst := range map[string]*string{
		"GLINT_METRICS_LISTEN":         &c.MetricsListen,
		"GLINT_LOG_FORMAT":             &c.LogFormat,
		"GLINT_DISABLE_BY_FILE_PATH":   &c.DisableByFilePath,
		"GLINT_NOTIFICATIONS_URL":      &c.Notifications.TransportURL,
		"GLINT_NOTIFICATIONS_EXCHANGE": &c.Notifications.Exchange,
	} {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	if v := getenv("GLINT_METRICS_ALLOW_REMOTE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("GLINT_METRICS_ALLOW_REMOTE: %q is not true or false", v)
		}
		c.MetricsAllowRemote = b
	}
	return nil
}

func (c Config) validateOperations() []error {
	var errs []error
	if c.MetricsListen != "" {
		host, port, err := net.SplitHostPort(c.MetricsListen)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("metrics_listen: %q is not host:port: %v", c.MetricsListen, err))
		case port == "":
			errs = append(errs, fmt.Errorf("metrics_listen: %q has no port", c.MetricsListen))
		case !isLoopback(host) && !c.MetricsAllowRemote:
			errs = append(errs, fmt.Errorf("metrics_listen: %q is not a loopback address; metrics show the service's traffic, "+
				"so they stay on loopback unless metrics_allow_remote is set", c.MetricsListen))
		case c.MetricsListen == c.Listen && !c.MetricsAllowRemote:
			errs = append(errs, fmt.Errorf("metrics_listen: %q is the API's own address; serving /metrics to API clients needs metrics_allow_remote", c.MetricsListen))
		}
	}
	switch c.LogFormat {
	case LogFormatAuto, LogFormatText, LogFormatJSON:
	default:
		errs = append(errs, fmt.Errorf("log_format: %q is not one of auto, text, json", c.LogFormat))
	}
	n := c.Notifications
	if n.TransportURL != "" {
		u, err := url.Parse(n.TransportURL)
		if err != nil || (u.Scheme != "rabbit" && u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
			// Never echo the URL: it holds the broker password.
			errs = append(errs, errors.New("notifications.transport_url: not a rabbit://, amqp:// or amqps:// URL with a host"))
		}
		if n.Exchange == "" || len(n.Topics) == 0 {
			errs = append(errs, errors.New("notifications: exchange and topics must not be empty"))
		}
		if n.OutboxMax < 1 || n.OutboxMax > 100_000_000 {
			errs = append(errs, fmt.Errorf("notifications.outbox_max: %d is outside 1..100000000", n.OutboxMax))
		}
	}
	for _, d := range n.Disabled {
		if strings.TrimSpace(d) == "" {
			errs = append(errs, errors.New("disabled_notifications: empty entry"))
		}
	}
	return errs
}
