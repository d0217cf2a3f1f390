// Package testenv decides what a test does when a service or tool it
// needs is not configured: on a developer's machine it skips, so
// `go test ./...` runs what it can; in CI (CI=true, which .ci/run sets)
// it fails, because there a skipped suite would pass for tested.
package testenv

import (
	"os"
	"testing"
)

// Missing skips t, or fails it under CI=true, saying what is missing.
func Missing(t testing.TB, what string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: nothing may be skipped)", what)
	}
	t.Skip(what)
}
