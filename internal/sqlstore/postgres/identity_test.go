package postgres_test

import (
	"testing"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/identity/identitytest"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// TestIdentityStore runs the identity conformance suite, each case in a
// schema of its own.
func TestIdentityStore(t *testing.T) {
	pgtest.DSN(t) // skip once here rather than in every case
	identitytest.Run(t, func(t *testing.T) identity.Store {
		s, err := postgres.Open(t.Context(), pgtest.Schema(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
