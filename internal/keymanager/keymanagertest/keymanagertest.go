// Package keymanagertest is the conformance suite of keymanager.Store:
// every implementation (SQLite, PostgreSQL) runs it.
package keymanagertest

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/keymanager"
)

// Run runs the suite; open returns a fresh, empty store for each case.
func Run(t *testing.T, open func(t *testing.T) keymanager.Store) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 123456000, time.UTC)
	secret := func(id, project string, at time.Time) *keymanager.Secret {
		return &keymanager.Secret{ID: id, ProjectID: project, CreatorID: "u-" + project, Name: "cert " + id,
			Type: keymanager.TypeCertificate, Algorithm: "RSA", BitLength: 2048, Mode: "", ContentType: "application/octet-stream",
			Payload: []byte{0, 1, 2, 0xff, 'x'}, CreatedAt: at, UpdatedAt: at}
	}

	t.Run("CreateGetDelete", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		exp := t0.Add(48 * time.Hour)
		in := secret("11111111-1111-4111-8111-111111111111", "p1", t0)
		in.Expiration = &exp
		if err := st.CreateSecret(ctx, in); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		if err := st.CreateSecret(ctx, in); !errors.Is(err, keymanager.ErrConflict) {
			t.Fatalf("CreateSecret twice: %v, want ErrConflict", err)
		}
		got, err := st.GetSecret(ctx, in.ID)
		if err != nil {
			t.Fatalf("GetSecret: %v", err)
		}
		if !bytes.Equal(got.Payload, in.Payload) || got.Name != in.Name || got.Type != in.Type || got.BitLength != 2048 ||
			got.ProjectID != "p1" || got.CreatorID != "u-p1" || got.ContentType != in.ContentType || got.Algorithm != "RSA" ||
			!got.CreatedAt.Equal(t0) || got.Expiration == nil || !got.Expiration.Equal(exp) {
			t.Fatalf("GetSecret = %+v, want %+v", got, in)
		}
		if err := st.DeleteSecret(ctx, in.ID); err != nil {
			t.Fatalf("DeleteSecret: %v", err)
		}
		if _, err := st.GetSecret(ctx, in.ID); !errors.Is(err, keymanager.ErrNotFound) {
			t.Fatalf("GetSecret after delete: %v, want ErrNotFound", err)
		}
		if err := st.DeleteSecret(ctx, in.ID); !errors.Is(err, keymanager.ErrNotFound) {
			t.Fatalf("DeleteSecret twice: %v, want ErrNotFound", err)
		}
	})

	t.Run("List", func(t *testing.T) {
		st := open(t)
		ctx := t.Context()
		for i := range 5 {
			s := secret(fmt.Sprintf("22222222-2222-4222-8222-%012d", i), "p1", t0.Add(time.Duration(i)*time.Second))
			if i == 3 {
				past := t0.Add(-time.Hour)
				s.Expiration = &past
				s.Type = keymanager.TypeOpaque
			}
			if err := st.CreateSecret(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if err := st.CreateSecret(ctx, secret("33333333-3333-4333-8333-333333333333", "p2", t0)); err != nil {
			t.Fatal(err)
		}
		page, total, err := st.ListSecrets(ctx, keymanager.ListQuery{ProjectID: "p1", Limit: 2, Offset: 1})
		if err != nil {
			t.Fatal(err)
		}
		if total != 5 || len(page) != 2 || page[0].ID[len(page[0].ID)-1] != '1' || page[1].ID[len(page[1].ID)-1] != '2' {
			t.Fatalf("page = %v (total %d), want secrets 1 and 2 of 5", ids(page), total)
		}
		if page[0].Payload != nil {
			t.Fatal("a listing carries payloads")
		}
		now := t0
		page, total, err = st.ListSecrets(ctx, keymanager.ListQuery{ProjectID: "p1", NotExpired: &now, Limit: 10})
		if err != nil || total != 4 || len(page) != 4 {
			t.Fatalf("not expired: %v (total %d, %v), want 4", ids(page), total, err)
		}
		page, total, err = st.ListSecrets(ctx, keymanager.ListQuery{ProjectID: "p1", Type: keymanager.TypeOpaque, Limit: 10})
		if err != nil || total != 1 || len(page) != 1 {
			t.Fatalf("by type: %v (total %d, %v), want 1", ids(page), total, err)
		}
		page, total, err = st.ListSecrets(ctx, keymanager.ListQuery{ProjectID: "p1", Name: "cert 22222222-2222-4222-8222-000000000004", Limit: 10})
		if err != nil || total != 1 || len(page) != 1 {
			t.Fatalf("by name: %v (total %d, %v), want 1", ids(page), total, err)
		}
		page, total, err = st.ListSecrets(ctx, keymanager.ListQuery{ProjectID: "p3", Limit: 10})
		if err != nil || total != 0 || len(page) != 0 {
			t.Fatalf("other project: %v (total %d, %v), want none", ids(page), total, err)
		}
	})
}

func ids(ss []*keymanager.Secret) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}
