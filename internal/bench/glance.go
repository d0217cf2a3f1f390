package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
)

// The comparable Glance is Debian's glance-api (25.x, Zed) on SQLite and
// its file store, with one worker per core (Glance's own default), and no
// Keystone: a paste pipeline with Glance's ContextMiddleware, which takes
// the caller from the same X-Project-Id / X-User-Id / X-Roles headers as
// glint's trusted-headers mode (plus X-Identity-Status: Confirmed).

const glancePipeline = `
[pipeline:glance-api-glintbench]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler context rootapp
`

const glanceConf = `[DEFAULT]
bind_host = 127.0.0.1
bind_port = %[2]d
workers = %[3]d
log_file = %[1]s/glance-api.log
use_stderr = false

[database]
connection = sqlite:///%[1]s/glance.sqlite

[glance_store]
stores = file
default_store = file
filesystem_store_datadir = %[1]s/images/

[os_glance_staging_store]
filesystem_store_datadir = %[1]s/staging/

[os_glance_tasks_store]
filesystem_store_datadir = %[1]s/tasks/

[paste_deploy]
flavor = glintbench
config_file = %[1]s/glance-api-paste.ini

[oslo_concurrency]
lock_path = %[1]s/lock
`

// ensureGlance installs Debian's glance-api when it is missing.
func ensureGlance(ctx context.Context, log *slog.Logger, out io.Writer) error {
	if _, err := exec.LookPath("glance-api"); err == nil {
		return nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return errNoGlance
	}
	log.Info("installing Debian's glance-api (apt-get)")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "glance-api"}} {
		cmd := exec.CommandContext(ctx, "apt-get", append([]string{"-o", "DPkg::Lock::Timeout=300"}, args...)...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	// The package may start a system glance-api on 9292; ours runs on a
	// port of its own, so that one is left alone.
	return nil
}

// startGlance writes a configuration under dir, creates the database and
// starts glance-api.
func startGlance(ctx context.Context, dir string, log *slog.Logger) (*target, error) {
	if err := ensureGlance(ctx, log, os.Stderr); err != nil {
		return nil, err
	}
	gdir := filepath.Join(dir, "glance")
	for _, sub := range []string{"images", "staging", "tasks", "lock"} {
		if err := os.MkdirAll(filepath.Join(gdir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	paste, err := os.ReadFile("/etc/glance/glance-api-paste.ini")
	if err != nil {
		return nil, fmt.Errorf("glance's paste configuration: %w", err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	conf := filepath.Join(gdir, "glance-api.conf")
	files := map[string]string{
		filepath.Join(gdir, "glance-api-paste.ini"): string(paste) + glancePipeline,
		conf: fmt.Sprintf(glanceConf, gdir, port, runtime.NumCPU()),
	}
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	sync := exec.CommandContext(ctx, "glance-manage", "--config-file", conf, "db_sync")
	if b, err := sync.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("glance-manage db_sync: %w\n%s", err, b)
	}
	cmd := exec.CommandContext(ctx, "glance-api", "--config-file", conf)
	cmd.Dir = gdir
	t, err := startProcess(ctx, "glance", cmd, "http://127.0.0.1:"+strconv.Itoa(port), filepath.Join(gdir, "stdout.log"))
	if err != nil {
		return nil, err
	}
	t.setTrustedCallers()
	return t, nil
}
