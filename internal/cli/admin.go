package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
	"github.com/glint-image/glint/internal/sqlstore/sqlite"
)

func adminCommand(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Operator tasks"}
	admin.AddCommand(migrateCommand(stdout), quotaCommand(stdout), metadefsCommand(stdout), backupCommand(stdout), cacheCommand(stdout),
		migrateGlanceCommand(stdout), verifyGlanceCommand(stdout), usageCommand(stdout))
	return admin
}

// operator is who the admin commands act as in the services: whoever
// runs them on the server's machine, with its configuration and its
// database's credentials, is an admin.
var operator = caller.Principal{UserID: "glint-admin", Roles: []string{"admin"}}

// migrateCommand applies the schema migrations of the configured metadata
// store and exits. `glint serve` does the same at start; this lets an
// operator migrate once before rolling out several nodes.
func migrateCommand(stdout io.Writer) *cobra.Command {
	return recordsCommand("migrate", "Apply the metadata store's schema migrations", cobra.NoArgs,
		func(_ context.Context, _ server.Records, what string, _ []string) error {
			fmt.Fprintln(stdout, what, "is up to date")
			return nil
		})
}

// recordsCommand is an admin command on the configured metadata store:
// it takes the configuration flags, opens (and so migrates) the store
// the way `glint serve` does, runs, and closes the store.
func recordsCommand(use, short string, args cobra.PositionalArgs,
	run func(ctx context.Context, st server.Records, what string, args []string) error) *cobra.Command {
	cfg := config.Default()
	var configFile string
	cmd := &cobra.Command{Use: use, Short: short, Args: args}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file (GLINT_CONFIG)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded SQLite database (GLINT_DATA_DIR)")
	cmd.RunE = func(cmd *cobra.Command, a []string) error {
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		st, what, err := server.OpenRecords(ctx, final)
		if err != nil {
			return err
		}
		err = run(ctx, st, what, a)
		return errors.Join(err, st.Close())
	}
	return cmd
}

// backupCommand writes a consistent copy of the embedded SQLite database
// while glint serves (VACUUM INTO: one read snapshot).
func backupCommand(stdout io.Writer) *cobra.Command {
	cfg := config.Default()
	var configFile string
	cmd := &cobra.Command{
		Use:   "backup DEST",
		Short: "Copy the embedded SQLite database to DEST, consistently, while glint runs",
		Long: "Copy the embedded SQLite database (DATA_DIR/glint.db) to DEST, a new file, as one consistent\n" +
			"snapshot, while glint keeps serving. Back up the image files (DATA_DIR/images) after it.\n" +
			"With metadata.driver postgres use pg_dump instead.",
		Args: cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file (GLINT_CONFIG)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded SQLite database (GLINT_DATA_DIR)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		if final.Metadata.Driver != "sqlite" {
			return fmt.Errorf("metadata.driver is %s: back it up with its own tools (pg_dump)", final.Metadata.Driver)
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		if err := sqlite.Backup(ctx, filepath.Join(final.DataDir, "glint.db"), args[0]); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "backed up", filepath.Join(final.DataDir, "glint.db"), "to", args[0])
		return nil
	}
	return cmd
}
