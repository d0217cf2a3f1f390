package keymanager_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

var (
	member  = caller.Principal{UserID: "m", ProjectID: "p1", Roles: []string{"member", "reader"}}
	member2 = caller.Principal{UserID: "m2", ProjectID: "p1", Roles: []string{"member"}}
	reader  = caller.Principal{UserID: "r", ProjectID: "p1", Roles: []string{"reader"}}
	outside = caller.Principal{UserID: "o", ProjectID: "p2", Roles: []string{"member"}}
	admin2  = caller.Principal{UserID: "a", ProjectID: "p2", Roles: []string{"admin"}}
)

func newService(t *testing.T, opts keymanager.Options) (*keymanager.Service, *sqlite.Store) {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "glint.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.Key == nil {
		opts.Key = make([]byte, 32)
		rand.Read(opts.Key)
	}
	svc, err := keymanager.NewService(st, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

func binary(payload []byte) keymanager.NewSecret {
	return keymanager.NewSecret{Name: "cert", Type: keymanager.TypeCertificate, ContentType: "application/octet-stream",
		ContentEncoding: "base64", Payload: base64.StdEncoding.EncodeToString(payload)}
}

// TestAccessRules: Barbican's default rules for secrets of a project.
func TestAccessRules(t *testing.T) {
	svc, _ := newService(t, keymanager.Options{})
	ctx := t.Context()
	if _, err := svc.Create(ctx, reader, binary([]byte("x"))); !errors.Is(err, keymanager.ErrForbidden) {
		t.Errorf("a reader creates: %v, want forbidden", err)
	}
	sec, err := svc.Create(ctx, member, binary([]byte("certificate bytes")))
	if err != nil {
		t.Fatal(err)
	}
	if sec.ProjectID != "p1" || sec.CreatorID != "m" {
		t.Errorf("owner %s, creator %s", sec.ProjectID, sec.CreatorID)
	}
	for _, c := range []struct {
		name             string
		who              caller.Principal
		get, fetch, list bool
	}{
		{"the creator", member, true, true, true},
		{"another member of the project", member2, true, true, true},
		{"a reader of the project", reader, false, false, false},
		{"a member of another project", outside, false, false, true},
		{"an admin of another project", admin2, true, false, true},
	} {
		_, err := svc.Get(ctx, c.who, sec.ID)
		if (err == nil) != c.get || (err != nil && !errors.Is(err, keymanager.ErrForbidden)) {
			t.Errorf("%s gets the metadata: %v, want allowed %v", c.name, err, c.get)
		}
		got, err := svc.Fetch(ctx, c.who, sec.ID)
		if (err == nil) != c.fetch || (err == nil && string(got.Payload) != "certificate bytes") {
			t.Errorf("%s fetches the payload: %v, want allowed %v", c.name, err, c.fetch)
		}
		list, total, err := svc.List(ctx, c.who, keymanager.ListQuery{})
		if (err == nil) != c.list {
			t.Errorf("%s lists: %v, want allowed %v", c.name, err, c.list)
		}
		if err == nil && c.who.ProjectID == "p1" && (total != 1 || len(list) != 1 || list[0].ID != sec.ID) {
			t.Errorf("%s lists %d of %d", c.name, len(list), total)
		}
		if err == nil && c.who.ProjectID != "p1" && total != 0 {
			t.Errorf("%s sees another project's secrets", c.name)
		}
	}
	if err := svc.Delete(ctx, outside, sec.ID); !errors.Is(err, keymanager.ErrForbidden) {
		t.Errorf("a member of another project deletes: %v", err)
	}
	if err := svc.Delete(ctx, reader, sec.ID); !errors.Is(err, keymanager.ErrForbidden) {
		t.Errorf("a reader deletes: %v", err)
	}
	if err := svc.Delete(ctx, member2, sec.ID); err != nil {
		t.Errorf("a member deletes: %v", err)
	}
	if _, err := svc.Get(ctx, member, sec.ID); !errors.Is(err, keymanager.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
	if _, err := svc.Get(ctx, member, "not-a-uuid"); !errors.Is(err, keymanager.ErrNotFound) {
		t.Errorf("a malformed id: %v", err)
	}
}

// TestValidation: what a new secret must be, and the bounds.
func TestValidation(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clock := now
	svc, _ := newService(t, keymanager.Options{MaxPayload: 100, MaxSecrets: 3, Now: func() time.Time { return clock }})
	ctx := t.Context()
	past, soon := now.Add(-time.Minute), now.Add(time.Hour)
	for _, c := range []struct {
		name string
		in   keymanager.NewSecret
		kind error
	}{
		{"unknown type", keymanager.NewSecret{Type: "x509", Payload: "a", ContentType: "text/plain"}, keymanager.ErrInvalid},
		{"no payload", keymanager.NewSecret{ContentType: "text/plain"}, keymanager.ErrInvalid},
		{"no content type", keymanager.NewSecret{Payload: "a"}, keymanager.ErrInvalid},
		{"unknown content type", keymanager.NewSecret{Payload: "a", ContentType: "image/png"}, keymanager.ErrInvalid},
		{"binary without base64", keymanager.NewSecret{Payload: "a", ContentType: "application/octet-stream"}, keymanager.ErrInvalid},
		{"bad base64", keymanager.NewSecret{Payload: "!!", ContentType: "application/octet-stream", ContentEncoding: "base64"}, keymanager.ErrInvalid},
		{"expired already", keymanager.NewSecret{Payload: "a", ContentType: "text/plain", Expiration: &past}, keymanager.ErrInvalid},
		{"long name", keymanager.NewSecret{Name: strings.Repeat("n", 256), Payload: "a", ContentType: "text/plain"}, keymanager.ErrInvalid},
		{"payload too large", binary(make([]byte, 101)), keymanager.ErrTooLarge},
		{"encoded payload far too large", keymanager.NewSecret{Payload: strings.Repeat("a", 1000), ContentType: "text/plain"}, keymanager.ErrTooLarge},
	} {
		if _, err := svc.Create(ctx, member, c.in); !errors.Is(err, c.kind) {
			t.Errorf("%s: %v, want %v", c.name, err, c.kind)
		}
	}
	text, err := svc.Create(ctx, member, keymanager.NewSecret{Payload: "pass phrase", ContentType: "text/plain; charset=utf-8", Expiration: &soon})
	if err != nil || text.Type != keymanager.TypeOpaque || text.ContentType != "text/plain" {
		t.Fatalf("text secret: %+v %v", text, err)
	}
	for range 2 {
		if _, err := svc.Create(ctx, member, binary(make([]byte, 100))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Create(ctx, member, binary([]byte("x"))); !errors.Is(err, keymanager.ErrQuota) {
		t.Errorf("past the project's secrets: %v", err)
	}
	if _, err := svc.Create(ctx, outside, binary([]byte("x"))); err != nil {
		t.Errorf("another project is not counted: %v", err)
	}
	clock = soon.Add(time.Second) // the text secret expires
	if _, err := svc.Fetch(ctx, member, text.ID); !errors.Is(err, keymanager.ErrNotFound) {
		t.Errorf("an expired secret: %v, want not found", err)
	}
	if _, total, _ := svc.List(ctx, member, keymanager.ListQuery{}); total != 2 {
		t.Errorf("listing counts expired secrets: %d", total)
	}
}

// TestSealed: payloads are sealed at rest and open only with the key.
func TestSealed(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	svc, st := newService(t, keymanager.Options{Key: key})
	payload := []byte("-----BEGIN CERTIFICATE----- plain text -----END CERTIFICATE-----")
	sec, err := svc.Create(t.Context(), member, binary(payload))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetSecret(t.Context(), sec.ID)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw.Payload, []byte("plain text")) || len(raw.Payload) <= len(payload) {
		t.Fatalf("payload stored in the clear: %q", raw.Payload)
	}
	other := make([]byte, 32)
	rand.Read(other)
	wrong, err := keymanager.NewService(st, keymanager.Options{Key: other})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.Fetch(t.Context(), member, sec.ID); err == nil {
		t.Fatal("a payload opened with another key")
	}
	if got, err := svc.Fetch(t.Context(), member, sec.ID); err != nil || !bytes.Equal(got.Payload, payload) {
		t.Fatalf("Fetch: %q %v", got.Payload, err)
	}
}
