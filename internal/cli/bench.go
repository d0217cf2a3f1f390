package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/glint-image/glint/internal/bench"
)

// benchCommand is `glint bench`: the workloads of docs/benchmarks.md
// against a glint it starts (and Glance with --with-glance), or against
// any Image API endpoint.
func benchCommand(stdout, stderr io.Writer) *cobra.Command {
	opts := bench.Defaults()
	var (
		transferMiB, concurrentMiB int64
		jsonFile, mdFile, token    string
		headers                    []string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Benchmark an Image API (glint by default, Glance beside it with --with-glance)",
		Long: `Seeds a catalog, then measures create, JSON-patch, show, list and a full walk at
several concurrency levels, and single and concurrent uploads and downloads,
with the server's CPU and memory read from /proc. Results go to stdout as
markdown tables (and --json as JSON lines). See docs/benchmarks.md.`,
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	f.StringVar(&opts.Endpoint, "endpoint", "", "drive this Image API (e.g. http://127.0.0.1:9292) instead of starting glint")
	f.StringVar(&token, "token", "", "with --endpoint: a Keystone token (X-Auth-Token) for every request")
	f.StringSliceVar(&headers, "header", nil, "with --endpoint: a request header NAME=VALUE (repeatable), e.g. trusted headers")
	f.IntVar(&opts.Pid, "pid", 0, "with --endpoint: the server's process id, for its CPU and memory")
	f.StringVar(&opts.GlintConfig, "glint-config", "", "configuration file for the glint started (e.g. PostgreSQL + S3)")
	f.BoolVar(&opts.WithGlance, "with-glance", false, "also run Debian's glance-api (installed if missing) and compare")
	f.IntVar(&opts.Catalog, "catalog", opts.Catalog, "images to seed before the request workloads")
	f.BoolVar(&opts.SeedDirect, "seed-direct", false, "seed glint's catalog directly into its SQLite store before it starts (for 100k or 1M images), not through the API")
	f.IntSliceVar(&opts.Clients, "clients", opts.Clients, "concurrency levels of the request workloads")
	f.DurationVar(&opts.Duration, "duration", opts.Duration, "length of each request workload at each level")
	f.BoolVar(&opts.Settle, "settle", opts.Settle, "write back the machine's dirty pages (sync) before each measurement of a server, so none pays for the writes of the one before")
	f.IntVar(&opts.Rounds, "rounds", 1, "run the request workloads this many times; the report takes the median of the rounds")
	f.Int64Var(&transferMiB, "transfer-mib", opts.TransferSize>>20, "size of the single upload and download, MiB")
	f.Int64Var(&concurrentMiB, "concurrent-mib", opts.ConcurrentSize>>20, "size of each concurrent transfer, MiB")
	f.IntVar(&opts.Concurrent, "concurrent", opts.Concurrent, "number of concurrent transfers")
	f.StringSliceVar(&opts.Only, "only", nil, "run only these workloads (show, list, patch, create, walk, upload, download, transfer)")
	f.StringVar(&opts.Dir, "dir", "", "directory for the servers' data (default: a temporary one, removed after)")
	f.StringVar(&jsonFile, "json", "", "write one JSON result per line to this file")
	f.StringVar(&mdFile, "markdown", "", "also write the markdown tables to this file")

	trivial := &cobra.Command{Use: "trivial-server", Hidden: true, Args: cobra.NoArgs,
		Short: "the yardstick server of the transfer and show figures (run by glint bench itself)"}
	var listen, file string
	trivial.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "address")
	trivial.Flags().StringVar(&file, "file", "", "file served on GET /file")
	trivial.RunE = func(cmd *cobra.Command, _ []string) error { return bench.ServeTrivial(cmd.Context(), listen, file) }
	cmd.AddCommand(trivial)

	cmd.RunE = func(cmd *cobra.Command, _ []string) (err error) {
		if len(opts.Clients) == 0 {
			return fmt.Errorf("--clients: give at least one level")
		}
		if opts.Rounds < 1 {
			return fmt.Errorf("--rounds: give at least one")
		}
		opts.TransferSize, opts.ConcurrentSize = transferMiB<<20, concurrentMiB<<20
		if opts.Endpoint != "" {
			id := bench.Identity{Headers: map[string][]string{}}
			if token != "" {
				id = bench.TokenIdentity(token)
			}
			for _, h := range headers {
				k, v, ok := strings.Cut(h, "=")
				if !ok {
					return fmt.Errorf("--header %q: want NAME=VALUE", h)
				}
				id.Headers[http.CanonicalHeaderKey(k)] = append(id.Headers[http.CanonicalHeaderKey(k)], v)
			}
			opts.Member, opts.Admin = id, id
		}
		opts.Markdown = stdout
		// The result files are written as the run goes; closing one
		// may be what reports that its last lines did not reach the disk.
		if mdFile != "" {
			fh, cerr := os.Create(mdFile)
			if cerr != nil {
				return cerr
			}
			defer func() { err = errors.Join(err, fh.Close()) }()
			opts.Markdown = io.MultiWriter(stdout, fh)
		}
		if jsonFile != "" {
			fh, cerr := os.Create(jsonFile)
			if cerr != nil {
				return cerr
			}
			defer func() { err = errors.Join(err, fh.Close()) }()
			opts.JSON = fh
		}
		log := slog.New(slog.NewTextHandler(stderr, nil))
		// The servers run in process groups of their own, which a
		// Ctrl-C or a SIGTERM does not reach: the run stops them on
		// its way out.
		ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
		defer stop()
		return bench.Run(ctx, opts, log)
	}
	return cmd
}
