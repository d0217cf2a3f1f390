// Package server assembles glint from its configuration: the metadata
// store, the blob driver, the image service and the HTTP API, and runs
// them with a graceful shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"glint/internal/api"
	"glint/internal/auth"
	"glint/internal/blob/filesystem"
	"glint/internal/config"
	"glint/internal/image"
	"glint/internal/metadata/sqlite"
	"glint/internal/policy"
)

// Server is an assembled glint.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	store   *sqlite.Store
	handler http.Handler
}

// New validates cfg, opens the stores on the embedded default (SQLite and
// files under cfg.DataDir), repairs what a crash left behind, and builds
// the handler.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data-dir: %w", err)
	}
	store, err := sqlite.Open(ctx, filepath.Join(cfg.DataDir, "glint.db"))
	if err != nil {
		return nil, fmt.Errorf("opening the metadata store: %w", err)
	}
	blobs, err := filesystem.New(filepath.Join(cfg.DataDir, "images"))
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("opening the image store: %w", err)
	}
	svc := image.NewService(store, blobs, policy.New(), log, image.Options{SizeCap: cfg.SizeCap})
	if err := svc.Recover(ctx); err != nil {
		store.Close()
		return nil, fmt.Errorf("recovering after the last run: %w", err)
	}
	authn, err := authenticator(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	h := api.New(svc, authn, log, api.Options{IdleTimeout: cfg.IdleTimeout, MaxTransfers: cfg.MaxTransfers})
	return &Server{cfg: cfg, log: log, store: store, handler: h}, nil
}

func authenticator(cfg config.Config) (auth.Authenticator, error) {
	switch cfg.Auth {
	case config.AuthTrustedHeaders:
		return auth.TrustedHeaders{}, nil
	}
	return nil, fmt.Errorf("auth: unknown mode %q", cfg.Auth)
}

// Handler is the HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the stores.
func (s *Server) Close() error { return s.store.Close() }

// Run serves until ctx is cancelled, then stops accepting connections and
// lets in-flight requests (uploads included) finish for up to
// ShutdownTimeout before cutting them off. A cut-off upload returns its
// image to queued on the way out.
func (s *Server) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var inflight sync.WaitGroup
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			s.handler.ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("glint listening", "addr", ln.Addr().String(), "data_dir", s.cfg.DataDir, "auth", s.cfg.Auth)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		s.log.Warn("in-flight requests cut off at shutdown", "err", err)
		srv.Close()
	}
	// Close does not wait for handlers; let cut-off uploads restore their
	// images before the caller closes the stores.
	waitTimeout(&inflight, 30*time.Second)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
