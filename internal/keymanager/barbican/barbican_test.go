package barbican

import (
	"net/http"
	"testing"
	"time"
)

// TestRetryAfter: both forms RFC 9110 allows are read; what is absent,
// malformed or past asks for no particular wait.
func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 5, 23, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"":     0,
		"0":    0,
		"1":    time.Second,
		"120":  2 * time.Minute,
		"-3":   0,
		"soon": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Minute).Format(http.TimeFormat):     0,
	} {
		if got := retryAfter(h, now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", h, got, want)
		}
	}
}
