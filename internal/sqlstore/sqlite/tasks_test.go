package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/task/tasktest"
)

func TestTaskStore(t *testing.T) {
	tasktest.Run(t, func(t *testing.T) task.Store {
		s := open(t, filepath.Join(t.TempDir(), "glint.db"))
		t.Cleanup(func() { s.Close() })
		return s
	})
}
