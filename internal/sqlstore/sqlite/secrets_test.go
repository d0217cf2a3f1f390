package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/keymanager/keymanagertest"
)

func TestSecretStore(t *testing.T) {
	keymanagertest.Run(t, func(t *testing.T) keymanager.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
