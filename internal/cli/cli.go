// Package cli is glint's command tree. cmd/glint only calls Main.
package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/imagecli"
	"github.com/glint-image/glint/internal/manager"
	"github.com/glint-image/glint/internal/server"
)

// Main runs the command line and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "glint",
		Short:         "glint: an OpenStack Image API v2 service",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCommand(stderr), adminCommand(stdout), policyCommand(stdout), imagecli.Command(stdout, stderr),
		benchCommand(stdout, stderr))
	root.AddCommand(manager.Command(stdout, stderr))
	if err := root.Execute(); err != nil {
		fmt.Fprintln(stderr, "glint:", err)
		return 1
	}
	return 0
}

func serveCommand(stderr io.Writer) *cobra.Command {
	cfg := config.Default()
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Image API (SQLite and local files under --data-dir by default)",
		Args:  cobra.NoArgs,
	}
	f := cmd.Flags()
	var configFile string
	f.StringVar(&configFile, "config", "", "YAML configuration file (GLINT_CONFIG); flags and GLINT_* variables override it")
	f.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory for the database and image data (GLINT_DATA_DIR)")
	f.StringVar(&cfg.Listen, "listen", cfg.Listen, "address to listen on, host:port (GLINT_LISTEN)")
	f.StringVar(&cfg.Auth, "auth", cfg.Auth, "how callers are identified (GLINT_AUTH): builtin (glint's own users and tokens under /identity), "+
		"keystone (tokens validated by the Keystone in the config file's keystone:), "+
		"trusted-headers (X-Project-Id/X-Roles believed as sent: tests or behind an authenticating proxy only)")
	f.BoolVar(&cfg.AllowRemoteTrustedHeaders, "allow-remote-trusted-headers", false,
		"with --auth trusted-headers, allow a non-loopback --listen (only behind an authenticating proxy)")
	f.Int64Var(&cfg.SizeCap, "size-cap", cfg.SizeCap, "largest image accepted, in bytes (GLINT_SIZE_CAP)")
	f.IntVar(&cfg.MaxTransfers, "max-transfers", cfg.MaxTransfers, "concurrent uploads and downloads")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", cfg.IdleTimeout, "cut off a transfer stalled this long")
	f.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", cfg.ShutdownTimeout, "grace period for in-flight requests on SIGTERM/SIGINT")
	f.StringVar(&cfg.PolicyFile, "policy-file", "", "oslo.policy YAML or JSON file overriding rules (GLINT_POLICY_FILE)")
	f.BoolVar(&cfg.PolicyNewDefaults, "policy-new-defaults", false, "use the project-scoped reader/member/admin defaults instead of the Zed legacy ones")
	f.StringVar(&cfg.LogLevel, "log-level", cfg.LogLevel, "debug, info, warn or error (GLINT_LOG_LEVEL)")
	f.BoolVar(&cfg.NoDashboard, "no-dashboard", false, "do not serve the web dashboard under /dashboard/")
	f.StringVar(&cfg.MetricsListen, "metrics-listen", "", "serve Prometheus /metrics and the detailed health check on host:port (GLINT_METRICS_LISTEN; off by default)")
	f.StringVar(&cfg.LogFormat, "log-format", cfg.LogFormat, "auto (text on a terminal, JSON otherwise), text or json (GLINT_LOG_FORMAT)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		reload := func() (string, bool) {
			again, err := loadConfig(configFile, cmd, &cfg)
			return again.LogLevel, err == nil
		}
		return serve(cmd.Context(), final, stderr, reload)
	}
	return cmd
}

// loadConfig layers the configuration: defaults, then the file, then
// GLINT_* variables, then the flags given on the command line.
func loadConfig(file string, cmd *cobra.Command, flags *config.Config) (config.Config, error) {
	final := config.Default()
	if file == "" {
		file = os.Getenv("GLINT_CONFIG")
	}
	if file != "" {
		if err := final.LoadFile(file); err != nil {
			return final, err
		}
	}
	if err := final.ApplyEnv(os.Getenv); err != nil {
		return final, err
	}
	cmd.Flags().Visit(func(fl *pflagFlag) { copyFlag(&final, flags, fl.Name) })
	return final, nil
}

// serve runs the server; levelNow reads the configuration's log level
// again, for SIGHUP.
func serve(ctx context.Context, cfg config.Config, stderr io.Writer, levelNow func() (string, bool)) error {
	if ctx == nil {
		ctx = context.Background()
	}
	level := new(slog.LevelVar)
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return fmt.Errorf("log-level: %q is not one of debug, info, warn, error", cfg.LogLevel)
	}
	log := slog.New(logHandler(stderr, cfg.LogFormat, level))
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := server.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			log.Error("closing the stores", "err", err)
		}
	}()
	stopReload := reloadOnHUP(srv, level, levelNow, log)
	defer stopReload()
	return srv.Run(ctx)
}
