package imagecli

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/imageimport"
	"github.com/gophercloud/gophercloud/v2/openstack/image/v2/images"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imageclient"
)

type createFlags struct {
	id, containerFormat, diskFormat, file string
	minDisk, minRAM                       int
	properties, tags                      []string
	project, projectDomain, store         string
	useImport, progress                   bool
}

func (a *app) createCommand() *cobra.Command {
	var o output
	var f createFlags
	cmd := &cobra.Command{
		Use:   "create IMAGE-NAME",
		Short: "Create/upload an image",
		Args:  cobra.ExactArgs(1),
	}
	addOutputFlags(cmd, &o)
	vis := addVisibilityFlags(cmd, false)
	protected := addProtectedFlags(cmd)
	fl := cmd.Flags()
	fl.StringVar(&f.id, "id", "", "image ID to reserve")
	fl.StringVar(&f.containerFormat, "container-format", "bare", "image container format: "+strings.Join(containerFormats, ", "))
	fl.StringVar(&f.diskFormat, "disk-format", "raw", "image disk format: "+strings.Join(diskFormats, ", "))
	fl.IntVar(&f.minDisk, "min-disk", 0, "minimum disk size needed to boot image, in gigabytes")
	fl.IntVar(&f.minRAM, "min-ram", 0, "minimum RAM size needed to boot image, in megabytes")
	fl.StringVar(&f.file, "file", "", "upload image from local file")
	fl.StringArrayVar(&f.properties, "property", nil, "set a property on this image, key=value (repeat for several)")
	fl.StringArrayVar(&f.tags, "tag", nil, "set a tag on this image (repeat for several)")
	fl.StringVar(&f.project, "project", "", "set an alternate project on this image (name or ID)")
	fl.StringVar(&f.projectDomain, "project-domain", "", "domain the project belongs to (name or ID)")
	fl.BoolVar(&f.useImport, "import", false, "use the image import API (glance-direct) instead of a direct upload")
	fl.StringVar(&f.store, "store", "", "backend store to upload the image to (multi-store clouds)")
	fl.BoolVar(&f.progress, "progress", false, "accepted for openstackclient compatibility: a bar shows whenever stderr is a terminal")
	completeChoices(cmd, "container-format", containerFormats)
	completeChoices(cmd, "disk-format", diskFormats)
	cmd.RunE = a.action(func(ctx context.Context, args []string) error {
		props, _, err := parseProperties(f.properties)
		for _, e := range []error{err, o.check(), checkChoice("container-format", f.containerFormat, containerFormats),
			checkChoice("disk-format", f.diskFormat, diskFormats)} {
			if e != nil {
				return e
			}
		}
		// Open the file before creating anything, as openstackclient does:
		// a typo must not leave an empty image behind.
		var data *os.File
		if f.file != "" {
			if data, err = os.Open(f.file); err != nil {
				return fmt.Errorf("'%s' is not a valid file: %w", imageclient.EscapeText(f.file), errors.Unwrap(err))
			}
			defer data.Close()
		}
		s, err := a.connect(ctx)
		if err != nil {
			return err
		}
		if f.useImport {
			if err := checkImport(ctx, s.image); err != nil {
				return err
			}
		}
		opts, err := a.createOpts(ctx, s, args[0], f, props, vis.value(), protected())
		if err != nil {
			return err
		}
		created, err := images.Create(ctx, s.image, opts).Extract()
		if err != nil {
			return imageclient.Describe(err)
		}
		if data != nil {
			if err := a.sendData(ctx, s.image, created.ID, data, f); err != nil {
				return fmt.Errorf("image %s was created but its data was not stored: %w", created.ID, err)
			}
		}
		rec, err := getImage(ctx, s.image, created.ID)
		if err != nil {
			return err
		}
		fields, values := formatImage(rec, false)
		return o.one(a.out, fields, values)
	})
	return cmd
}

func (a *app) createOpts(ctx context.Context, s *session, name string, f createFlags, props map[string]string,
	visibility string, protected *bool) (images.CreateOpts, error) {
	opts := images.CreateOpts{Name: name, ID: f.id, ContainerFormat: f.containerFormat, DiskFormat: f.diskFormat,
		MinDisk: f.minDisk, MinRAM: f.minRAM, Tags: f.tags, Protected: protected, Properties: props}
	if visibility != "" {
		opts.Visibility = ptr(images.ImageVisibility(visibility))
	}
	if f.project != "" {
		owner, err := s.findProject(ctx, f.project, f.projectDomain)
		if err != nil {
			return opts, err
		}
		if opts.Properties == nil {
			opts.Properties = map[string]string{}
		}
		opts.Properties["owner"] = owner
	}
	return opts, nil
}

// sendData uploads the file, or stages and imports it with --import,
// showing progress when stderr is a terminal.
func (a *app) sendData(ctx context.Context, c *gophercloud.ServiceClient, id string, data *os.File, f createFlags) error {
	size := int64(-1)
	if info, err := data.Stat(); err == nil && info.Mode().IsRegular() {
		size = info.Size()
	}
	bar, done := a.progress(size, "uploading")
	defer done()
	target, store := "file", f.store
	if f.useImport {
		target, store = "stage", ""
	}
	if err := a.putFile(ctx, c, c.ServiceURL("images", id, target), data, size, store, bar); err != nil {
		return err
	}
	if !f.useImport {
		return nil
	}
	err := imageimport.Create(ctx, c, id, importOpts{method: imageimport.GlanceDirectMethod, store: f.store}).ExtractErr()
	return imageclient.Describe(err)
}

// checkImport refuses --import unless the server offers glance-direct.
func checkImport(ctx context.Context, c *gophercloud.ServiceClient) error {
	info, err := imageimport.Get(ctx, c).Extract()
	if imageclient.IsStatus(err, http.StatusNotFound) {
		return errors.New("--import: the image import API is not supported by this cloud")
	}
	if err != nil {
		return imageclient.Describe(err)
	}
	methods := info.ImportMethods.Value
	if !slices.Contains(methods, string(imageimport.GlanceDirectMethod)) {
		offered := "none"
		if len(methods) > 0 {
			offered = strings.Join(methods, ", ")
		}
		return fmt.Errorf("--import: this cloud does not offer the glance-direct import method (offered: %s)", imageclient.EscapeText(offered))
	}
	return nil
}

// importOpts is an import request with the target store, which
// gophercloud's imageimport.CreateOpts cannot express.
type importOpts struct {
	method imageimport.ImportMethod
	store  string
}

func (o importOpts) ToImportCreateMap() (map[string]any, error) {
	body := map[string]any{"method": map[string]any{"name": o.method}}
	if o.store != "" {
		body["stores"] = []string{o.store}
	}
	return body, nil
}
