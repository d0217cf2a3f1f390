package imagecli

import (
	"context"
	"fmt"
	"slices"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

func (a *app) unsetCommand() *cobra.Command {
	var tags, properties []string
	cmd := &cobra.Command{
		Use:   "unset IMAGE",
		Short: "Unset image tags and properties",
		Args:  cobra.ExactArgs(1),
	}
	cmd.Flags().StringArrayVar(&tags, "tag", nil, "unset a tag on this image (repeat for several)")
	cmd.Flags().StringArrayVar(&properties, "property", nil, "unset a property on this image (repeat for several)")
	cmd.RunE = a.imageAction(nil, func(ctx context.Context, s *session, rec record) error {
		// Tags and properties go in one PATCH; names the image lacks are
		// reported and counted, as openstackclient does.
		p := &patch{rec: rec}
		tagFailures, propFailures := 0, 0
		if len(tags) > 0 {
			current := tagList(rec)
			kept := slices.DeleteFunc(slices.Clone(current), func(t string) bool { return slices.Contains(tags, t) })
			for _, t := range tags {
				if !slices.Contains(current, t) {
					fmt.Fprintf(a.errw, "tag unset failed, '%s' is a nonexistent tag\n", imageclient.EscapeText(t))
					tagFailures++
				}
			}
			if len(kept) != len(current) {
				p.set("tags", toAny(kept))
			}
		}
		for _, k := range properties {
			if _, ok := rec[k]; !ok {
				fmt.Fprintf(a.errw, "property unset failed, '%s' is a nonexistent property\n", imageclient.EscapeText(k))
				propFailures++
				continue
			}
			p.remove(k)
		}
		if err := p.apply(ctx, s.image, str(rec["id"])); err != nil {
			return err
		}
		return unsetFailures(tagFailures, len(tags), propFailures, len(properties))
	})
	return cmd
}

func unsetFailures(tagFailures, tags, propFailures, props int) error {
	switch {
	case tagFailures > 0 && propFailures > 0:
		return fmt.Errorf("Failed to unset %d of %d tags, Failed to unset %d of %d properties.", tagFailures, tags, propFailures, props)
	case tagFailures > 0:
		return fmt.Errorf("Failed to unset %d of %d tags.", tagFailures, tags)
	case propFailures > 0:
		return fmt.Errorf("Failed to unset %d of %d properties.", propFailures, props)
	}
	return nil
}
