package cli

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/caller"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/server"
)

func adminCommand(stdout io.Writer) *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Operator tasks"}
	admin.AddCommand(migrateCommand(stdout), quotaCommand(stdout), metadefsCommand(stdout), migrateGlanceCommand(stdout), verifyGlanceCommand(stdout))
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
