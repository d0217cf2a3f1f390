package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/image"
)

// quotaCommand manages per-project quota overrides directly in the
// metadata store, for operators on the server's machine; the same is
// possible over the API (PUT /v2/quotas/{project}).
func quotaCommand(stdout io.Writer) *cobra.Command {
	q := &cobra.Command{Use: "quota", Short: "Show and override per-project image quotas"}
	q.AddCommand(
		quotaSub(stdout, "show PROJECT", "Show a project's quota overrides", cobra.ExactArgs(1),
			func(ctx context.Context, st image.Store, args []string) error {
				limits, err := st.ProjectLimits(ctx, args[0])
				if err != nil {
					return err
				}
				for _, name := range image.QuotaNames {
					v, ok := limits[name]
					switch {
					case !ok:
						fmt.Fprintf(stdout, "%-22s default\n", name)
					case v == image.Unlimited:
						fmt.Fprintf(stdout, "%-22s unlimited\n", name)
					default:
						fmt.Fprintf(stdout, "%-22s %d\n", name, v)
					}
				}
				return nil
			}),
		quotaSub(stdout, "set PROJECT NAME=LIMIT...", "Override quotas (-1 = unlimited; sizes in MiB)", cobra.MinimumNArgs(2),
			func(ctx context.Context, st image.Store, args []string) error {
				limits := map[string]int64{}
				for _, kv := range args[1:] {
					name, v, ok := strings.Cut(kv, "=")
					n, err := strconv.ParseInt(v, 10, 64)
					if !ok || err != nil {
						return fmt.Errorf("%q is not NAME=LIMIT", kv)
					}
					limits[name] = n
				}
				if err := image.ValidateLimits(limits); err != nil {
					return err
				}
				for name, n := range limits {
					if err := st.SetProjectLimit(ctx, args[0], name, n); err != nil {
						return err
					}
				}
				return nil
			}),
		quotaSub(stdout, "reset PROJECT", "Drop a project's overrides (back to the defaults)", cobra.ExactArgs(1),
			func(ctx context.Context, st image.Store, args []string) error {
				return st.DeleteProjectLimits(ctx, args[0])
			}),
	)
	return q
}

func quotaSub(_ io.Writer, use, short string, args cobra.PositionalArgs,
	run func(context.Context, image.Store, []string) error) *cobra.Command {
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
		st, _, err := openRecords(ctx, final)
		if err != nil {
			return err
		}
		defer st.Close()
		return run(ctx, st, a)
	}
	return cmd
}
