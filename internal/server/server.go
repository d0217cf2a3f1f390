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
	"strings"
	"sync"
	"time"

	"github.com/glint-image/glint/internal/api"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/dashboard"
	"github.com/glint-image/glint/internal/diskformat"
	"github.com/glint-image/glint/internal/health"
	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/imagecache"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/metrics"
	"github.com/glint-image/glint/internal/policy"
	"github.com/glint-image/glint/internal/task"
)

// Server is an assembled glint.
type Server struct {
	cfg     config.Config
	log     *slog.Logger
	svc     *image.Service
	cache   *imagecache.Cache // nil when this node has no image cache
	closers []func() error
	handler http.Handler
	// metrics is nil unless a metrics listener is configured; health
	// answers /healthcheck (operations.go).
	metrics *metrics.Metrics
	health  *health.Checker
	policy  *policy.Reloadable
}

// ReloadPolicy re-reads the policy file (SIGHUP); on error the rules in
// force stay.
func (s *Server) ReloadPolicy() error { return s.policy.Reload() }

// recoverEvery is how often a node of a multi-node deployment looks for
// uploads abandoned by a dead node; strandedAfter is how long an upload's
// heartbeat (one a minute) must be silent before it counts as abandoned.
const (
	recoverEvery = time.Minute
	// sweepPartialsEvery is how often expired partial uploads are
	// looked for; they are kept at least a minute (limits.resume_ttl).
	sweepPartialsEvery = 5 * time.Minute
	strandedAfter      = 5 * time.Minute
)

// New validates cfg, opens the metadata store and the image stores,
// repairs what a crash left behind, and builds the handler.
func New(ctx context.Context, cfg config.Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	s := &Server{cfg: cfg, log: log}
	if err := s.build(ctx); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

func (s *Server) build(ctx context.Context) error {
	cfg := s.cfg
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data-dir: %w", err)
	}
	records, err := s.openMetadata(ctx)
	if err != nil {
		return err
	}
	checkPermissions(s.log, cfg.DataDir)
	stores, infos, err := openStores(ctx, cfg)
	if err != nil {
		return err
	}
	if err := s.instrument(records, stores); err != nil {
		return err
	}
	records, events, err := s.notifications(records)
	if err != nil {
		return err
	}
	// Timed outermost: an operation's latency includes the notification
	// its transaction writes.
	records = s.metrics.Records(records)
	if err := image.ValidateLimits(cfg.Quotas); err != nil {
		return fmt.Errorf("quotas: %w", err)
	}
	opts := image.Options{SizeCap: cfg.SizeCap, ResumeTTL: cfg.ResumeTTL, DefaultLimits: cfg.Quotas, ShowMultipleLocations: cfg.ShowMultipleLocations,
		Formats: diskformat.Policy{VMDKAllowedTypes: cfg.ImageFormat.VMDKAllowedTypes, AllowMismatch: cfg.ImageFormat.AllowMismatch}}
	if cfg.Metadata.Driver != "sqlite" {
		// A shared database means other nodes may be mid-upload.
		opts.StrandedAfter = strandedAfter
	}
	authz, err := policy.NewReloadable(policy.Options{NewDefaults: cfg.PolicyNewDefaults, File: cfg.PolicyFile})
	if err != nil {
		return err
	}
	s.policy = authz
	var runner *task.Runner
	if opts.Import, runner, err = s.importOptions(records, stores); err != nil {
		return err
	}
	if opts.Cache, err = s.openCache(stores); err != nil {
		return err
	}
	s.cache = opts.Cache
	if s.cache != nil {
		if err := s.metrics.Register(metrics.NewCache(s.cache.Stats)); err != nil {
			return err
		}
	}
	s.svc, err = image.NewService(records, stores, authz, s.log, opts)
	if err != nil {
		return err
	}
	if err := s.svc.Recover(ctx); err != nil {
		return fmt.Errorf("recovering after the last run: %w", err)
	}
	if opts.Cache != nil {
		opts.Cache.StartPrefetcher(s.svc.CacheSource)
	}
	// Import tasks run in the background from now on, on every node;
	// Close stops them before the stores close.
	runner.Start(s.svc)
	s.closers = append(s.closers, func() error {
		stopCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		runner.Stop(stopCtx)
		return nil
	})
	ident, err := s.identity(ctx, records)
	if err != nil {
		return err
	}
	catalog, err := s.metadefs(ctx, records, authz)
	if err != nil {
		return err
	}
	images := api.New(s.svc, ident.authn, s.log, api.Options{IdleTimeout: cfg.IdleTimeout, MaxTransfers: cfg.MaxTransfers,
		MultiStore: cfg.MultiStore(), Stores: infos, AuthURI: ident.authURI, Metadefs: catalog, Observer: s.observed(),
		Events: events, ShowDirectURL: cfg.ShowImageDirectURL, ShowMultipleLocations: cfg.ShowMultipleLocations,
		Cache: opts.Cache != nil})
	dash, err := s.dashboard(images.InProcess(), ident)
	if err != nil {
		return err
	}
	if ident.api == nil && dash == nil {
		s.handler = s.front(images, ident.authn)
		return nil
	}
	// The identity API and the dashboard go first: the image API answers
	// every other unknown path with its version list.
	mux := http.NewServeMux()
	var root http.Handler = images
	if ident.api != nil {
		mux.Handle(identity.PathPrefix+"/", http.StripPrefix(identity.PathPrefix, ident.api))
		mux.Handle(identity.PathPrefix, http.StripPrefix(identity.PathPrefix, ident.api))
	}
	if dash != nil {
		mux.Handle(dashboard.Prefix, dash)
		mux.Handle(strings.TrimSuffix(dashboard.Prefix, "/"), dash)
		root = dashboard.RedirectBrowsers(images)
	}
	mux.Handle("/", root)
	s.handler = s.front(mux, ident.authn)
	return nil
}

