package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/server"
)

// quotaCommand manages per-project quota overrides through the image
// service's quotas, for operators on the server's machine; the same is
// possible over the API (PUT /v2/quotas/{project}).
func quotaCommand(stdout io.Writer) *cobra.Command {
	q := &cobra.Command{Use: "quota", Short: "Show and override per-project image quotas"}
	q.AddCommand(
		quotaSub("show PROJECT", "Show a project's quota overrides", cobra.ExactArgs(1),
			func(ctx context.Context, quotas *image.Quotas, args []string) error {
				limits, err := quotas.Overrides(ctx, operator, args[0])
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
		quotaSub("set PROJECT NAME=LIMIT...", "Override quotas (-1 = unlimited; sizes in MiB)", cobra.MinimumNArgs(2),
			func(ctx context.Context, quotas *image.Quotas, args []string) error {
				limits := map[string]int64{}
				for _, kv := range args[1:] {
					name, v, ok := strings.Cut(kv, "=")
					n, err := strconv.ParseInt(v, 10, 64)
					if !ok || err != nil {
						return fmt.Errorf("%q is not NAME=LIMIT", kv)
					}
					limits[name] = n
				}
				return quotas.Set(ctx, operator, args[0], limits)
			}),
		quotaSub("reset PROJECT", "Drop a project's overrides (back to the defaults)", cobra.ExactArgs(1),
			func(ctx context.Context, quotas *image.Quotas, args []string) error {
				return quotas.Reset(ctx, operator, args[0])
			}),
	)
	return q
}

func quotaSub(use, short string, args cobra.PositionalArgs, run func(context.Context, *image.Quotas, []string) error) *cobra.Command {
	return recordsCommand(use, short, args, func(ctx context.Context, st server.Records, _ string, a []string) error {
		return run(ctx, image.NewQuotas(st), a)
	})
}
