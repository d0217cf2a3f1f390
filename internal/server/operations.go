package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/glint-image/glint/internal/auth"
	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/health"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/metrics"
	"github.com/glint-image/glint/internal/sqlstore"
)

// sqlRecords is what the SQL record stores offer operations: transaction
// timing, pool statistics, catalog counts and a ping.
type sqlRecords interface {
	Observe(o sqlstore.TxObserver)
	Pools() (w, r *sql.DB)
	ImageCounts(ctx context.Context) ([]sqlstore.Count, error)
	TaskCounts(ctx context.Context) ([]sqlstore.Count, error)
	Ping(ctx context.Context) error
}

// instrument sets up metrics (when a metrics listener is configured) on
// the record store and the image stores, and the health checker.
func (s *Server) instrument(records any, stores image.Stores) error {
	if s.cfg.MetricsListen != "" {
		s.metrics = metrics.New()
	}
	var probes []health.Probe
	if rs, ok := records.(sqlRecords); ok {
		probes = append(probes, health.Probe{Name: "database", Check: rs.Ping})
		if s.metrics != nil {
			rs.Observe(s.metrics)
			w, r := rs.Pools()
			cs := []prometheus.Collector{collectors.NewDBStatsCollector(w, "writer"),
				metrics.NewCatalog(rs.ImageCounts, rs.TaskCounts, s.log)}
			if r != w {
				cs = append(cs, collectors.NewDBStatsCollector(r, "reader"))
			}
			for _, c := range cs {
				if err := s.metrics.Register(c); err != nil {
					return err
				}
			}
		}
	}
	for id, d := range stores.Drivers {
		probes = append(probes, health.Probe{Name: "store " + id, Check: storeProbe(d)})
		stores.Drivers[id] = s.metrics.Driver(id, d)
	}
	if refs, ok := records.(image.DataRefs); ok && s.metrics != nil {
		err := s.metrics.Register(metrics.NewStorage(func(ctx context.Context) ([]image.StoreUsage, error) {
			return image.StorageUsage(ctx, refs, stores)
		}, s.log))
		if err != nil {
			return err
		}
	}
	if s.cfg.Auth == "keystone" {
		probes = append(probes, health.Probe{Name: "identity", Check: urlProbe(s.cfg.Keystone.URL)})
	}
	s.health = health.New(s.cfg.DisableByFilePath, probes...)
	return nil
}

// storeProbe asks a store about a key that never exists: an answer of
// "not found" shows the store reachable.
func storeProbe(d blob.Driver) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		_, err := d.Stat(ctx, "glint-healthcheck-probe")
		if err == nil || errors.Is(err, blob.ErrNotFound) {
			return nil
		}
		return err
	}
}

// urlProbe checks that a service answers its URL with anything but a
// server error.
func urlProbe(url string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			return fmt.Errorf("answered %d", resp.StatusCode)
		}
		return nil
	}
}

// observed is the API's request observer: metrics, or none. (A nil
// *metrics.Metrics in an interface would not compare equal to nil.)
func (s *Server) observed() (o interface {
	ObserveRequest(route, method string, status int, d time.Duration)
	QuotaRefused(quota string)
}) {
	if s.metrics == nil {
		return nil
	}
	return s.metrics
}

// tokenCache counts token cache lookups by source, or nil without metrics.
func (s *Server) tokenCache(source string) func(bool) {
	if s.metrics == nil {
		return nil
	}
	return func(hit bool) { s.metrics.TokenCache(source, hit) }
}

// front puts what answers before the API around h: the health check
// (no token needed, as in Glance's pipeline), and, with metrics, the
// in-flight gauge and the admin-only detailed check.
func (s *Server) front(h http.Handler, authn auth.Authenticator) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(health.Path+"/detail", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := authn.Authenticate(r.Context(), r)
		if err != nil || !p.IsAdmin() {
			// Not a resource anyone else may know about.
			h.ServeHTTP(w, r)
			return
		}
		s.health.Detailed(w, r)
	}))
	mux.Handle("/", h)
	next := s.health.Middleware(mux)
	if s.cfg.MetricsListen == s.cfg.Listen && s.metrics != nil {
		inner := next
		next = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/metrics" {
				s.metrics.Handler().ServeHTTP(w, r)
				return
			}
			inner.ServeHTTP(w, r)
		})
	}
	if s.metrics == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.metrics.InFlight(1)
		defer s.metrics.InFlight(-1)
		next.ServeHTTP(w, r)
	})
}

// MetricsHandler serves what the metrics listener answers: /metrics,
// /healthcheck and /healthcheck/detail (no token: the listener is for
// operators, on loopback unless asked).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	if s.metrics != nil {
		mux.Handle("/metrics", s.metrics.Handler())
	}
	mux.Handle(health.Path, s.health)
	mux.HandleFunc(health.Path+"/detail", s.health.Detailed)
	return mux
}

// serveMetrics runs the metrics listener until ctx ends, unless it is the
// API's own address (then front serves /metrics).
func (s *Server) serveMetrics(ctx context.Context) (stop func(), err error) {
	if s.cfg.MetricsListen == "" || s.cfg.MetricsListen == s.cfg.Listen {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics listen: %w", err)
	}
	srv := &http.Server{Handler: s.MetricsHandler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
		MaxHeaderBytes: 16 << 10, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	s.log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics listener stopped", "err", err)
		}
	}()
	return func() { srv.Close() }, nil
}
