package imagecli

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/members"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
	"github.com/glint-image/glint/internal/imageclient/imageactions"
)

type setFlags struct {
	name, containerFormat, diskFormat, project, projectDomain string
	minDisk, minRAM                                           int
	properties, tags                                          []string
	deactivate, activate                                      bool
	accept, reject, pending, hidden, unhidden                 bool
	validate                                                  bool
	named                                                     map[string]*string // --os-distro and friends
}

// namedProperties are set's shorthand options for common properties.
var namedProperties = []string{"architecture", "instance-id", "kernel-id", "os-distro", "os-version", "ramdisk-id"}

func (a *app) setCommand() *cobra.Command {
	var f setFlags
	cmd := &cobra.Command{
		Use:   "set IMAGE",
		Short: "Set image properties",
		Args:  cobra.ExactArgs(1),
	}
	vis := addVisibilityFlags(cmd, false)
	protected := addProtectedFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "new image name")
	fl.IntVar(&f.minDisk, "min-disk", 0, "minimum disk size needed to boot image, in gigabytes")
	fl.IntVar(&f.minRAM, "min-ram", 0, "minimum RAM size needed to boot image, in megabytes")
	fl.StringVar(&f.containerFormat, "container-format", "", "image container format: "+strings.Join(containerFormats, ", "))
	fl.StringVar(&f.diskFormat, "disk-format", "", "image disk format: "+strings.Join(diskFormats, ", "))
	fl.StringArrayVar(&f.properties, "property", nil, "set a property on this image, key=value (repeat for several)")
	fl.StringArrayVar(&f.tags, "tag", nil, "set a tag on this image (repeat for several)")
	f.named = map[string]*string{}
	for _, n := range namedProperties {
		f.named[n] = fl.String(n, "", "set the "+strings.ReplaceAll(n, "-", "_")+" property")
	}
	fl.BoolVar(&f.deactivate, "deactivate", false, "deactivate the image")
	fl.BoolVar(&f.deactivate, "deactivated", false, "deactivate the image")
	mustFlag(fl.MarkHidden("deactivated"))
	fl.BoolVar(&f.activate, "activate", false, "activate the image")
	fl.StringVar(&f.project, "project", "", "set an alternate project on this image, or with --accept/--reject/--pending the member to update (name or ID)")
	fl.StringVar(&f.projectDomain, "project-domain", "", "domain the project belongs to (name or ID)")
	fl.BoolVar(&f.accept, "accept", false, "accept the image membership of --project or of the current project")
	fl.BoolVar(&f.reject, "reject", false, "reject the image membership of --project or of the current project")
	fl.BoolVar(&f.pending, "pending", false, "reset the image membership to 'pending'")
	fl.BoolVar(&f.hidden, "hidden", false, "hide the image")
	fl.BoolVar(&f.unhidden, "unhidden", false, "unhide the image")
	fl.BoolVar(&f.validate, "validate", false, "check the properties against the cloud's metadata definitions first; change nothing if one does not match")
	cmd.MarkFlagsMutuallyExclusive("deactivate", "activate")
	cmd.MarkFlagsMutuallyExclusive("deactivated", "activate")
	cmd.MarkFlagsMutuallyExclusive("accept", "reject", "pending")
	cmd.MarkFlagsMutuallyExclusive("hidden", "unhidden")
	completeChoices(cmd, "container-format", containerFormats)
	completeChoices(cmd, "disk-format", diskFormats)
	var props map[string]string
	var order []string
	readFlags := func() (err error) {
		props, order, err = parseProperties(f.properties)
		for _, e := range []error{err, checkChoice("container-format", f.containerFormat, containerFormats),
			checkChoice("disk-format", f.diskFormat, diskFormats)} {
			if e != nil {
				return e
			}
		}
		if !cmd.Flags().Changed("min-disk") {
			f.minDisk = -1
		}
		if !cmd.Flags().Changed("min-ram") {
			f.minRAM = -1
		}
		return nil
	}
	cmd.RunE = a.imageAction(readFlags, func(ctx context.Context, s *session, rec record) error {
		if f.validate {
			if err := a.validateProperties(ctx, s, withNamed(props, f.named)); err != nil {
				return err
			}
		}
		return a.set(ctx, s, rec, f, props, order, vis.value(), protected())
	})
	return cmd
}

// withNamed adds the shorthand options (--os-distro ...) to the
// properties, under their property names.
func withNamed(props map[string]string, named map[string]*string) map[string]string {
	out := make(map[string]string, len(props)+len(named))
	for k, v := range props {
		out[k] = v
	}
	for n, v := range named {
		if *v != "" {
			out[strings.ReplaceAll(n, "-", "_")] = *v
		}
	}
	return out
}

