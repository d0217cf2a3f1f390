package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/metadef/metadeftest"
)

func TestMetadefStore(t *testing.T) {
	metadeftest.Run(t, func(t *testing.T) metadef.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
