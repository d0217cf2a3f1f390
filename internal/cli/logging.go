package cli

import (
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/requestid"
	"github.com/glint-image/glint/internal/server"
)

// logHandler writes text to a terminal and JSON elsewhere (journald,
// files, collectors), or what format asks for; every line logged with a
// request's context carries its request_id.
func logHandler(w io.Writer, format string, level slog.Leveler) slog.Handler {
	opts := &slog.HandlerOptions{Level: level}
	if format == config.LogFormatAuto {
		format = config.LogFormatJSON
		if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			format = config.LogFormatText
		}
	}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == config.LogFormatText {
		h = slog.NewTextHandler(w, opts)
	}
	return requestid.NewHandler(h)
}

// reloadOnHUP re-reads, on SIGHUP, the policy file and the log level
// (from the configuration file and GLINT_LOG_LEVEL, as at start), as
// Glance reloads its policy and logging: requests in flight keep the
// rules they started with, new ones get the new rules, none is dropped.
func reloadOnHUP(srv *server.Server, level *slog.LevelVar, levelNow func() (string, bool), log *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-hup:
			}
			var lvl slog.Level
			if name, ok := levelNow(); !ok || lvl.UnmarshalText([]byte(name)) != nil {
				log.Error("log level reload: the configuration does not load; the level stays", "level", level.Level().String())
			} else if lvl != level.Level() {
				level.Set(lvl)
				log.Info("log level reloaded", "level", lvl.String())
			}
			if err := srv.ReloadPolicy(); err != nil {
				log.Error("policy reload failed; the previous rules stay", "err", err)
			} else {
				log.Info("policy reloaded")
			}
		}
	}()
	return func() { signal.Stop(hup); close(done) }
}
