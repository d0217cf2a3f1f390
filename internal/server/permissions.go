package server

import (
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/glint-image/glint/internal/identity"
)

// privateFiles are the files in the data directory only glint's user may
// read: the database (password hashes, private image metadata), its WAL
// and shared memory, the token key and the admin's clouds.yaml.
var privateFiles = []string{"glint.db", "glint.db-wal", "glint.db-shm", identity.KeyFileName, "clouds.yaml"}

// checkPermissions warns about a data directory or private file that
// others may read or write: glint creates them 0700 and 0600, so a looser
// mode is someone's change (or a directory made before glint ran). It
// only warns: an operator may have reasons, and glint does not chmod what
// it did not create.
func checkPermissions(log *slog.Logger, dataDir string) {
	check := func(path string, want fs.FileMode) {
		info, err := os.Stat(path)
		if err != nil {
			return // not there (yet): nothing to check
		}
		if mode := info.Mode().Perm(); mode&0o077 != 0 {
			log.Warn("data directory entry is open to other users; it holds password hashes and private metadata",
				"path", path, "mode", fmt.Sprintf("%#o", mode), "want", fmt.Sprintf("%#o", want))
		}
	}
	check(dataDir, 0o700)
	for _, name := range privateFiles {
		check(filepath.Join(dataDir, name), 0o600)
	}
}