// set applies the changes in openstackclient's order: (de)activation,
// then the caller's membership, then one PATCH for everything else.
// minDisk and minRAM are -1 when not given.
func (a *app) set(ctx context.Context, s *session, rec record, f setFlags, props map[string]string, order []string,
	visibility string, protected *bool) error {
	id := str(rec["id"])
	switch {
	case f.deactivate:
		if err := imageactions.Deactivate(ctx, s.image, id).ExtractErr(); err != nil {
			return imageclient.Describe(err)
		}
	case f.activate:
		if err := imageactions.Reactivate(ctx, s.image, id).ExtractErr(); err != nil {
			return imageclient.Describe(err)
		}
	}
	var project string
	if f.project != "" {
		var err error
		if project, err = s.findProject(ctx, f.project, f.projectDomain); err != nil {
			return err
		}
	}
	if status := membershipStatus(f); status != "" {
		if err := updateMembership(ctx, s, id, project, status); err != nil {
			return err
		}
		project = "" // it named the member, not a new owner
	}

	p := &patch{rec: rec}
	p.setString("name", f.name)
	p.setString("container_format", f.containerFormat)
	p.setString("disk_format", f.diskFormat)
	p.setString("visibility", visibility)
	p.setString("owner", project)
	if f.minDisk >= 0 {
		p.set("min_disk", float64(f.minDisk))
	}
	if f.minRAM >= 0 {
		p.set("min_ram", float64(f.minRAM))
	}
	if protected != nil {
		p.set("protected", *protected)
	}
	if f.hidden || f.unhidden {
		p.set("os_hidden", f.hidden)
	}
	for _, n := range namedProperties {
		p.setString(strings.ReplaceAll(n, "-", "_"), *f.named[n])
	}
	for _, k := range order {
		p.set(k, props[k])
	}
	if len(f.tags) > 0 {
		tags := tagList(rec)
		for _, t := range f.tags {
			if !slices.Contains(tags, t) {
				tags = append(tags, t)
			}
		}
		p.set("tags", toAny(tags))
	}
	return p.apply(ctx, s.image, id)
}

func membershipStatus(f setFlags) string {
	switch {
	case f.accept:
		return "accepted"
	case f.reject:
		return "rejected"
	case f.pending:
		return "pending"
	}
	return ""
}

// updateMembership sets a member's status; without --project the member
// is the caller's own project.
func updateMembership(ctx context.Context, s *session, imageID, project, status string) error {
	if project == "" {
		project = s.projectID
	}
	if project == "" {
		return errors.New("the current project is unknown with OS_TOKEN and OS_ENDPOINT: give --project")
	}
	_, err := members.Update(ctx, s.image, imageID, project, members.UpdateOpts{Status: status}).Extract()
	return imageclient.Describe(err)
}

// patch collects JSON-patch operations against the current record:
// "replace" for attributes it has, "add" for new ones, nothing for
// values that would not change.
type patch struct {
	rec record
	ops images.UpdateOpts
}

// setString sets key unless the option was not given ("").
func (p *patch) setString(key, value string) {
	if value != "" {
		p.set(key, value)
	}
}

func (p *patch) set(key string, value any) {
	op := "add"
	if cur, ok := p.rec[key]; ok {
		if reflect.DeepEqual(cur, value) {
			return
		}
		op = "replace"
	}
	p.ops = append(p.ops, patchOp{op: op, path: key, value: value})
}

func (p *patch) remove(key string) {
	p.ops = append(p.ops, patchOp{op: "remove", path: key})
}

func (p *patch) apply(ctx context.Context, c *gophercloud.ServiceClient, id string) error {
	if len(p.ops) == 0 {
		return nil
	}
	return imageclient.Describe(images.Update(ctx, c, id, p.ops).Err)
}

// patchOp is one JSON-patch operation of any value type; gophercloud's
// own patch types carry strings or one fixed attribute each.
type patchOp struct {
	op, path string
	value    any
}

func (o patchOp) ToImagePatchMap() map[string]any {
	// JSON pointer escaping, for property names holding "~" or "/".
	path := "/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(o.path)
	m := map[string]any{"op": o.op, "path": path}
	if o.op != "remove" {
		m["value"] = o.value
	}
	return m
}

// activationCommand is `image deactivate` or `image reactivate`, the
// spellings operators' guides use beside `image set --deactivate`.
func (a *app) activationCommand(action string) *cobra.Command {
	do := map[string]func(context.Context, *gophercloud.ServiceClient, string) imageactions.ActionResult{
		"deactivate": imageactions.Deactivate, "reactivate": imageactions.Reactivate}[action]
	cmd := &cobra.Command{
		Use:   action + " IMAGE...",
		Short: strings.ToUpper(action[:1]) + action[1:] + " image(s)",
		Args:  cobra.MinimumNArgs(1),
	}
	cmd.RunE = a.action(func(ctx context.Context, args []string) error {
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		for _, name := range args {
			rec, err := findImage(ctx, s.image, name)
			if err != nil {
				return err
			}
			if err := do(ctx, s.image, str(rec["id"])).ExtractErr(); err != nil {
				return fmt.Errorf("%s %s: %w", action, imageclient.EscapeText(name), imageclient.Describe(err))
			}
		}
		return nil
	})
	return cmd
}
