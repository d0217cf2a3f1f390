package imagecli

import (
	"context"
	"maps"
	"slices"

	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/gophercloud/gophercloud/v2/pagination"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

// addCommand is `image add project IMAGE PROJECT`.
func (a *app) addCommand() *cobra.Command {
	var o output
	var domain string
	project := &cobra.Command{
		Use:   "project IMAGE PROJECT",
		Short: "Associate project with image",
		Args:  cobra.ExactArgs(2),
	}
	addOutputFlags(project, &o)
	project.Flags().StringVar(&domain, "project-domain", "", "domain the project belongs to (name or ID)")
	project.RunE = a.action(func(ctx context.Context, args []string) error {
		if err := o.check(); err != nil {
			return err
		}
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		projectID, err := s.findProject(ctx, args[1], domain)
		if err != nil {
			return err
		}
		rec, err := findImage(ctx, s.image, args[0])
		if err != nil {
			return err
		}
		r := members.Create(ctx, s.image, str(rec["id"]), projectID)
		if r.Err != nil {
			return imageclient.Describe(r.Err)
		}
		member, _ := imageclient.Normalize(r.Body).(record)
		fields := slices.Sorted(maps.Keys(member))
		values := make([]any, len(fields))
		for i, f := range fields {
			values[i] = member[f]
		}
		return o.one(a.out, fields, values)
	})
	cmd := &cobra.Command{Use: "add", Short: "Add a project to an image"}
	cmd.AddCommand(project)
	return cmd
}

// removeCommand is `image remove project IMAGE PROJECT`.
func (a *app) removeCommand() *cobra.Command {
	var domain string
	project := &cobra.Command{
		Use:   "project IMAGE PROJECT",
		Short: "Disassociate project with image",
		Args:  cobra.ExactArgs(2),
	}
	project.Flags().StringVar(&domain, "project-domain", "", "domain the project belongs to (name or ID)")
	project.RunE = a.action(func(ctx context.Context, args []string) error {
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		projectID, err := s.findProject(ctx, args[1], domain)
		if err != nil {
			return err
		}
		rec, err := findImage(ctx, s.image, args[0])
		if err != nil {
			return err
		}
		return imageclient.Describe(members.Delete(ctx, s.image, str(rec["id"]), projectID).ExtractErr())
	})
	cmd := &cobra.Command{Use: "remove", Short: "Remove a project from an image"}
	cmd.AddCommand(project)
	return cmd
}

// memberCommand is `image member list IMAGE`.
func (a *app) memberCommand() *cobra.Command {
	var o output
	list := &cobra.Command{
		Use:   "list IMAGE",
		Short: "List projects associated with image",
		Args:  cobra.ExactArgs(1),
	}
	addOutputFlags(list, &o)
	list.RunE = a.imageAction(o.check, func(ctx context.Context, s *session, rec record) error {
		var rows [][]any
		err := members.List(s.image, str(rec["id"])).EachPage(ctx, func(_ context.Context, p pagination.Page) (bool, error) {
			body, _ := imageclient.Normalize(p.(members.MemberPage).Body).(record)
			items, _ := body["members"].([]any)
			for _, it := range items {
				m, _ := it.(record)
				rows = append(rows, []any{m["image_id"], m["member_id"], m["status"]})
			}
			return true, nil
		})
		if err != nil {
			return imageclient.Describe(err)
		}
		return o.list(a.out, []string{"Image ID", "Member ID", "Status"}, rows)
	})
	cmd := &cobra.Command{Use: "member", Short: "Image members"}
	cmd.AddCommand(list)
	return cmd
}
