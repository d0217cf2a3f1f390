package server

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/glint-image/glint/internal/api"
	"github.com/glint-image/glint/internal/blob"
	"github.com/glint-image/glint/internal/blob/filesystem"
	"github.com/glint-image/glint/internal/blob/rbd"
	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/image"
)

// singleStore is the id of the one store of a deployment that configures
// none; it never shows in the API.
const singleStore = "default"

// storeFactories maps a store type to its constructor: every backend in
// one place, no registration side effects.
var storeFactories = map[string]func(ctx context.Context, st config.Store) (blob.Driver, map[string]any, error){
	"file": func(_ context.Context, st config.Store) (blob.Driver, map[string]any, error) {
		if st.Layout == "glance" {
			d, err := filesystem.NewFlat(st.Path)
			return d, map[string]any{"data_dir": st.Path}, err
		}
		d, err := filesystem.New(st.Path)
		return d, map[string]any{"data_dir": st.Path}, err
	},
	"s3": func(ctx context.Context, st config.Store) (blob.Driver, map[string]any, error) {
		c := st.S3
		d, err := s3.New(ctx, c)
		return d, map[string]any{"endpoint": c.Endpoint, "bucket": c.Bucket, "prefix": c.Prefix, "region": c.Region}, err
	},
	// Without the ceph build tag rbd.New answers with the build to use.
	"rbd": func(ctx context.Context, st config.Store) (blob.Driver, map[string]any, error) {
		d, err := rbd.New(ctx, st.RBD)
		if err != nil {
			return nil, nil, err
		}
		c := st.RBD.WithDefaults()
		return d, map[string]any{"pool": c.Pool, "chunk_size": c.ChunkSizeMiB, "thin_provisioning": c.ThinProvisioning}, nil
	},
}

// OpenStores builds the image stores cfg names, for the admin commands
// that read or write image data (glint admin migrate-glance).
func OpenStores(ctx context.Context, cfg config.Config) (image.Stores, error) {
	st, _, err := openStores(ctx, cfg)
	return st, err
}

// openStores builds the image stores: the configured ones, or a single
// filesystem store under the data directory.
func openStores(ctx context.Context, cfg config.Config) (image.Stores, []api.StoreInfo, error) {
	if !cfg.MultiStore() {
		st := config.Store{Type: "file", Path: filepath.Join(cfg.DataDir, "images")}
		if cfg.SingleStore != nil {
			st = *cfg.SingleStore
		}
		d, _, err := storeFactories[st.Type](ctx, st)
		if err != nil {
			return image.Stores{}, nil, fmt.Errorf("opening the image store: %w", err)
		}
		return image.Stores{Drivers: map[string]blob.Driver{singleStore: d}, Default: singleStore,
			Shared: map[string]bool{singleStore: st.SharesData()}}, nil, nil
	}
	stores := image.Stores{Drivers: map[string]blob.Driver{}, Default: cfg.DefaultStore, Named: true, Shared: map[string]bool{}}
	var infos []api.StoreInfo
	for _, st := range cfg.Stores {
		if st.Type == "http" {
			stores.Drivers[st.ID] = openHTTPStore(cfg.Import.WebDownload, st)
			infos = append(infos, api.StoreInfo{ID: st.ID, Description: st.Description, Type: st.Type, ReadOnly: true, Properties: map[string]any{}})
			continue
		}
		d, props, err := storeFactories[st.Type](ctx, st)
		if err != nil {
			return image.Stores{}, nil, fmt.Errorf("store %s: %w", st.ID, err)
		}
		stores.Drivers[st.ID] = d
		stores.Shared[st.ID] = st.SharesData()
		infos = append(infos, api.StoreInfo{ID: st.ID, Description: st.Description, Default: st.ID == cfg.DefaultStore,
			Type: st.Type, Properties: props})
	}
	return stores, infos, nil
}
