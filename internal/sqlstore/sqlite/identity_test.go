package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/identity/identitytest"
)

func TestIdentityStore(t *testing.T) {
	identitytest.Run(t, func(t *testing.T) identity.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
