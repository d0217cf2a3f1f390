package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gophercloud/gophercloud/v2"
	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/imagecli"
	"github.com/glint-image/glint/internal/imageclient"
)

// cacheCommand manages a node's image cache through the cache API, with
// the credentials `glint image` takes. The cache is per node: --node names
// the node's own URL when several sit behind one endpoint.
func cacheCommand(stdout io.Writer) *cobra.Command {
	var o cacheOptions
	c := &cobra.Command{Use: "cache", Short: "Manage a node's image cache (the /v2/cache API)"}
	c.PersistentFlags().StringVar(&o.cloud, "os-cloud", "", "cloud in clouds.yaml (OS_CLOUD)")
	c.PersistentFlags().StringVar(&o.region, "os-region-name", "", "region (OS_REGION_NAME)")
	c.PersistentFlags().StringVar(&o.iface, "os-interface", "", "endpoint interface (OS_INTERFACE)")
	c.PersistentFlags().StringVar(&o.node, "node", "", "this node's Image API URL, instead of the catalog's endpoint")
	var asJSON bool
	list := &cobra.Command{Use: "list", Short: "List cached and queued images", Args: cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *gophercloud.ServiceClient, _ []string) error {
			var st cacheState
			if _, err := c.Get(ctx, c.ServiceURL("cache"), &st, nil); err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			return st.print(stdout)
		})}
	list.Flags().BoolVar(&asJSON, "json", false, "print the API's answer as JSON")
	var target string
	clear := &cobra.Command{Use: "clear", Short: "Empty the cache, the queue or both", Args: cobra.NoArgs,
		RunE: o.run(func(ctx context.Context, c *gophercloud.ServiceClient, _ []string) error {
			hdr := map[string]string{}
			switch target {
			case "both":
			case "cache", "queue":
				hdr["X-Image-Cache-Clear-Target"] = target
			default:
				return fmt.Errorf("--target: %q is not one of cache, queue, both", target)
			}
			_, err := c.Delete(ctx, c.ServiceURL("cache"), &gophercloud.RequestOpts{MoreHeaders: hdr, OkCodes: []int{204}})
			return err
		})}
	clear.Flags().StringVar(&target, "target", "both", "cache, queue or both")
	c.AddCommand(list, clear,
		&cobra.Command{Use: "queue IMAGE_ID...", Short: "Queue images for the node to fetch into its cache", Args: cobra.MinimumNArgs(1),
			RunE: o.run(func(ctx context.Context, c *gophercloud.ServiceClient, ids []string) error {
				for _, id := range ids {
					if _, err := c.Put(ctx, c.ServiceURL("cache", id), nil, nil, &gophercloud.RequestOpts{OkCodes: []int{202}}); err != nil {
						return fmt.Errorf("%s: %w", id, err)
					}
				}
				return nil
			})},
		&cobra.Command{Use: "delete IMAGE_ID...", Short: "Drop images from the cache and the queue", Args: cobra.MinimumNArgs(1),
			RunE: o.run(func(ctx context.Context, c *gophercloud.ServiceClient, ids []string) error {
				for _, id := range ids {
					if _, err := c.Delete(ctx, c.ServiceURL("cache", id), &gophercloud.RequestOpts{OkCodes: []int{204}}); err != nil {
						return fmt.Errorf("%s: %w", id, err)
					}
				}
				return nil
			})},
		&cobra.Command{Use: "prune", Short: "Remove least recently used copies until the cache fits its size", Args: cobra.NoArgs,
			RunE: o.run(func(ctx context.Context, c *gophercloud.ServiceClient, _ []string) error {
				var out struct {
					Files int64 `json:"total_files_pruned"`
					Bytes int64 `json:"total_bytes_pruned"`
				}
				if _, err := c.Post(ctx, c.ServiceURL("cache", "prune"), nil, &out, &gophercloud.RequestOpts{OkCodes: []int{200}}); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "pruned %d images, %d bytes\n", out.Files, out.Bytes)
				return nil
			})},
	)
	return c
}

type cacheOptions struct{ cloud, region, iface, node string }

// run connects and calls fn with the image client (pointed at --node
// when given); server errors are quoted as glint image quotes them.
func (o *cacheOptions) run(fn func(context.Context, *gophercloud.ServiceClient, []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		s, err := imagecli.Connect(ctx, imagecli.ConnectOptions{Cloud: o.cloud, Region: o.region, Interface: o.iface,
			Getenv: os.Getenv, UserAgent: "glint-admin-cache"})
		if err != nil {
			return err
		}
		c := *s.Image
		if o.node != "" {
			base := strings.TrimRight(o.node, "/") + "/"
			c.Endpoint, c.ResourceBase = base, base+"v2/"
		}
		return imageclient.Describe(fn(ctx, &c, args))
	}
}

type cacheState struct {
	Cached []struct {
		ImageID      string  `json:"image_id"`
		Hits         int64   `json:"hits"`
		LastAccessed float64 `json:"last_accessed"`
		LastModified float64 `json:"last_modified"`
		Size         int64   `json:"size"`
	} `json:"cached_images"`
	Queued []string `json:"queued_images"`
}

func (st cacheState) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE ID\tSTATE\tSIZE\tHITS\tLAST ACCESSED\tLAST MODIFIED")
	when := func(f float64) string {
		return time.UnixMicro(int64(f * 1e6)).UTC().Format(time.RFC3339)
	}
	for _, c := range st.Cached {
		fmt.Fprintf(tw, "%s\tcached\t%d\t%d\t%s\t%s\n", imageclient.EscapeText(c.ImageID), c.Size, c.Hits, when(c.LastAccessed), when(c.LastModified))
	}
	for _, id := range st.Queued {
		fmt.Fprintf(tw, "%s\tqueued\t\t\t\t\n", imageclient.EscapeText(id))
	}
	return tw.Flush()
}
