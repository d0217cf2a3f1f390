package imagecli

import (
	"context"
	"errors"
	"net/http"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
	"github.com/glint-image/glint/internal/imageclient/stores"
)

// storesCommand is `image stores list`.
func (a *app) storesCommand() *cobra.Command {
	var o output
	var detail bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Get available backends (only valid with multi-store)",
		Args:  cobra.NoArgs,
	}
	addOutputFlags(list, &o)
	list.Flags().BoolVar(&detail, "detail", false, "shows details of stores (admin only)")
	list.RunE = a.action(func(ctx context.Context, _ []string) error {
		if err := o.check(); err != nil {
			return err
		}
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		r := stores.List(ctx, s.image)
		if detail {
			r = stores.ListDetail(ctx, s.image)
		}
		all, err := r.Extract()
		if imageclient.IsStatus(err, http.StatusNotFound) {
			return errors.New("Multi Backend support not enabled")
		}
		if err != nil {
			return imageclient.Describe(err)
		}
		names := []string{"ID", "Description", "Default"}
		if detail {
			names = append(names, "Properties")
		}
		rows := make([][]any, len(all))
		for i, st := range all {
			rows[i] = []any{st.ID, st.Description, st.Default}
			if detail {
				rows[i] = append(rows[i], dictColumn(st.Properties))
			}
		}
		return o.list(a.out, names, rows)
	})
	cmd := &cobra.Command{Use: "stores", Short: "Image stores"}
	cmd.AddCommand(list)
	return cmd
}
