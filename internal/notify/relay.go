package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/glint-image/glint/internal/sqlstore"
)

// RelayStore is the outbox as the relay uses it.
type RelayStore interface {
	LeaseOutbox(ctx context.Context, node string, until, now time.Time) (bool, error)
	PendingOutbox(ctx context.Context, limit int) ([]sqlstore.OutboxMessage, error)
	DeleteOutbox(ctx context.Context, ids []int64) error
	OutboxBacklog(ctx context.Context) (int64, error)
	TrimOutbox(ctx context.Context, max int64) (int64, error)
}

// RelayConfig is where and how the relay publishes.
type RelayConfig struct {
	// URL is the broker (rabbit:// as oslo.messaging writes it, or
	// amqp://, amqps://).
	URL string
	// Exchange is the topic exchange (glance); Topics become routing keys
	// and queues <topic>.<priority> (notifications.info).
	Exchange string
	Topics   []string
	// Durable declares the exchange and queues durable and publishes
	// persistent messages, so the broker keeps them across its restarts.
	// oslo.messaging's default (amqp_durable_queues = false) is not
	// durable; consumers must declare the same.
	Durable bool
	// Node names this process in the publisher lease.
	Node string
	// Sole says no other process publishes this outbox (SQLite): no
	// lease is taken, so a restart after a crash publishes at once
	// instead of after the dead process's lease.
	Sole bool
	// Max bounds the outbox: past it the oldest notifications are dropped.
	Max int64
	// Tick is how often the outbox is looked at without a local wake-up
	// (1 s when zero); Lease how long one node publishes before another
	// may take over (30 s when zero).
	Tick, Lease time.Duration
	// Published and Dropped count, when set (metrics).
	Published, Dropped func(n int)
}

// Relay publishes the outbox to RabbitMQ. Of all the nodes sharing the
// database, the one holding the lease publishes, in outbox order, and
// deletes each message once the broker confirmed it.
type Relay struct {
	cfg   RelayConfig
	st    RelayStore
	n     *Notifier
	log   *slog.Logger
	conn  *amqp.Connection
	ch    *amqp.Channel
	ready map[string]bool // queues declared on this connection
}

// linger is how long a woken relay waits for more notifications before
// it publishes: a few milliseconds of delay buy one outbox transaction per
// burst instead of one per request.
const linger = 25 * time.Millisecond

// batch is how many notifications one round publishes before it confirms
// and deletes them.
const batch = 200

// NewRelay returns a relay; Run starts it.
func NewRelay(cfg RelayConfig, st RelayStore, n *Notifier, log *slog.Logger) *Relay {
	if cfg.Tick <= 0 {
		cfg.Tick = time.Second
	}
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	return &Relay{cfg: cfg, st: st, n: n, log: log}
}

// Run publishes until ctx ends.
func (r *Relay) Run(ctx context.Context) {
	defer r.disconnect()
	backoff := time.Duration(0)
	lastTrim := time.Time{}
	failing := false
	for {
		wait := r.cfg.Tick
		if backoff > 0 {
			wait = backoff
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-r.n.wake:
			if backoff > 0 {
				// A broker that is down stays down for a poke.
				<-timer.C
			} else {
				// Let the writes of a burst gather: one round, one
				// confirm wait and one delete serve them all.
				time.Sleep(linger)
			}
		case <-timer.C:
		}
		timer.Stop()
		if time.Since(lastTrim) > time.Minute {
			lastTrim = time.Now()
			r.trim(ctx)
		}
		err := r.round(ctx)
		switch {
		case err == nil:
			if failing {
				r.log.Info("notifications: publishing again")
			}
			failing, backoff = false, 0
		case ctx.Err() != nil:
			return
		default:
			if !failing {
				r.log.Warn("notifications: cannot publish; they wait in the outbox", "err", err)
			}
			failing = true
			r.disconnect()
			backoff = min(max(2*backoff, 500*time.Millisecond), 30*time.Second)
		}
	}
}

