package imagecli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// stageCommand is `openstack image stage`: upload data to an image's
// staging area for a later glance-direct import, resuming after dropped
// connections as create --file does.
func (a *app) stageCommand() *cobra.Command {
	var file string
	var progress bool
	cmd := &cobra.Command{
		Use:   "stage --file FILE IMAGE",
		Short: "Upload data for an image's glance-direct import",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringVar(&file, "file", "", "local file with the image data")
	cmd.Flags().BoolVar(&progress, "progress", false, "accepted for openstackclient compatibility; a terminal always shows progress")
	cmd.RunE = a.action(func(ctx context.Context, args []string) error {
		if file == "" {
			return errors.New("--file is required")
		}
		data, err := os.Open(file)
		if err != nil {
			return err
		}
		defer data.Close()
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		rec, err := findImage(ctx, s.image, args[0])
		if err != nil {
			return err
		}
		id, _ := rec["id"].(string)
		size := int64(-1)
		if info, err := data.Stat(); err == nil && info.Mode().IsRegular() {
			size = info.Size()
		}
		bar, done := a.progress(size, "staging")
		defer done()
		if err := a.putFile(ctx, s.image, s.image.ServiceURL("images", id, "stage"), data, size, "", bar); err != nil {
			return fmt.Errorf("staging %s: %w", id, err)
		}
		return nil
	})
	return cmd
}
