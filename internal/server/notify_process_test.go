package server_test

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/glint-image/glint/internal/testenv"
)

// broker is a RabbitMQ of the test's own, on its own ports and directory,
// so it can be stopped and started again without touching anyone else's.
type broker struct {
	t    *testing.T
	bin  string
	dir  string
	port string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}
	url  string
}

func startBroker(t *testing.T) *broker {
	bin := os.Getenv("GLINT_TEST_RABBITMQ_SERVER")
	if bin == "" {
		testenv.Missing(t, "GLINT_TEST_RABBITMQ_SERVER (the rabbitmq-server script) is not set")
	}
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(freeAddr(t))
	_, dist, _ := net.SplitHostPort(freeAddr(t))
	os.WriteFile(filepath.Join(dir, "plugins"), []byte("[].\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "rabbitmq.conf"), []byte("log.console = false\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "env.conf"), nil, 0o600)
	b := &broker{t: t, bin: bin, dir: dir, port: port, url: "amqp://guest:guest@127.0.0.1:" + port + "/",
		env: []string{"HOME=" + dir, "RABBITMQ_NODENAME=glint-test-" + port + "@localhost", "RABBITMQ_NODE_PORT=" + port,
			"RABBITMQ_DIST_PORT=" + dist, "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", "RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
			"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"), "RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "plugins"),
			"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq"), "RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "env.conf")}}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func (b *broker) start() {
	b.t.Helper()
	b.cmd = exec.Command(b.bin)
	b.cmd.Dir = b.dir
	b.cmd.Env = append(os.Environ(), b.env...)
	// Its own process group: stop ends the Erlang VM the script starts.
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	log, _ := os.OpenFile(filepath.Join(b.dir, "out.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	b.cmd.Stdout, b.cmd.Stderr = log, log
	if err := b.cmd.Start(); err != nil {
		b.t.Fatal(err)
	}
	b.done = make(chan struct{})
	go func() { b.cmd.Wait(); log.Close(); close(b.done) }()
	deadline := time.Now().Add(120 * time.Second)
	for {
		if conn, err := amqp.Dial(b.url); err == nil {
			conn.Close()
			return
		}
		select {
		case <-b.done:
			out, _ := os.ReadFile(filepath.Join(b.dir, "out.log"))
			b.t.Fatalf("rabbitmq-server exited:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			b.t.Fatal("rabbitmq-server did not accept connections within 120 s")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// stop ends the broker (SIGTERM to its process group, then SIGKILL).
func (b *broker) stop() {
	if b.cmd == nil || b.cmd.Process == nil {
		return
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.done:
	case <-time.After(30 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.done
	}
	b.cmd = nil
}

// TestNotificationsSurviveBrokerRestartAndKill publishes a stream of
// notifications while the broker is stopped and started again mid-stream
// and while glint itself is killed with SIGKILL: requests never wait for
// the broker, and a consumer receives every notification, in order (at
// least once; duplicates carry the same message_id and are counted).
func TestNotificationsSurviveBrokerRestartAndKill(t *testing.T) {
	b := startBroker(t)
	exchange, topic := unique("glance-test-"), unique("notifications-")
	c := newConsumer(t, b.url, exchange, topic+".info", true)
	dataDir := t.TempDir()
	cfgFile := filepath.Join(t.TempDir(), "glint.yaml")
	os.WriteFile(cfgFile, []byte(fmt.Sprintf(`notifications:
  transport_url: %s
  exchange: %s
  topics: [%s]
  durable: true
disabled_notifications: [image.update]
`, strings.Replace(b.url, "amqp://", "rabbit://", 1), exchange, topic)), 0o600)
	addr := freeAddr(t)
	p := start(t, dataDir, addr, "--config", cfgFile)

	var names []string
	create := func(prefix string, n int, p *process) {
		t.Helper()
		for i := range n {
			name := fmt.Sprintf("%s%02d", prefix, i)
			began := time.Now()
			resp, body, err := p.request("POST", "/v2/images", strings.NewReader(`{"name":"`+name+`"}`),
				map[string]string{"Content-Type": "application/json"})
			if err != nil || resp.StatusCode != 201 {
				t.Fatalf("create %s: %v %s", name, err, body)
			}
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("create %s took %s: a request waited for the broker", name, d)
			}
			names = append(names, name)
		}
	}
	creates := func(rs []received) []string {
		var out []string
		for _, r := range rs {
			if r.EventType == "image.create" {
				out = append(out, r.Payload["name"].(string))
			}
		}
		return out
	}
	until := func(what string) {
		t.Helper()
		c.wait(what, func(rs []received) bool { return len(creates(rs)) >= len(names) })
	}

	create("a", 10, p)
	until("before the restart")
	b.stop()
	create("b", 10, p) // the broker is down
	b.start()
	until("after the broker restart")

	b.stop()
	create("c", 10, p) // the broker is down, and then glint is killed
	p.cmd.Process.Kill()
	<-p.done
	b.start()
	p = start(t, dataDir, addr, "--config", cfgFile)
	create("d", 5, p)
	until("after glint was killed")

	got := c.wait("everything", func(rs []received) bool { return len(creates(rs)) >= len(names) })
	if g := creates(got); strings.Join(g, ",") != strings.Join(names, ",") {
		t.Fatalf("image.create notifications out of order or missing:\n got %v\nwant %v", g, names)
	}
	c.mu.Lock()
	t.Logf("%d notifications received in order, %d duplicates (at-least-once)", len(c.got), c.dups)
	c.mu.Unlock()
}
