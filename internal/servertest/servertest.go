// Package servertest runs glint's whole server in a test's process: the
// server that `glint serve` builds (server.New), behind an httptest
// server on loopback, for the tests that drive glint over HTTP (its
// clients, the dashboard, the CLIs, nodes of a scaled-out deployment).
package servertest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

// Server is a glint server serving its API on loopback.
type Server struct {
	*httptest.Server                // the API's listener (URL)
	Glint            *server.Server // for its other handlers and its counters
}

// Start builds the server of cfg, its log discarded, and serves its API
// until t ends, when both are closed. A server that cannot be built
// fails t.
func Start(t testing.TB, cfg config.Config) *Server {
	t.Helper()
	srv, err := server.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("closing the server: %v", err)
		}
	})
	return &Server{Server: ts, Glint: srv}
}
