package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/server"
)

// usageCommand reports what each image store holds, for operators:
// logical bytes (what images' sizes add up to, zeros included),
// physical bytes (what the disks hold; sparse files leave zeros out) and
// what shared data saves. Image sizes and quotas stay logical.
func usageCommand(stdout io.Writer) *cobra.Command {
	cfg := config.Default()
	var configFile, format string
	cmd := &cobra.Command{
		Use:   "usage",
		Short: "Show each image store's blobs, logical and physical bytes, and the bytes shared data saves",
		Long: "Show what each image store holds: its blobs, their logical bytes (the images' sizes, zeros\n" +
			"included), the physical bytes they take (less where a file store keeps zeros as holes; \"-\"\n" +
			"where the store cannot tell, as rbd) and what sharing identical uploads saves. It reads every\n" +
			"blob's metadata (a directory walk, an object listing).",
		Args: cobra.NoArgs,
	}
	cmd.Flags().StringVar(&configFile, "config", "", "YAML configuration file (GLINT_CONFIG)")
	cmd.Flags().StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the embedded SQLite database (GLINT_DATA_DIR)")
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	cmd.RunE = func(cmd *cobra.Command, _ []string) (err error) {
		if format != "table" && format != "json" {
			return fmt.Errorf("--format: %q is not table or json", format)
		}
		final, err := loadConfig(configFile, cmd, &cfg)
		if err != nil {
			return err
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		st, _, err := server.OpenRecords(ctx, final)
		if err != nil {
			return err
		}
		defer func() { err = errors.Join(err, st.Close()) }()
		stores, err := server.OpenStores(ctx, final)
		if err != nil {
			return err
		}
		report, err := image.StorageUsage(ctx, st, stores)
		if err != nil {
			return err
		}
		if format == "json" {
			return writeUsageJSON(stdout, report)
		}
		return writeUsageTable(stdout, report)
	}
	return cmd
}

// usageRow is one store in JSON; bytes are exact, and fields a store
// cannot count are null.
type usageRow struct {
	Store         string `json:"store"`
	ShareData     bool   `json:"share_data"`
	Blobs         *int64 `json:"blobs"`
	LogicalBytes  *int64 `json:"logical_bytes"`
	PhysicalBytes *int64 `json:"physical_bytes"`
	SharedBlobs   int64  `json:"shared_blobs"`
	SharedImages  int64  `json:"shared_images"`
	SavedBytes    int64  `json:"saved_bytes"`
}

func writeUsageJSON(w io.Writer, report []image.StoreUsage) error {
	rows := []usageRow{}
	for _, u := range report {
		r := usageRow{Store: u.Store, ShareData: u.Shares, SharedBlobs: u.Sharing.Blobs, SharedImages: u.Sharing.Images, SavedBytes: u.Sharing.Saved}
		if u.Counted {
			r.Blobs, r.LogicalBytes = &u.Blobs.Blobs, &u.Blobs.Bytes
			if u.Blobs.Physical >= 0 {
				r.PhysicalBytes = &u.Blobs.Physical
			}
		}
		rows = append(rows, r)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func writeUsageTable(w io.Writer, report []image.StoreUsage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STORE\tBLOBS\tLOGICAL\tPHYSICAL\tSHARING\tSHARED IMAGES\tSAVED")
	for _, u := range report {
		blobs, logical, physical := "-", "-", "-"
		if u.Counted {
			blobs, logical = fmt.Sprint(u.Blobs.Blobs), byteSize(u.Blobs.Bytes)
			if u.Blobs.Physical >= 0 {
				physical = byteSize(u.Blobs.Physical)
			}
		}
		sharing := "off"
		if u.Shares {
			sharing = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\n", u.Store, blobs, logical, physical, sharing, u.Sharing.Images, byteSize(u.Sharing.Saved))
	}
	return tw.Flush()
}

// byteSize prints n in binary units with one decimal (bytes below 1 KiB).
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
