package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/sqlstore/postgres"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

func adminCommand(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Operator tasks"}
	admin.AddCommand(migrateCommand(stdout), quotaCommand(stdout), metadefsCommand(stdout), cacheCommand(stdout))
	return admin
}

// migrateCommand applies the schema migrations of the configured metadata
// store and exits. `glint serve` does the same at start; this lets an
// operator migrate once before rolling out several nodes.
func migrateCommand(stdout io.Writer) *cobra.Command {
	cfg := config.Default()
	var configFile string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the metadata store's schema migrations",
		Args:  cobra.NoArgs,
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file (GLINT_CONFIG)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded SQLite database (GLINT_DATA_DIR)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		return migrate(ctx, final, stdout)
	}
	return cmd
}

func migrate(ctx context.Context, cfg config.Config, stdout io.Writer) error {
	st, what, err := openRecords(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, what, "is up to date")
	return st.Close()
}

// openRecords opens (and so migrates) the configured metadata store.
func openRecords(ctx context.Context, cfg config.Config) (image.Store, string, error) {
	switch cfg.Metadata.Driver {
	case "postgres":
		st, err := postgres.Open(ctx, cfg.Metadata.DSN)
		return st, "PostgreSQL metadata store", err
	case "sqlite":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, "", err
		}
		path := filepath.Join(cfg.DataDir, "glint.db")
		st, err := sqlite.Open(ctx, path)
		return st, "SQLite metadata store " + path, err
	}
	return nil, "", fmt.Errorf("metadata.driver: %q is not one of sqlite, postgres", cfg.Metadata.Driver)
}
