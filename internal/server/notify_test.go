package server_test

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/notify"
	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/testenv"
)

// rabbitURL is the broker the notification tests publish to, or skip.
func rabbitURL(t *testing.T) string {
	u := os.Getenv("GLINT_TEST_RABBITMQ_URL")
	if u == "" {
		testenv.Missing(t, "GLINT_TEST_RABBITMQ_URL is not set")
	}
	return u
}

// received is one notification as a consumer saw it.
type received struct {
	EventType, Priority, MessageID, RoutingKey string
	Payload                                    map[string]any
	Body                                       []byte
}

// consumer reads a queue of the broker at url until stopped, reconnecting
// when the broker goes away, and keeps what it got (once per message_id:
// delivery is at least once).
type consumer struct {
	t     *testing.T
	url   string
	queue string
	mu    sync.Mutex
	got   []received
	seen  map[string]bool
	dups  int
	stop  chan struct{}
	done  chan struct{}
}

func newConsumer(t *testing.T, url, exchange, queue string, durable bool) *consumer {
	c := &consumer{t: t, url: url, queue: queue, seen: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	// Declare and bind before glint publishes, as a listener would.
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	ch, _ := conn.Channel()
	if err := ch.ExchangeDeclare(exchange, "topic", durable, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, durable, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, queue, exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	go c.run()
	t.Cleanup(func() {
		close(c.stop)
		<-c.done
		if conn, err := amqp.Dial(url); err == nil {
			ch, _ := conn.Channel()
			ch.QueueDelete(queue, false, false, false)
			ch.ExchangeDelete(exchange, false, false)
			conn.Close()
		}
	})
	return c
}

func (c *consumer) run() {
	defer close(c.done)
	for {
		select {
		case <-c.stop:
			return
		default:
		}
		c.session()
		select {
		case <-c.stop:
			return
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (c *consumer) session() {
	conn, err := amqp.Dial(c.url)
	if err != nil {
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return
	}
	deliveries, err := ch.Consume(c.queue, "", false, false, false, false, nil)
	if err != nil {
		return
	}
	for {
		select {
		case <-c.stop:
			return
		case d, ok := <-deliveries:
			if !ok {
				return
			}
			et, prio, payload, id, err := notify.Decode(d.Body)
			if err != nil {
				c.t.Errorf("undecodable notification %q: %v", d.Body, err)
			}
			var p map[string]any
			json.Unmarshal(payload, &p)
			c.mu.Lock()
			if c.seen[id] {
				c.dups++
			} else {
				c.seen[id] = true
				c.got = append(c.got, received{EventType: et, Priority: prio, MessageID: id, RoutingKey: d.RoutingKey, Payload: p, Body: d.Body})
			}
			c.mu.Unlock()
			d.Ack(false)
		}
	}
}

// wait returns what was received once cond holds, or fails after 60 s.
func (c *consumer) wait(what string, cond func([]received) bool) []received {
	c.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c.mu.Lock()
		got := slices.Clone(c.got)
		c.mu.Unlock()
		if cond(got) {
			return got
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s: not received within 60 s; got %d: %v", what, len(got), types(got))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func types(rs []received) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.EventType
	}
	return out
}

func unique(prefix string) string { return prefix + strings.ToLower(rand.Text())[:10] }

// notifyConfig is a glint, its callers trusted from their headers, that
// sends its notifications to the broker at url, on exchange and topic.
func notifyConfig(t *testing.T, url, exchange, topic string) config.Config {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Auth = config.AuthTrustedHeaders
	cfg.Notifications.TransportURL = url
	cfg.Notifications.Exchange = exchange
	cfg.Notifications.Topics = []string{topic}
	return cfg
}

// TestNotificationsSession drives a scripted session through the API and
// checks that a RabbitMQ consumer receives Glance's notifications for
// it, every one, in order, in oslo.messaging's v2 envelope, with Glance's
// payloads; disabled ones are not sent.
func TestNotificationsSession(t *testing.T) {
	url := rabbitURL(t)
	exchange, topic := unique("glance-test-"), unique("notifications-")
	c := newConsumer(t, url, exchange, topic+".info", false)
	errs := newConsumer(t, url, exchange, topic+".error", false)

	cfg := notifyConfig(t, url, exchange, topic)
	cfg.Notifications.PublisherID = "image.testhost"
	cfg.Notifications.Disabled = []string{"image.member.update"}
	ts := servertest.Start(t, cfg)
	api := ts.URL
	jsonHdr := map[string]string{"Content-Type": "application/json"}

	resp, body := call(t, "POST", api+"/v2/images", "p1", jsonHdr, []byte(`{"name":"c1","disk_format":"raw","container_format":"bare","visibility":"shared"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var img struct{ ID string }
	json.Unmarshal(body, &img)
	data := []byte(strings.Repeat("glint", 1000))
	steps := []struct {
		method, path, project string
		hdr                   map[string]string
		body                  string
		status                int
	}{
		{"PUT", "/file", "p1", map[string]string{"Content-Type": "application/octet-stream"}, string(data), 204},
		{"GET", "/file", "p1", nil, "", 200},
		{"PATCH", "", "p1", map[string]string{"Content-Type": "application/openstack-images-v2.1-json-patch"}, `[{"op":"add","path":"/os_distro","value":"cirros"}]`, 200},
		{"PUT", "/tags/t1", "p1", nil, "", 204},
		{"POST", "/members", "p1", jsonHdr, `{"member":"p2"}`, 200},
		{"PUT", "/members/p2", "p2", jsonHdr, `{"status":"accepted"}`, 200},
		{"DELETE", "/members/p2", "p1", nil, "", 204},
		{"DELETE", "", "p1", nil, "", 204},
	}
	for _, s := range steps {
		if resp, b := call(t, s.method, api+"/v2/images/"+img.ID+s.path, s.project, s.hdr, []byte(s.body)); resp.StatusCode != s.status {
			t.Fatalf("%s %s: %d %s", s.method, s.path, resp.StatusCode, b)
		}
	}
	// Metadata definitions, as an admin.
	adminHdr := map[string]string{"Content-Type": "application/json", "X-Roles": "admin"}
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/v2/metadefs/namespaces", `{"namespace":"` + topic + `","tags":[{"name":"blue"}]}`},
		{"POST", "/v2/metadefs/namespaces/" + topic + "/objects", `{"name":"o1","properties":{"p":{"type":"string","title":"P"}}}`},
		{"DELETE", "/v2/metadefs/namespaces/" + topic, ""},
	} {
		if resp, b := call(t, s.method, api+s.path, "admin-project", adminHdr, []byte(s.body)); resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %s", s.method, s.path, resp.StatusCode, b)
		}
	}
	want := []string{"image.create", "image.update", "image.prepare", "image.upload", "image.activate", "image.send",
		"image.update", "image.update", "image.member.create", "image.member.delete", "image.delete",
		"metadef_namespace.create", "metadef_tag.create", "metadef_object.create", "metadef_namespace.delete"}
	got := c.wait("the session's notifications", func(rs []received) bool { return len(rs) >= len(want) })
	got = got[:len(want)]
	if !slices.Equal(types(got), want) {
		t.Fatalf("events:\n got %v\nwant %v", types(got), want)
	}
	for _, r := range got {
		if r.RoutingKey != topic+".info" || r.Priority != "INFO" {
			t.Errorf("%s: routing key %s priority %s", r.EventType, r.RoutingKey, r.Priority)
		}
		if ns, _ := r.Payload["namespace"].(string); strings.HasPrefix(r.EventType, "metadef_") && ns != topic {
			t.Errorf("%s: payload namespace %q", r.EventType, ns)
		}
		if id, _ := r.Payload["id"].(string); id != "" && id != img.ID {
			t.Errorf("%s: payload id %s", r.EventType, id)
		}
	}
	// The envelope and message as oslo.messaging writes them.
	var env map[string]any
	json.Unmarshal(got[0].Body, &env)
	var msg map[string]any
	json.Unmarshal([]byte(env["oslo.message"].(string)), &msg)
	if env["oslo.version"] != "2.0" || msg["publisher_id"] != "image.testhost" || msg["event_type"] != "image.create" ||
		!strings.Contains(msg["timestamp"].(string), " ") || len(msg["timestamp"].(string)) != 26 {
		t.Errorf("envelope %v, message %v", env, msg)
	}
	keys := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		slices.Sort(ks)
		return ks
	}
	wantKeys := []string{"checksum", "container_format", "created_at", "deleted", "deleted_at", "disk_format", "id", "is_public",
		"min_disk", "min_ram", "name", "owner", "properties", "protected", "size", "status", "tags", "updated_at", "virtual_size", "visibility"}
	if !slices.Equal(keys(got[0].Payload), wantKeys) {
		t.Errorf("image.create payload keys %v, want Glance's %v", keys(got[0].Payload), wantKeys)
	}
	if p := got[0].Payload; p["status"] != "queued" || p["is_public"] != false || p["visibility"] != "shared" || p["size"] != nil {
		t.Errorf("image.create payload %v", p)
	}
	if p := got[3].Payload; p["status"] != "active" || p["size"] != float64(len(data)) || p["checksum"] == nil {
		t.Errorf("image.upload payload %v", p)
	}
	if p := got[2].Payload; p["os_glance_importing_to_stores"] == nil || p["os_glance_failed_import"] == nil {
		t.Errorf("image.prepare payload %v", p)
	}
	if p := got[5].Payload; p["bytes_sent"] != float64(len(data)) || p["receiver_tenant_id"] != "p2" && p["receiver_tenant_id"] != "p1" {
		t.Errorf("image.send payload %v", p)
	}
	if p := got[7].Payload; !slices.Contains(p["tags"].([]any), any("t1")) || p["properties"].(map[string]any)["os_distro"] != "cirros" {
		t.Errorf("image.update after the tag: %v", p)
	}
	if p := got[10].Payload; p["status"] != "deleted" || p["deleted"] != true || p["deleted_at"] == nil {
		t.Errorf("image.delete payload %v", p)
	}
	if p := got[13].Payload; p["name"] != "o1" || len(p["properties"].([]any)) != 1 {
		t.Errorf("metadef_object.create payload %v", p)
	}
	if p := got[14].Payload; p["deleted"] != true || p["namespace_old"] != topic {
		t.Errorf("metadef_namespace.delete payload %v", p)
	}

	// An import: the task's events and the image's, in their order.
	resp, body = call(t, "POST", api+"/v2/images", "p1", jsonHdr, []byte(`{"name":"imp","disk_format":"raw","container_format":"bare"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var imp struct{ ID string }
	json.Unmarshal(body, &imp)
	if resp, b := call(t, "PUT", api+"/v2/images/"+imp.ID+"/stage", "p1", map[string]string{"Content-Type": "application/octet-stream"}, data); resp.StatusCode != 204 {
		t.Fatalf("stage: %d %s", resp.StatusCode, b)
	}
	if resp, b := call(t, "POST", api+"/v2/images/"+imp.ID+"/import", "p1", jsonHdr, []byte(`{"method":{"name":"glance-direct"}}`)); resp.StatusCode != 202 {
		t.Fatalf("import: %d %s", resp.StatusCode, b)
	}
	all := c.wait("the import's notifications", func(rs []received) bool { return slices.Contains(types(rs), "task.run") })
	seq := types(all[len(want):])
	pos := func(ev string) int { return slices.Index(seq, ev) }
	// As in Glance: the stage sends image.update only, and image.prepare
	// comes with the import. (Glance sends it from set_data once the
	// task runs; glint when the image enters importing, which is before
	// task.processing.)
	for _, pair := range [][2]string{{"image.create", "task.create"}, {"task.create", "image.prepare"},
		{"task.create", "task.processing"}, {"task.processing", "image.upload"}, {"image.prepare", "image.upload"},
		{"image.upload", "image.activate"}, {"image.activate", "task.success"}, {"task.success", "task.run"}} {
		if pos(pair[0]) < 0 || pos(pair[1]) < pos(pair[0]) {
			t.Fatalf("import events out of order (%s before %s): %v", pair[0], pair[1], seq)
		}
	}
	if n := strings.Count(strings.Join(seq, " "), "image.prepare"); n != 1 {
		t.Errorf("%d image.prepare in the import, want 1 (none for the stage): %v", n, seq)
	}
	for _, r := range all[len(want):] {
		if r.EventType == "task.success" && (r.Payload["type"] != "api_image_import" || r.Payload["status"] != "success" || r.Payload["result"] != nil) {
			t.Errorf("task.success payload %v", r.Payload)
		}
	}

	errs.mu.Lock()
	if len(errs.got) != 0 {
		t.Errorf("error notifications: %v", types(errs.got))
	}
	errs.mu.Unlock()
}

// TestNotificationsUploadFailure checks what a failed upload sends, as
// Glance does: image.prepare, then image.upload at ERROR with a text
// payload, then image.update for the image back in queued.
func TestNotificationsUploadFailure(t *testing.T) {
	url := rabbitURL(t)
	exchange, topic := unique("glance-test-"), unique("notifications-")
	info := newConsumer(t, url, exchange, topic+".info", false)
	errs := newConsumer(t, url, exchange, topic+".error", false)
	cfg := notifyConfig(t, url, exchange, topic)
	ts := servertest.Start(t, cfg)
	resp, body := call(t, "POST", ts.URL+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"name":"short","disk_format":"raw","container_format":"bare"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var img struct{ ID string }
	json.Unmarshal(body, &img)
	// A chunked body shorter than the size it declares.
	req, _ := http.NewRequest("PUT", ts.URL+"/v2/images/"+img.ID+"/file", io.MultiReader(strings.NewReader("only this")))
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("X-Openstack-Image-Size", "1000")
	req.Header.Set("X-Project-Id", "p1")
	req.Header.Set("X-User-Id", "u-p1")
	req.Header.Set("X-Roles", "member")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("short upload: %d", resp.StatusCode)
	}
	got := errs.wait("the ERROR image.upload", func(rs []received) bool { return len(rs) >= 1 })
	if got[0].EventType != "image.upload" || got[0].Priority != "ERROR" {
		t.Fatalf("error notifications %v", types(got))
	}
	var text string
	if _, _, raw, _, _ := notify.Decode(got[0].Body); json.Unmarshal(raw, &text) != nil ||
		!strings.HasPrefix(text, "Cannot save data for image "+img.ID+": Size of uploaded data") {
		t.Errorf("payload %q, want Glance's text for a bad upload", text)
	}
	infos := info.wait("the image's notifications", func(rs []received) bool { return len(rs) >= 4 })
	if want := []string{"image.create", "image.update", "image.prepare", "image.update"}; !slices.Equal(types(infos), want) {
		t.Fatalf("info notifications %v, want %v", types(infos), want)
	}
	if infos[3].Payload["status"] != "queued" {
		t.Errorf("last image.update %v", infos[3].Payload)
	}
}
