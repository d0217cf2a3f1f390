package postgres_test

import (
	"testing"

	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/metadef/metadeftest"
)

func TestMetadefStore(t *testing.T) {
	testDSN(t) // skip once here rather than in every case
	metadeftest.Run(t, func(t *testing.T) metadef.Store {
		return open(t, newSchema(t))
	})
}
