package notify_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/glint-image/glint/internal/notify"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/testenv"
)

type outbox interface {
	notify.Outbox
	notify.RelayStore
}

func stores(t *testing.T) map[string]func() outbox {
	return map[string]func() outbox{
		"sqlite": func() outbox {
			st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "glint.db"))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
		"postgres": func() outbox {
			st, err := postgres.Open(context.Background(), pgtest.Schema(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			return st
		},
	}
}

// TestOutboxStore checks the outbox operations on both databases: order,
// delete, backlog, trim to a bound, and one publisher lease at a time.
func TestOutboxStore(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			if name == "postgres" && os.Getenv(pgtest.DSNVar) == "" {
				testenv.Missing(t, pgtest.DSNVar+" is not set")
			}
			st := open()
			ctx := context.Background()
			n := notify.NewNotifier("image.test", []string{"task"})
			for i := range 10 {
				m, ok, err := n.Message("image.create", notify.Info, map[string]int{"i": i})
				if err != nil || !ok {
					t.Fatal(err, ok)
				}
				if err := st.AppendOutbox(ctx, m); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok, _ := n.Message("task.create", notify.Info, nil); ok {
				t.Error("a disabled group was enabled")
			}
			msgs, err := st.PendingOutbox(ctx, 4)
			if err != nil || len(msgs) != 4 || msgs[0].ID >= msgs[1].ID {
				t.Fatalf("pending: %v %v", err, msgs)
			}
			if err := st.DeleteOutbox(ctx, []int64{msgs[0].ID, msgs[1].ID}); err != nil {
				t.Fatal(err)
			}
			if n, _ := st.OutboxBacklog(ctx); n != 8 {
				t.Fatalf("backlog %d, want 8", n)
			}
			dropped, err := st.TrimOutbox(ctx, 5)
			if err != nil || dropped != 3 {
				t.Fatalf("trim: %v dropped %d, want 3", err, dropped)
			}
			rest, _ := st.PendingOutbox(ctx, 100)
			if len(rest) != 5 || !strings.Contains(string(rest[4].Body), `\"i\":9`) {
				t.Fatalf("after trim: %d left, last %s", len(rest), rest[len(rest)-1].Body)
			}
			now := time.Now()
			if ok, err := st.LeaseOutbox(ctx, "a", now.Add(time.Minute), now); err != nil || !ok {
				t.Fatalf("first lease: %v %v", ok, err)
			}
			if ok, _ := st.LeaseOutbox(ctx, "b", now.Add(time.Minute), now); ok {
				t.Fatal("b took a's unexpired lease")
			}
			if ok, _ := st.LeaseOutbox(ctx, "a", now.Add(2*time.Minute), now); !ok {
				t.Fatal("a could not renew its lease")
			}
			later := now.Add(3 * time.Minute)
			if ok, _ := st.LeaseOutbox(ctx, "b", later.Add(time.Minute), later); !ok {
				t.Fatal("b could not take the expired lease")
			}
		})
	}
}

// TestTwoRelaysPublishOnce runs two relays (two nodes) on one PostgreSQL
// outbox against the real broker: each notification reaches the queue
// once, in order.
func TestTwoRelaysPublishOnce(t *testing.T) {
	url := os.Getenv("GLINT_TEST_RABBITMQ_URL")
	if url == "" {
		testenv.Missing(t, "GLINT_TEST_RABBITMQ_URL is not set")
	}
	st := stores(t)["postgres"]()
	exchange := "glance-test-" + strings.ToLower(rand.Text())[:10]
	topic := "notifications-" + strings.ToLower(rand.Text())[:10]
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, _ := conn.Channel()
	ch.ExchangeDeclare(exchange, "topic", false, false, false, false, nil)
	ch.QueueDeclare(topic+".info", false, false, false, false, nil)
	ch.QueueBind(topic+".info", topic+".info", exchange, false, nil)
	defer func() { ch.QueueDelete(topic+".info", false, false, false); ch.ExchangeDelete(exchange, false, false) }()

	n := notify.NewNotifier("image.test", nil)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, node := range []string{"node-a", "node-b"} {
		r := notify.NewRelay(notify.RelayConfig{URL: url, Exchange: exchange, Topics: []string{topic}, Node: node,
			Max: 1000, Tick: 20 * time.Millisecond}, st, n, log)
		wg.Go(func() { r.Run(ctx) })
	}
	defer func() { cancel(); wg.Wait() }()
	const total = 300
	for i := range total {
		m, _, _ := n.Message("image.update", notify.Info, map[string]int{"i": i})
		if err := st.AppendOutbox(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	deliveries, err := ch.Consume(topic+".info", "", true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range total {
		select {
		case d := <-deliveries:
			_, _, payload, _, err := notify.Decode(d.Body)
			if err != nil || string(payload) != `{"i":`+itoa(i)+`}` {
				t.Fatalf("message %d: %s %v", i, payload, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d arrived", i, total)
		}
	}
	select {
	case d := <-deliveries:
		t.Fatalf("a message was published twice: %s", d.Body)
	case <-time.After(time.Second):
	}
	if n, _ := st.OutboxBacklog(context.Background()); n != 0 {
		t.Errorf("backlog %d after publishing", n)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
