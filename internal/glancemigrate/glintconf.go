package glancemigrate

import (
	"bytes"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The YAML shape of the parts of glint's configuration file this package
// writes (internal/config reads it).
type glintFile struct {
	DataDir      string           `yaml:"data_dir"`
	Metadata     glintMetadata    `yaml:"metadata"`
	Store        *glintStore      `yaml:"store,omitempty"`
	Stores       []glintStore     `yaml:"stores,omitempty"`
	DefaultStore string           `yaml:"default_store,omitempty"`
	Import       glintImport      `yaml:"import"`
	Quotas       map[string]int64 `yaml:"quotas,omitempty"`

	ShowImageDirectURL    bool `yaml:"show_image_direct_url,omitempty"`
	ShowMultipleLocations bool `yaml:"show_multiple_locations,omitempty"`
}

type glintMetadata struct {
	Driver string `yaml:"driver"`
	DSN    string `yaml:"dsn,omitempty"`
}

type glintStore struct {
	ID          string         `yaml:"id,omitempty"`
	Description string         `yaml:"description,omitempty"`
	Type        string         `yaml:"type"`
	Path        string         `yaml:"path,omitempty"`
	Layout      string         `yaml:"layout,omitempty"`
	S3          map[string]any `yaml:"s3,omitempty"`
	RBD         map[string]any `yaml:"rbd,omitempty"`
}

type glintImport struct {
	Methods []string `yaml:"methods"`
}

// ConfigOptions steer the glint configuration written from Glance's.
type ConfigOptions struct {
	// DataDir is glint's data directory (SQLite, copied data).
	DataDir string
	// Copy lists the Glance store ids ("" for a single-store Glance; "*"
	// for all) whose file data is copied into glint; the others' files
	// are adopted in place.
	Copy []string
	// MetadataDSN, when set, puts glint's records in PostgreSQL.
	MetadataDSN string
}

func (o ConfigOptions) copies(id string) bool {
	return contains(o.Copy, "*") || contains(o.Copy, id)
}

// GlintConfig writes the glint configuration that matches Glance's: the
// same store ids (so `stores` reads the same in both APIs), file stores
// adopted in place (layout: glance) or new directories under DataDir for
// copies, import methods, the storage quota. What has no equivalent is
// listed in comments at the end, and in the returned notes.
func (gc *GlanceConfig) GlintConfig(o ConfigOptions) ([]byte, []string, error) {
	if o.DataDir == "" {
		o.DataDir = "/var/lib/glint"
	}
	f := glintFile{DataDir: o.DataDir, Metadata: glintMetadata{Driver: "sqlite"}}
	if o.MetadataDSN != "" {
		f.Metadata = glintMetadata{Driver: "postgres", DSN: o.MetadataDSN}
	}
	var notes []string
	for _, st := range gc.Stores {
		g, note := glintStoreFor(st, o)
		if note != "" {
			notes = append(notes, note)
		}
		switch {
		case g == nil:
		case gc.MultiStore:
			f.Stores = append(f.Stores, *g)
		case st.Type == gc.DefaultStore:
			// A single-store Glance's default store becomes glint's one.
			f.Store = g
		default:
			notes = append(notes, fmt.Sprintf("store %s is not the default of a single-store Glance: glint takes only that one; images whose data is only in %s are skipped", st.Type, st.Type))
		}
	}
	if gc.MultiStore {
		f.DefaultStore = gc.DefaultStore
	}
	for _, m := range gc.ImportMethods {
		if m == "glance-direct" || m == "web-download" || m == "copy-image" || m == "glance-download" {
			f.Import.Methods = append(f.Import.Methods, m)
		} else {
			notes = append(notes, fmt.Sprintf("import method %q has no glint equivalent", m))
		}
	}
	if gc.UserStorageQuota > 0 {
		mib := (gc.UserStorageQuota + (1<<20 - 1)) >> 20
		f.Quotas = map[string]int64{"image_size_total": mib}
		notes = append(notes, fmt.Sprintf("user_storage_quota (%d bytes, per user in Glance) becomes every project's image_size_total of %d MiB", gc.UserStorageQuota, mib))
	}
	for k, v := range gc.ImageLimits {
		notes = append(notes, fmt.Sprintf("%s = %s: glint keeps its own fixed per-image limits (Glance's defaults)", k, v))
	}
	f.ShowImageDirectURL, f.ShowMultipleLocations = gc.ShowDirectURL, gc.ShowMultipleLocation
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# glint configuration written by `glint admin migrate-glance` from %s.\n", gc.Path)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, nil, err
	}
	for _, n := range notes {
		fmt.Fprintf(&buf, "# note: %s\n", n)
	}
	return buf.Bytes(), notes, nil
}

// glintStoreFor translates one Glance store.
func glintStoreFor(st GlanceStore, o ConfigOptions) (*glintStore, string) {
	name := st.ID
	if name == "" {
		name = st.Type
	}
	switch st.Type {
	case "file":
		if st.Dir == "" {
			return nil, fmt.Sprintf("store %s: filesystem_store_datadirs (several directories) is not supported; give one filesystem_store_datadir", name)
		}
		if o.copies(st.ID) {
			return &glintStore{ID: st.ID, Type: "file", Path: filepath.Join(o.DataDir, "stores", name)}, ""
		}
		return &glintStore{ID: st.ID, Type: "file", Path: st.Dir, Layout: "glance"}, ""
	case "s3":
		host := st.Settings["s3_store_host"]
		u, err := url.Parse(host)
		tls := false
		if err == nil && u.Host != "" {
			host, tls = u.Host, u.Scheme == "https"
		}
		// The same bucket, no prefix: Glance names each object by its
		// image id, as glint does, so Glance's s3:// locations resolve
		// to this store's keys and the objects are adopted in place.
		return &glintStore{ID: st.ID, Type: "s3", S3: map[string]any{
			"endpoint": host, "bucket": st.Settings["s3_store_bucket"], "use_tls": tls,
			"access_key": st.Settings["s3_store_access_key"], "secret_key": st.Settings["s3_store_secret_key"],
		}}, ""
	case "rbd":
		// The same cluster and pool: Glance's RBD images are adopted
		// in place (rbd:// locations resolve to keys of this store).
		conf := map[string]any{}
		for gk, key := range map[string]string{"rbd_store_pool": "pool", "rbd_store_user": "user", "rbd_store_ceph_conf": "ceph_conf"} {
			if v := st.Settings[gk]; v != "" {
				conf[key] = v
			}
		}
		if v, err := strconv.Atoi(st.Settings["rbd_store_chunk_size"]); err == nil {
			conf["chunk_size"] = v
		}
		return &glintStore{ID: st.ID, Type: "rbd", RBD: conf}, ""
	case "http":
		if st.ID == "" {
			return nil, "the http store of a single-store Glance: glint has http stores only among several (stores:); images whose data is only at web URLs are skipped"
		}
		// Read-only, as Glance's: images at web URLs are served from
		// there. import.web_download's rules apply; internal
		// addresses need http.allowed_networks.
		return &glintStore{ID: st.ID, Type: "http"}, ""
	}
	return nil, fmt.Sprintf("store %s (%s): no glint equivalent", name, strings.TrimSpace(st.Type))
}
