package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/server"
)

// migrateGlanceCommand is `glint admin migrate-glance`: print the glint
// configuration matching Glance's, or copy Glance's records (and data)
// into the glint the configuration names.
func migrateGlanceCommand(stdout io.Writer) *cobra.Command {
	cfg := config.Default()
	var configFile, glanceConf, output string
	var printConfig bool
	var cfgOpts glancemigrate.ConfigOptions
	var opts glancemigrate.Options
	cmd := &cobra.Command{
		Use:   "migrate-glance",
		Short: "Copy a Glance's images, members and metadata definitions into glint (incremental; Glance is only read)",
		Args:  cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&configFile, "config", "", "glint's YAML configuration file (GLINT_CONFIG)")
	fl.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded SQLite database (GLINT_DATA_DIR)")
	fl.StringVar(&glanceConf, "glance-config", "/etc/glance/glance-api.conf", "Glance's glance-api.conf")
	fl.BoolVar(&printConfig, "print-config", false, "print the glint configuration matching Glance's and exit")
	fl.StringSliceVar(&cfgOpts.Copy, "copy-data", nil, "with --print-config: Glance stores whose files are copied into glint (ids, or * for all; a single-store Glance's is \"\"); the others are adopted in place")
	fl.StringVar(&cfgOpts.MetadataDSN, "metadata-dsn", "", "with --print-config: keep glint's records in this PostgreSQL database")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "report what would change, change nothing")
	fl.BoolVar(&opts.IncludeDeleted, "include-deleted", false, "also migrate Glance's deleted images (as deleted records, without data)")
	fl.StringSliceVar(&opts.AcceptSchema, "accept-schema", nil, "Glance alembic versions to read besides the known ones")
	fl.IntVar(&opts.Workers, "workers", 8, "records written (and files copied) in parallel")
	fl.StringVarP(&output, "output", "o", "table", "report format: table or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if output != "table" && output != "json" {
			return fmt.Errorf("--output: %q is not table or json", output)
		}
		gc, err := glancemigrate.ReadGlanceConfig(glanceConf)
		if err != nil {
			return err
		}
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		if printConfig {
			cfgOpts.DataDir = final.DataDir
			out, notes, err := gc.GlintConfig(cfgOpts)
			if err != nil {
				return err
			}
			for _, n := range notes {
				fmt.Fprintln(os.Stderr, "note:", n)
			}
			_, err = stdout.Write(out)
			return err
		}
		if err := final.Validate(); err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		rep, err := runMigration(ctx, final, gc, opts)
		if err != nil {
			return err
		}
		if output == "json" {
			err = rep.WriteJSON(stdout)
		} else {
			err = rep.WriteTable(stdout)
		}
		if err == nil && rep.Images.Skipped+rep.Namespaces.Skipped > 0 {
			err = fmt.Errorf("%d images and %d namespaces were skipped (listed above); the rest was migrated", rep.Images.Skipped, rep.Namespaces.Skipped)
		}
		return err
	}
	return cmd
}

func runMigration(ctx context.Context, cfg config.Config, gc *glancemigrate.GlanceConfig, opts glancemigrate.Options) (_ *glancemigrate.Report, err error) {
	st, _, err := server.OpenRecords(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	records, ok := st.(glancemigrate.Records)
	if !ok {
		return nil, errors.New("the metadata store cannot write records verbatim")
	}
	stores, err := server.OpenStores(ctx, cfg)
	if err != nil {
		return nil, err
	}
	m := &glancemigrate.Migrator{Glance: gc, Records: records, Metadefs: st, Stores: stores, Adopt: adoptedDirs(cfg, stores.Default)}
	rep, err := m.Run(ctx, opts)
	return rep, errors.Join(err)
}

// adoptedDirs lists the file stores in Glance's layout: the directories
// whose Glance files glint serves in place.
func adoptedDirs(cfg config.Config, single string) map[string]string {
	out := map[string]string{}
	for _, st := range cfg.Stores {
		if st.Type == "file" && st.Layout == "glance" {
			out[st.ID] = st.Path
		}
	}
	if st := cfg.SingleStore; st != nil && st.Type == "file" && st.Layout == "glance" {
		out[single] = st.Path
	}
	return out
}

// verifyGlanceCommand is `glint admin verify-glance`: compare Glance's
// and glint's answers for every image, and read the data back.
func verifyGlanceCommand(stdout io.Writer) *cobra.Command {
	var v glancemigrate.Verifier
	var output string
	cmd := &cobra.Command{
		Use:   "verify-glance",
		Short: "Compare every image's Glance and glint API answers field by field (locations' URLs and metadata too), and check glint's data against Glance's checksums",
		Args:  cobra.NoArgs,
	}
	fl := cmd.Flags()
	fl.StringVar(&v.GlanceURL, "glance-url", "", "Glance's Image API endpoint, e.g. http://glance:9292")
	fl.StringVar(&v.GlintURL, "glint-url", "http://127.0.0.1:9292", "glint's Image API endpoint")
	fl.StringVar(&v.Caller.Token, "token", os.Getenv("OS_TOKEN"), "a Keystone token both accept (OS_TOKEN)")
	fl.StringVar(&v.Caller.Project, "project-id", "", "with trusted headers (no --token): the caller's project")
	fl.StringSliceVar(&v.Caller.Roles, "roles", []string{"admin", "member", "reader"}, "with trusted headers: the caller's roles")
	fl.BoolVar(&v.Data, "data", true, "read every active image's data back from glint and check its checksums")
	fl.StringSliceVar(&v.CopiedStores, "copied-store", nil, "a Glance store whose data migrate-glance copied into glint (its locations' URLs then name glint's copies: only their metadata is compared); repeat or comma-separate")
	fl.StringVarP(&output, "output", "o", "table", "report format: table or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		if v.GlanceURL == "" {
			return errors.New("--glance-url is required")
		}
		if v.Caller.Token == "" && v.Caller.Project == "" {
			return errors.New("give --token (or OS_TOKEN), or --project-id for trusted headers")
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		rep, err := v.Verify(ctx)
		if err != nil {
			return err
		}
		if output == "json" {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			err = enc.Encode(rep)
		} else {
			err = rep.WriteTable(stdout)
		}
		if err == nil && len(rep.Differences) > 0 {
			err = fmt.Errorf("%d differences", len(rep.Differences))
		}
		return err
	}
	return cmd
}
