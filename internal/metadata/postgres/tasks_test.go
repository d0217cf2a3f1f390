package postgres_test

import (
	"testing"

	"glint/internal/metadata/tasktest"
	"glint/internal/task"
)

func TestTaskStore(t *testing.T) {
	testDSN(t)
	tasktest.Run(t, func(t *testing.T) task.Store {
		return open(t, newSchema(t))
	})
}
