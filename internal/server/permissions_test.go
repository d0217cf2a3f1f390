package server_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDataPermissions: a fresh data directory is 0700 and the database,
// its WAL and SHM and the token key 0600; loosened by someone, each is
// named in a warning at the next start.
func TestDataPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	p := launch(t, addr, []string{"GLINT_BOOTSTRAP_PASSWORD=pw-for-the-test"}, "serve", "--data-dir", dir, "--listen", addr)
	p.waitReady(t)
	want := map[string]os.FileMode{"": 0o700, "glint.db": 0o600, "glint.db-wal": 0o600, "glint.db-shm": 0o600, "identity.key": 0o600, "clouds.yaml": 0o600}
	for name, mode := range want {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != mode {
			t.Errorf("%s: mode %#o, want %#o", filepath.Join("data", name), got, mode)
		}
	}
	p.stop(t)
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "glint.db"), 0o644)
	p = launch(t, addr, nil, "serve", "--data-dir", dir, "--listen", addr)
	p.waitReady(t)
	logs := p.logs.String()
	for _, path := range []string{dir, filepath.Join(dir, "glint.db")} {
		if !strings.Contains(logs, `"path":"`+path+`"`) || !strings.Contains(logs, "open to other users") {
			t.Errorf("no warning about %s:\n%s", path, logs)
		}
	}
}

// stop ends the process with SIGTERM and waits for it.
func (p *process) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("glint did not exit after SIGTERM")
	}
}
