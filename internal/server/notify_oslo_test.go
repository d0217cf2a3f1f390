package server_test

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/servertest"
	"github.com/glint-image/glint/internal/testenv"
)

// TestNotificationsOsloListener has Debian's oslo.messaging notification
// listener (what Ceilometer's agent runs) read what glint publishes: it
// must decode the envelope and dispatch each event to its endpoint.
func TestNotificationsOsloListener(t *testing.T) {
	url := rabbitURL(t)
	python := os.Getenv("GLINT_TEST_OSLO_PYTHON")
	if python == "" {
		testenv.Missing(t, "GLINT_TEST_OSLO_PYTHON (a python3 with oslo.messaging) is not set")
	}
	exchange, topic := unique("glance-test-"), unique("notifications-")
	cmd := exec.Command(python, "testdata/oslo_listener.py", strings.Replace(url, "amqp://", "rabbit://", 1), exchange, topic)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the listener exited waiting for %s:\n%s", what, stderr.String())
			}
			return l
		case <-time.After(60 * time.Second):
			t.Fatalf("the listener gave no %s within 60 s:\n%s", what, stderr.String())
		}
		return ""
	}
	if l := next("ready"); l != "ready" {
		t.Fatalf("listener: %q", l)
	}

	cfg := notifyConfig(t, url, exchange, topic)
	cfg.Notifications.PublisherID = "image.oslotest"
	ts := servertest.Start(t, cfg)
	resp, body := call(t, "POST", ts.URL+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"}, []byte(`{"name":"oslo"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var img struct{ ID string }
	json.Unmarshal(body, &img)
	if resp, b := call(t, "DELETE", ts.URL+"/v2/images/"+img.ID, "p1", nil, nil); resp.StatusCode != 204 {
		t.Fatalf("delete: %d %s", resp.StatusCode, b)
	}
	// The listener dispatches on a thread pool, so its endpoint may see
	// the two in either order; the order on the wire is checked by the
	// other notification tests.
	seen := map[string]bool{}
	for range 2 {
		var m map[string]any
		l := next("a notification")
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("listener line %q: %v", l, err)
		}
		p, _ := m["payload"].(map[string]any)
		if m["priority"] != "INFO" || m["publisher_id"] != "image.oslotest" || p["id"] != img.ID {
			t.Errorf("oslo.messaging read %v, want a notification of %s", m, img.ID)
		}
		seen[m["event_type"].(string)] = true
	}
	if !seen["image.create"] || !seen["image.delete"] {
		t.Errorf("oslo.messaging read %v, want image.create and image.delete", seen)
	}
}
