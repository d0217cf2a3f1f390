package postgres_test

import (
	"testing"

	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/task/tasktest"
)

func TestTaskStore(t *testing.T) {
	testDSN(t)
	tasktest.Run(t, func(t *testing.T) task.Store {
		return open(t, newSchema(t))
	})
}
