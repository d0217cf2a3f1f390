package notify

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/image"
)

func benchImage() *image.Image {
	name, disk, container, owner := "cirros-0.6.2", "qcow2", "bare", "0f1b2c3d4e5f60718293a4b5c6d7e8f9"
	size := int64(21430272)
	now := time.Date(2026, 12, 5, 17, 0, 0, 123456000, time.UTC)
	return &image.Image{ID: "3f8e2a10-7c4b-4d2e-9a51-0b6c8d7e5f42", Name: &name, Status: image.StatusActive,
		Visibility: image.VisibilityShared, DiskFormat: &disk, ContainerFormat: &container, Owner: &owner, Size: &size,
		Checksum: "443b7623e27ecf03dc9e01ee93f67afe", CreatedAt: now, UpdatedAt: now,
		Properties: map[string]string{"os_distro": "cirros", "os_version": "0.6.2", "hw_disk_bus": "virtio",
			"description": `A "small" image <for tests> & benchmarks\u2028`},
		Tags: []string{"bench", "t7"}}
}

// TestMessageEnvelope checks the envelope against oslo.messaging's v2
// format: a JSON object whose oslo.message is the message as a JSON
// string, decoding to the fields and payload given.
func TestMessageEnvelope(t *testing.T) {
	n := NewNotifier("image.testhost", nil)
	m, ok, err := n.Message("image.update", Info, imageOf(benchImage()))
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var env map[string]any
	if err := json.Unmarshal(m.Body, &env); err != nil {
		t.Fatalf("body %s: %v", m.Body, err)
	}
	if len(env) != 2 || env["oslo.version"] != "2.0" {
		t.Fatalf("envelope %v", env)
	}
	var msg struct {
		MessageID   string `json:"message_id"`
		PublisherID string `json:"publisher_id"`
		EventType   string `json:"event_type"`
		Priority    string `json:"priority"`
		Payload     imagePayload
		Timestamp   string `json:"timestamp"`
		UniqueID    string `json:"_unique_id"`
	}
	if err := json.Unmarshal([]byte(env["oslo.message"].(string)), &msg); err != nil {
		t.Fatal(err)
	}
	want := imageOf(benchImage())
	if msg.PublisherID != "image.testhost" || msg.EventType != "image.update" || msg.Priority != "INFO" ||
		len(msg.MessageID) != 36 || len(msg.UniqueID) != 32 || strings.Contains(msg.UniqueID, "-") ||
		msg.MessageID[14] != '4' || len(msg.Timestamp) != 26 {
		t.Errorf("message %+v", msg)
	}
	if msg.Payload.Properties["description"] != want.Properties["description"] || *msg.Payload.Name != *want.Name ||
		msg.Payload.UpdatedAt != "2026-12-05T17:00:00Z" || len(msg.Payload.Tags) != 2 {
		t.Errorf("payload %+v", msg.Payload)
	}
	// The envelope is exactly encoding/json's.
	if want, _ := json.Marshal(envelope{Version: "2.0", Message: env["oslo.message"].(string)}); string(want) != string(m.Body) {
		t.Errorf("envelope\n got %s\nwant %s", m.Body, want)
	}
	m2, _, _ := n.Message("image.update", Info, imageOf(benchImage()))
	_, _, _, id2, _ := Decode(m2.Body)
	if id2 == msg.MessageID {
		t.Error("two messages share a message_id")
	}
}

// BenchmarkMessage is the encoding of one image notification, which every
// write with notifications on pays.
func BenchmarkMessage(b *testing.B) {
	n := NewNotifier("image.testhost", nil)
	img := benchImage()
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		if _, _, err := n.Message("image.update", Info, imageOf(img)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time this process has used: on a shared machine it
// says more than the wall clock.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
