package server

import (
	"context"
	"crypto/rand"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/glint-image/glint/internal/api"
	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/notify"
)

// outboxRecords is what the SQL record stores offer notifications.
type outboxRecords interface {
	notify.Outbox
	notify.RelayStore
}

// notifiedRecords is the record store with notifications written into
// the outbox by the image and task changes.
type notifiedRecords struct {
	*notify.ImageStore
	*notify.TaskStore
	identityStore
	metadefStore
	base Records
}

type (
	identityStore = identity.Store
	metadefStore  = metadef.Store
)

// Close closes the store underneath once.
func (r notifiedRecords) Close() error { return r.base.Close() }

func wrapped(rec Records, n *notify.Notifier, finished func(method, outcome string)) Records {
	return notifiedRecords{ImageStore: n.WrapImages(rec), TaskStore: n.WrapTasks(rec, finished),
		identityStore: rec, metadefStore: n.WrapMetadefs(rec), base: rec}
}

// notifications wraps the record store so that its changes write Glance's
// notifications, and starts the relay that publishes them, when a broker
// is configured. With metrics but no broker, finished import tasks are
// still counted (through a notifier with every event off).
func (s *Server) notifications(rec Records) (Records, api.Events, error) {
	cfg := s.cfg.Notifications
	ob, ok := rec.(outboxRecords)
	if !ok || (!cfg.Enabled() && s.metrics == nil) {
		return rec, nil, nil
	}
	var finished func(method, outcome string)
	if s.metrics != nil {
		finished = s.metrics.TaskFinished
	}
	if !cfg.Enabled() {
		off := notify.NewNotifier("", nil).Off()
		return wrapped(rec, off, finished), nil, nil
	}
	host, _ := os.Hostname()
	pub := cfg.PublisherID
	if pub == "" {
		pub = "image." + host
	}
	n := notify.NewNotifier(pub, cfg.Disabled)
	relay := notify.NewRelay(notify.RelayConfig{URL: cfg.TransportURL, Exchange: cfg.Exchange, Topics: cfg.Topics,
		Durable: cfg.Durable, Node: host + "-" + rand.Text()[:8], Max: cfg.OutboxMax, Sole: s.cfg.Metadata.Driver == "sqlite",
		Published: func(k int) { s.metrics.Notification("published", k) },
		Dropped:   func(k int) { s.metrics.Notification("dropped", k) }}, ob, n, s.log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); relay.Run(ctx) }()
	s.closers = append(s.closers, func() error { cancel(); <-done; return nil })
	if s.metrics != nil {
		err := s.metrics.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "glint_notification_outbox_backlog",
			Help: "Notifications written and not yet confirmed by the broker."}, func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			n, err := ob.OutboxBacklog(ctx)
			if err != nil {
				return -1
			}
			return float64(n)
		}))
		if err != nil {
			return nil, nil, err
		}
	}
	return wrapped(rec, n, finished), n.Events(ob, s.log), nil
}
