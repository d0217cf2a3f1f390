// Package notify emits the notifications Glance emits (image.*, image.member.*,
// task.*), with Glance's payloads in oslo.messaging's v2 envelope, to
// RabbitMQ on Glance's exchange and topic, so Ceilometer, billing and
// auditing consumers read glint as they read Glance.
//
// Beyond Glance, a notification is never sent from the request: it is
// written to an outbox table by the same database transaction as the
// change it reports (see Store), and a Relay publishes the outbox with
// publisher confirms, deleting only what the broker confirmed. A broker
// outage or a crash therefore loses nothing and delays no request;
// delivery is at least once (a crash between the broker's confirm and the
// delete sends a message again, with the same message_id).
package notify

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/glint-image/glint/internal/sqlstore"
)

// Priorities, as oslo.messaging names them.
const (
	Info  = "INFO"
	Error = "ERROR"
)

// Notifier turns events into outbox messages: it knows the publisher id
// and which events are disabled.
type Notifier struct {
	publisherID string
	disabled    map[string]bool
	off         bool
	now         func() time.Time
	// wake is poked after a notification is written, so the relay of this
	// node publishes at once instead of at its next tick.
	wake chan struct{}
}

// NewNotifier returns a notifier. disabled holds event types
// ("image.create") or groups ("image", "task", "metadef_tag"): as in
// Glance, a group is the text before the first dot, so "image" also
// disables image.member.*, and "image.member" matches nothing.
func NewNotifier(publisherID string, disabled []string) *Notifier {
	n := &Notifier{publisherID: publisherID, disabled: map[string]bool{}, now: time.Now, wake: make(chan struct{}, 1)}
	for _, d := range disabled {
		n.disabled[strings.TrimSpace(d)] = true
	}
	return n
}

// Off turns every event off (the decorators then only count tasks).
func (n *Notifier) Off() *Notifier {
	n.off = true
	return n
}

// Enabled reports whether eventType is sent (Glance's
// _is_notification_enabled).
func (n *Notifier) Enabled(eventType string) bool {
	if n.off || n.disabled[eventType] {
		return false
	}
	group, _, _ := strings.Cut(eventType, ".")
	return !n.disabled[group]
}

// poke wakes the relay without blocking.
func (n *Notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// message is oslo.messaging's notification message.
type message struct {
	MessageID   string `json:"message_id"`
	PublisherID string `json:"publisher_id"`
	EventType   string `json:"event_type"`
	Priority    string `json:"priority"`
	Payload     any    `json:"payload"`
	Timestamp   string `json:"timestamp"`
	UniqueID    string `json:"_unique_id"`
}

// envelope is oslo.messaging's v2 wire format: the message as a JSON
// string inside an object that names the version.
type envelope struct {
	Version string `json:"oslo.version"`
	Message string `json:"oslo.message"`
}

// Message builds the outbox entry of one event, or false when the event
// type is disabled.
func (n *Notifier) Message(eventType, priority string, payload any) (sqlstore.OutboxMessage, bool, error) {
	if !n.Enabled(eventType) {
		return sqlstore.OutboxMessage{}, false, nil
	}
	now := n.now().UTC()
	messageID, uniqueID := newIDs()
	inner, err := json.Marshal(message{MessageID: messageID, PublisherID: n.publisherID, EventType: eventType,
		Priority: priority, Payload: payload, Timestamp: now.Format("2006-01-02 15:04:05.000000"), UniqueID: uniqueID})
	if err != nil {
		return sqlstore.OutboxMessage{}, false, err
	}
	return sqlstore.OutboxMessage{EventType: eventType, Priority: priority, Body: wrap(inner), CreatedAt: now}, true, nil
}

// wrap puts an encoded message into the v2 envelope. It is what
// json.Marshal(envelope{...}) writes, without encoding the message a
// second time through reflection: the message is encoding/json's output,
// which has no control characters and no raw U+2028/U+2029, so quoting it
// means escaping its quotes and backslashes only.
func wrap(inner []byte) []byte {
	const head, tail = `{"oslo.version":"2.0","oslo.message":"`, `"}`
	escapes := bytes.Count(inner, []byte{'"'}) + bytes.Count(inner, []byte{'\\'})
	out := make([]byte, 0, len(head)+len(inner)+escapes+len(tail))
	out = append(out, head...)
	for _, c := range inner {
		if c == '"' || c == '\\' {
			out = append(out, '\\')
		}
		out = append(out, c)
	}
	return append(out, tail...)
}

// newIDs returns a message_id (a random UUID) and a _unique_id (a random
// UUID's hex), as oslo.messaging makes them, from one read of the random
// source.
func newIDs() (messageID, uniqueID string) {
	var buf [32]byte
	rand.Read(buf[:]) // never fails (crypto/rand)
	for _, u := range [][]byte{buf[:16], buf[16:]} {
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	}
	return uuid.UUID(buf[:16]).String(), hex.EncodeToString(buf[16:])
}

// Decode reads a published body back: the envelope, then the message.
// Consumers in tests, and glint's tools, use it.
func Decode(body []byte) (eventType, priority string, payload json.RawMessage, messageID string, err error) {
	var env envelope
	if err = json.Unmarshal(body, &env); err != nil {
		return
	}
	var m struct {
		MessageID string          `json:"message_id"`
		EventType string          `json:"event_type"`
		Priority  string          `json:"priority"`
		Payload   json.RawMessage `json:"payload"`
	}
	if err = json.Unmarshal([]byte(env.Message), &m); err != nil {
		return
	}
	return m.EventType, m.Priority, m.Payload, m.MessageID, nil
}
