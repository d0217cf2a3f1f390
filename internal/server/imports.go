package server

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"

	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/importchain"
	"github.com/glint-image/glint/internal/task"
	"github.com/glint-image/glint/internal/webfetch"
)

// stagingPrefix is the key prefix of staged data in the staging store.
const stagingPrefix = "staging/"

// importOptions assembles the import API from the configuration: the
// task store (the metadata store), the task runner, the staging store,
// the web-download fetcher and the plugin chain. The runner is returned
// for the server to start once the image service exists.
func (s *Server) importOptions(records Records, stores image.Stores) (image.ImportOptions, *task.Runner, error) {
	cfg := s.cfg.Import
	staging := stores.Drivers[stores.Default]
	if cfg.StagingStore != "" {
		staging = stores.Drivers[cfg.StagingStore]
	}
	workDir := cfg.WorkDir
	if workDir == "" {
		workDir = filepath.Join(s.cfg.DataDir, "import")
	}
	if err := os.MkdirAll(workDir, 0o700); err != nil {
		return image.ImportOptions{}, nil, fmt.Errorf("import.work_dir: %w", err)
	}
	host, _ := os.Hostname()
	runner := task.NewRunner(records, s.log, task.RunnerOptions{
		Node:    host + "-" + rand.Text()[:8],
		Workers: cfg.Workers,
		Lease:   cfg.TaskLease,
		// With SQLite there is one node: a task left processing is a
		// crashed run's and is resumed at once.
		SoleRunner: s.cfg.Metadata.Driver == "sqlite",
	})
	wd := cfg.WebDownload
	pol := webfetch.Policy{AllowedSchemes: wd.AllowedSchemes, DisallowedSchemes: wd.DisallowedSchemes,
		AllowedHosts: wd.AllowedHosts, DisallowedHosts: wd.DisallowedHosts, AllowedPorts: wd.AllowedPorts,
		DisallowedPorts: wd.DisallowedPorts, MaxRedirects: wd.MaxRedirects, ConnectTimeout: wd.ConnectTimeout,
		HeaderTimeout: wd.HeaderTimeout, IdleTimeout: wd.IdleTimeout, TotalTimeout: wd.TotalTimeout}
	for _, n := range wd.AllowedNetworks {
		pol.AllowedNetworks = append(pol.AllowedNetworks, netip.MustParsePrefix(n)) // validated
	}
	plugins, err := importchain.New(cfg.Plugins, importchain.Config{OutputFormat: cfg.Conversion.OutputFormat,
		ConvertTimeout: cfg.Conversion.Timeout, ConvertMemory: cfg.Conversion.MemoryLimit,
		Inject: cfg.Inject.Properties, IgnoreUserRoles: cfg.Inject.IgnoreUserRoles}, s.log)
	if err != nil {
		return image.ImportOptions{}, nil, err
	}
	opts := image.ImportOptions{
		Plugins:            plugins,
		Fetcher:            importFetcher{webfetch.New(pol)},
		Methods:            slices.Clone(cfg.Methods),
		Tasks:              records,
		Wake:               runner.Wake,
		Node:               runner.Node(),
		Lease:              runner.Lease(),
		Staging:            staging,
		StagingPrefix:      stagingPrefix,
		WorkDir:            workDir,
		Regions:            cfg.GlanceDownload.Regions,
		DownloadProperties: cfg.GlanceDownload.ExtraProperties,
		StageHost:          publicBase(s.cfg),
	}
	return opts, runner, nil
}

// importFetcher supplies the import workflow with webfetch's guarded
// downloads, turning the domain's image.Fetch into request headers.
type importFetcher struct{ f *webfetch.Fetcher }

func (i importFetcher) Check(uri string) error { return i.f.Check(uri) }

func (i importFetcher) Open(ctx context.Context, uri string, how image.Fetch) (io.ReadCloser, int64, error) {
	var header http.Header
	if how.API {
		header = http.Header{"Accept": {"application/json"}}
	}
	if how.Token != "" {
		if header == nil {
			header = http.Header{}
		}
		header.Set("X-Auth-Token", how.Token)
	}
	return i.f.Open(ctx, uri, header)
}
