package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/identity"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/keymanager"
	"github.com/glint-image/glint/internal/metadef"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
	"github.com/glint-image/glint/internal/task"
)

// Records is what the metadata stores implement: image records, built-in
// identity, the metadata definitions catalog and tasks.
type Records interface {
	image.Store
	identity.Store
	metadef.Store
	task.Store
	keymanager.Store
}

// OpenRecords opens the metadata store cfg names, migrating its schema
// first, for `glint serve` and the admin commands alike; what names it
// for operators.
func OpenRecords(ctx context.Context, cfg config.Config) (st Records, what string, err error) {
	switch cfg.Metadata.Driver {
	case "postgres":
		st, err := postgres.Open(ctx, cfg.Metadata.DSN)
		if err != nil {
			return nil, "", fmt.Errorf("opening the PostgreSQL metadata store: %w", err)
		}
		st.SetRecordCache(cfg.Metadata.RecordCache)
		return st, "PostgreSQL metadata store", nil
	case "sqlite":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", fmt.Errorf("data-dir: %w", err)
		}
		path := filepath.Join(cfg.DataDir, "glint.db")
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, "", fmt.Errorf("opening the metadata store: %w", err)
		}
		st.SetRecordCache(cfg.Metadata.RecordCache)
		return st, "SQLite metadata store " + path, nil
	}
	return nil, "", fmt.Errorf("metadata.driver: %q is not one of sqlite, postgres", cfg.Metadata.Driver)
}