// round publishes what waits, while this node holds the lease.
func (r *Relay) round(ctx context.Context) error {
	msgs, err := r.st.PendingOutbox(ctx, batch)
	if err != nil || len(msgs) == 0 {
		return err
	}
	for len(msgs) > 0 {
		if !r.cfg.Sole {
			now := time.Now()
			held, err := r.st.LeaseOutbox(ctx, r.cfg.Node, now.Add(r.cfg.Lease), now)
			if err != nil || !held {
				return err
			}
			// Read again under the lease: another node may have
			// published some of them meanwhile.
			if msgs, err = r.st.PendingOutbox(ctx, batch); err != nil || len(msgs) == 0 {
				return err
			}
		}
		ids, err := r.publish(ctx, msgs)
		if len(ids) > 0 {
			if derr := r.st.DeleteOutbox(context.WithoutCancel(ctx), ids); derr != nil {
				return derr
			}
			if r.cfg.Published != nil {
				r.cfg.Published(len(ids))
			}
		}
		if err != nil {
			return err
		}
		if len(msgs) < batch {
			return nil
		}
		if msgs, err = r.st.PendingOutbox(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// publish sends msgs in order and returns the ids the broker confirmed,
// a prefix of msgs.
func (r *Relay) publish(ctx context.Context, msgs []sqlstore.OutboxMessage) ([]int64, error) {
	if err := r.connect(); err != nil {
		return nil, err
	}
	type sent struct {
		id int64
		cs []*amqp.DeferredConfirmation
	}
	var pending []sent
	var perr error
	for _, m := range msgs {
		s := sent{id: m.ID}
		for _, topic := range r.cfg.Topics {
			key := topic + "." + strings.ToLower(m.Priority)
			if err := r.declare(key); err != nil {
				perr = err
				break
			}
			mode := amqp.Transient
			if r.cfg.Durable {
				mode = amqp.Persistent
			}
			c, err := r.ch.PublishWithDeferredConfirmWithContext(ctx, r.cfg.Exchange, key, false, false, amqp.Publishing{
				ContentType: "application/json", ContentEncoding: "utf-8", DeliveryMode: mode, Body: m.Body})
			if err != nil {
				perr = err
				break
			}
			s.cs = append(s.cs, c)
		}
		if perr != nil {
			break
		}
		pending = append(pending, s)
	}
	var ids []int64
	for _, s := range pending {
		ok := true
		for _, c := range s.cs {
			acked, err := c.WaitContext(ctx)
			if err != nil || !acked {
				ok = false
				if perr == nil {
					perr = errors.Join(errors.New("the broker did not confirm a notification"), err)
				}
			}
		}
		if !ok {
			break
		}
		ids = append(ids, s.id)
	}
	return ids, perr
}

func (r *Relay) connect() error {
	if r.conn != nil && !r.conn.IsClosed() && r.ch != nil && !r.ch.IsClosed() {
		return nil
	}
	r.disconnect()
	u, err := brokerURL(r.cfg.URL)
	if err != nil {
		return err
	}
	conn, err := amqp.DialConfig(u, amqp.Config{Heartbeat: 10 * time.Second, Locale: "en_US",
		Dial: amqp.DefaultDial(10 * time.Second), Properties: amqp.Table{"connection_name": "glint " + r.cfg.Node}})
	if err != nil {
		return fmt.Errorf("connecting to the broker: %w", redact(err, r.cfg.URL))
	}
	ch, err := conn.Channel()
	if err == nil {
		err = ch.Confirm(false)
	}
	if err == nil {
		err = ch.ExchangeDeclare(r.cfg.Exchange, "topic", r.cfg.Durable, false, false, false, nil)
	}
	if err != nil {
		conn.Close()
		return fmt.Errorf("broker channel: %w", err)
	}
	r.conn, r.ch, r.ready = conn, ch, map[string]bool{}
	return nil
}

// declare makes sure the queue of a routing key exists and is bound, as
// oslo.messaging's notifier does, so notifications wait for consumers
// that are not there yet.
func (r *Relay) declare(key string) error {
	if r.ready[key] {
		return nil
	}
	if _, err := r.ch.QueueDeclare(key, r.cfg.Durable, false, false, false, nil); err != nil {
		return err
	}
	if err := r.ch.QueueBind(key, key, r.cfg.Exchange, false, nil); err != nil {
		return err
	}
	r.ready[key] = true
	return nil
}

func (r *Relay) disconnect() {
	if r.conn != nil {
		r.conn.Close()
	}
	r.conn, r.ch = nil, nil
}

func (r *Relay) trim(ctx context.Context) {
	n, err := r.st.OutboxBacklog(ctx)
	if err != nil || n <= r.cfg.Max {
		return
	}
	dropped, err := r.st.TrimOutbox(ctx, r.cfg.Max)
	if err != nil {
		r.log.Warn("notifications: trimming the outbox", "err", err)
		return
	}
	if dropped > 0 {
		r.log.Error("notifications: the outbox is full; the oldest were dropped", "dropped", dropped, "outbox_max", r.cfg.Max)
		if r.cfg.Dropped != nil {
			r.cfg.Dropped(int(dropped))
		}
	}
}

// brokerURL turns oslo.messaging's rabbit:// into amqp://.
func brokerURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("notifications: the transport URL does not parse")
	}
	if u.Scheme == "rabbit" {
		u.Scheme = "amqp"
	}
	return u.String(), nil
}

// redact keeps the broker password out of errors that quote the URL.
func redact(err error, raw string) error {
	u, perr := url.Parse(raw)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "***"))
	}
	return err
}
