package postgres_test

import (
	"testing"

	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/keymanager/keymanagertest"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/postgres/pgtest"
)

// TestSecretStore runs the key manager's conformance suite, each case in
// a schema of its own.
func TestSecretStore(t *testing.T) {
	pgtest.DSN(t)
	keymanagertest.Run(t, func(t *testing.T) keymanager.Store {
		s, err := postgres.Open(t.Context(), pgtest.Schema(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
