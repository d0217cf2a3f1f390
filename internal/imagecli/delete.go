package imagecli

import (
	"context"
	"fmt"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

func (a *app) deleteCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "delete IMAGE...",
		Short: "Delete image(s)",
		Args:  cobra.MinimumNArgs(1),
	}
	cmd.RunE = a.action(func(ctx context.Context, args []string) error {
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		// Every image is tried; each failure is reported on its own line
		// and the run fails at the end if any did.
		failed := 0
		for _, name := range args {
			rec, err := findImage(ctx, s.image, name)
			if err == nil {
				err = imageclient.Describe(images.Delete(ctx, s.image, str(rec["id"])).ExtractErr())
			}
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				failed++
				fmt.Fprintf(a.errw, "Failed to delete image with name or ID '%s': %v\n", imageclient.EscapeText(name), err)
			}
		}
		if failed > 0 {
			return fmt.Errorf("Failed to delete %d of %d images.", failed, len(args))
		}
		return nil
	})
	return cmd
}
