package server_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/servertest"
)

// TestNotificationsCacheHitSend checks image.send for a download the image
// cache served: as from Glance's cache middleware, its payload adds
// destination_ip, the client's address; a download from the store has
// none.
func TestNotificationsCacheHitSend(t *testing.T) {
	url := rabbitURL(t)
	s3cfg := testS3(t, "glint-notify-test", "send")
	exchange, topic := unique("glance-test-"), unique("notifications-")
	c := newConsumer(t, url, exchange, topic+".info", false)
	cfg := notifyConfig(t, url, exchange, topic)
	cfg.Stores = []config.Store{{ID: "s3", Type: "s3", S3: s3cfg}}
	cfg.DefaultStore = "s3"
	ts := servertest.Start(t, cfg)

	resp, body := call(t, "POST", ts.URL+"/v2/images", "p1", map[string]string{"Content-Type": "application/json"},
		[]byte(`{"name":"cached","disk_format":"raw","container_format":"bare"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var img struct{ ID string }
	json.Unmarshal(body, &img)
	data := bytes.Repeat([]byte("cache"), 20000)
	if resp, b := call(t, "PUT", ts.URL+"/v2/images/"+img.ID+"/file", "p1", map[string]string{"Content-Type": "application/octet-stream"}, data); resp.StatusCode != 204 {
		t.Fatalf("upload: %d %s", resp.StatusCode, b)
	}
	sends := func(rs []received) []received {
		var out []received
		for _, r := range rs {
			if r.EventType == "image.send" {
				out = append(out, r)
			}
		}
		return out
	}
	download := func() {
		t.Helper()
		if resp, b := call(t, "GET", ts.URL+"/v2/images/"+img.ID+"/file", "p1", nil, nil); resp.StatusCode != 200 || !bytes.Equal(b, data) {
			t.Fatalf("download: %d, %d bytes", resp.StatusCode, len(b))
		}
	}
	download() // from S3, filling the cache
	first := sends(c.wait("the first image.send", func(rs []received) bool { return len(sends(rs)) == 1 }))[0]
	if _, ok := first.Payload["destination_ip"]; ok || first.Payload["bytes_sent"] != float64(len(data)) {
		t.Errorf("image.send from the store: %v", first.Payload)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, b := call(t, "GET", ts.URL+"/v2/cache", "admin-project", nil, nil)
		if strings.Contains(string(b), img.ID) && !strings.Contains(string(b), `"queued_images":["`+img.ID) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not cached: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	download() // from the cache
	second := sends(c.wait("the second image.send", func(rs []received) bool { return len(sends(rs)) == 2 }))[1]
	if second.Payload["destination_ip"] != "127.0.0.1" || second.Payload["bytes_sent"] != float64(len(data)) ||
		second.Payload["image_id"] != img.ID || second.Priority != "INFO" {
		t.Errorf("image.send from the cache: %s %v", second.Priority, second.Payload)
	}
}