// metadefs builds the catalog service, loading the shipped definitions
// into a catalog that never had them.
func (s *Server) metadefs(ctx context.Context, st metadef.Store, authz metadef.Authorizer) (*metadef.Service, error) {
	seeded, err := metadef.SeedShipped(ctx, st, time.Now())
	if err != nil {
		return nil, fmt.Errorf("loading the shipped metadata definitions: %w", err)
	}
	if seeded {
		s.log.Info("loaded the shipped metadata definitions")
	}
	return metadef.NewService(st, authz, s.log, metadef.Options{}), nil
}

// openMetadata opens the record store the configuration names.
func (s *Server) openMetadata(ctx context.Context) (Records, error) {
	st, _, err := OpenRecords(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	s.closers = append(s.closers, st.Close)
	return st, nil
}

// Handler is the HTTP handler, for tests that serve it themselves.
func (s *Server) Handler() http.Handler { return s.handler }

// Close releases the stores.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

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
	limits := newPending(s.cfg.MaxPending, s.cfg.BodyTimeout)
	bounded := limits.wrap(s.handler)
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			inflight.Add(1)
			defer inflight.Done()
			bounded.ServeHTTP(w, r)
		}),
		ConnContext:       limits.connContext,
		ConnState:         limits.connState,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	s.log.Info("glint listening", "addr", ln.Addr().String(), "data_dir", s.cfg.DataDir, "auth", s.cfg.Auth)
	stopMetrics, err := s.serveMetrics(ctx)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if s.cfg.Metadata.Driver != "sqlite" {
		go s.recoverLoop(ctx)
	}
	go s.sweepPartialsLoop(ctx)
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

// sweepPartialsLoop discards expired partial uploads (resumable uploads
// nobody resumed), on every node, until ctx ends.
func (s *Server) sweepPartialsLoop(ctx context.Context) {
	t := time.NewTicker(sweepPartialsEvery)
	defer t.Stop()
	for {
		if err := s.svc.SweepPartials(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("discarding expired partial uploads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recoverLoop frees uploads abandoned by dead nodes, until ctx ends.
func (s *Server) recoverLoop(ctx context.Context) {
	t := time.NewTicker(recoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.svc.Recover(ctx); err != nil && ctx.Err() == nil {
				s.log.Error("recovering abandoned uploads", "err", err)
			}
		}
	}
}
