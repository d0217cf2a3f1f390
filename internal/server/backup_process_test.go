package server_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

// TestAdminBackupOfRunningServer runs `glint admin backup` beside a
// serving glint: the copy holds the images created before it, and is
// private to its owner.
func TestAdminBackupOfRunningServer(t *testing.T) {
	dataDir := t.TempDir()
	p := start(t, dataDir, freeAddr(t))
	id := p.createImage()
	dest := filepath.Join(t.TempDir(), "glint-backup.db")
	out, err := exec.Command(glintBinary, "admin", "backup", "--data-dir", dataDir, dest).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "backed up") {
		t.Fatalf("backup: %v %s", err, out)
	}
	if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", err, fi)
	}
	st, err := sqlite.Open(context.Background(), dest)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if img, err := st.GetImage(context.Background(), id); err != nil || img.Status != image.StatusQueued {
		t.Fatalf("the image in the backup: %v %v", img, err)
	}
	if out, err := exec.Command(glintBinary, "admin", "backup", "--data-dir", dataDir, dest).CombinedOutput(); err == nil {
		t.Errorf("a second backup overwrote the first: %s", out)
	}
}
