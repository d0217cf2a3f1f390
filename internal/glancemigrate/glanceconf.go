// Package glancemigrate takes over from a running Glance: it reads
// Glance's configuration and database (never writing either), writes
// every live record into glint's stores verbatim (image.VerbatimStore,
// metadef.Store), adopts file-store data in place or copies it with its
// checksums verified, runs again incrementally, and verifies the result
// by comparing both APIs. `glint admin migrate-glance` and `verify-glance`
// are its command-line front ends.
package glancemigrate

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ini is an oslo.config file: sections of key = value, '#' and ';'
// comments, indented continuation lines; section and key names as
// written (oslo.config treats DEFAULT specially, nothing else).
type ini map[string]map[string]string

func readINI(path string) (ini, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("glance configuration: %w", err)
	}
	defer f.Close()
	conf := ini{}
	section, last := "", ""
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		raw := sc.Text()
		line := strings.TrimSpace(raw)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case raw[0] == ' ' || raw[0] == '\t':
			if last == "" {
				return nil, fmt.Errorf("%s:%d: continuation line with nothing to continue", path, n)
			}
			conf[section][last] += "\n" + line
		case line[0] == '[':
			if !strings.HasSuffix(line, "]") {
				return nil, fmt.Errorf("%s:%d: unterminated section header", path, n)
			}
			section, last = strings.TrimSpace(line[1:len(line)-1]), ""
			if conf[section] == nil {
				conf[section] = map[string]string{}
			}
		default:
			if section == "" {
				return nil, fmt.Errorf("%s:%d: %q outside any section", path, n, line)
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				k, v, ok = strings.Cut(line, ":")
			}
			if !ok {
				return nil, fmt.Errorf("%s:%d: %q is not key = value", path, n, line)
			}
			last = strings.TrimSpace(k)
			conf[section][last] = strings.TrimSpace(v)
		}
	}
	return conf, sc.Err()
}

func (c ini) get(section, key string) string { return c[section][key] }

// list reads an oslo.config ListOpt: comma-separated, optionally in
// brackets.
func (c ini) list(section, key string) []string {
	v := strings.TrimSpace(c.get(section, key))
	v = strings.TrimSuffix(strings.TrimPrefix(v, "["), "]")
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.Trim(strings.TrimSpace(item), `'"`); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (c ini) boolean(section, key string, def bool) bool {
	b, err := strconv.ParseBool(strings.ToLower(c.get(section, key)))
	if err != nil {
		return def
	}
	return b
}

// GlanceStore is one of Glance's stores, as configured.
type GlanceStore struct {
	// ID is the backend id of a multi-store Glance (enabled_backends),
	// "" for a single-store one.
	ID   string
	Type string // file, rbd, s3, http, swift, cinder, vmware
	// Dir is a file store's filesystem_store_datadir.
	Dir string
	// Settings are the store's options glint reports on (rbd pool, s3
	// bucket, ...), by Glance's key.
	Settings map[string]string
}

// GlanceConfig is what the migration needs from glance-api.conf.
type GlanceConfig struct {
	Path string
	// Connection is [database] connection (a SQLAlchemy URL).
	Connection string
	// Stores in a stable order; MultiStore when enabled_backends is set.
	Stores       []GlanceStore
	DefaultStore string
	MultiStore   bool

	ShowDirectURL        bool
	ShowMultipleLocation bool
	ImportMethods        []string
	// UserStorageQuota is user_storage_quota in bytes, 0 for none.
	UserStorageQuota int64
	// Legacy per-image limits (image_member_quota, ...), as set.
	ImageLimits map[string]string
}

// storeKeys are the options of each store type that glint reports or
// translates.
var storeKeys = map[string][]string{
	"file": {"filesystem_store_datadir", "filesystem_store_datadirs"},
	"rbd":  {"rbd_store_pool", "rbd_store_user", "rbd_store_ceph_conf", "rbd_store_chunk_size"},
	"s3":   {"s3_store_host", "s3_store_bucket", "s3_store_access_key", "s3_store_secret_key", "s3_store_create_bucket_on_put", "s3_store_bucket_url_format"},
	"http": {},
}

// ReadGlanceConfig reads glance-api.conf.
func ReadGlanceConfig(path string) (*GlanceConfig, error) {
	conf, err := readINI(path)
	if err != nil {
		return nil, err
	}
	gc := &GlanceConfig{
		Path:                 path,
		Connection:           conf.get("database", "connection"),
		ShowDirectURL:        conf.boolean("DEFAULT", "show_image_direct_url", false),
		ShowMultipleLocation: conf.boolean("DEFAULT", "show_multiple_locations", false),
		ImportMethods:        conf.list("DEFAULT", "enabled_import_methods"),
		ImageLimits:          map[string]string{},
	}
	if gc.Connection == "" {
		return nil, fmt.Errorf("%s: [database] connection is not set", path)
	}
	if len(gc.ImportMethods) == 0 {
		gc.ImportMethods = []string{"glance-direct", "web-download", "copy-image"}
	}
	if q := conf.get("DEFAULT", "user_storage_quota"); q != "" {
		gc.UserStorageQuota, err = parseSize(q)
		if err != nil {
			return nil, fmt.Errorf("%s: [DEFAULT] user_storage_quota: %w", path, err)
		}
	}
	for _, k := range []string{"image_member_quota", "image_property_quota", "image_tag_quota", "image_location_quota"} {
		if v := conf.get("DEFAULT", k); v != "" {
			gc.ImageLimits[k] = v
		}
	}
	if backends := conf.list("DEFAULT", "enabled_backends"); len(backends) > 0 {
		gc.MultiStore = true
		gc.DefaultStore = conf.get("glance_store", "default_backend")
		for _, b := range backends {
			id, typ, ok := strings.Cut(b, ":")
			if !ok {
				return nil, fmt.Errorf("%s: enabled_backends: %q is not id:type", path, b)
			}
			gc.Stores = append(gc.Stores, storeFrom(conf, strings.TrimSpace(id), strings.TrimSpace(typ), strings.TrimSpace(id)))
		}
	} else {
		stores := conf.list("glance_store", "stores")
		if len(stores) == 0 {
			stores = []string{"file", "http"}
		}
		def := conf.get("glance_store", "default_store")
		if def == "" {
			def = "file"
		}
		for _, typ := range stores {
			typ = strings.TrimPrefix(typ, "glance.store.")
			typ = strings.TrimSuffix(strings.TrimSuffix(typ, ".Store"), "_store")
			if typ == "filesystem" {
				typ = "file"
			}
			if typ == "https" {
				continue // the http store serves both
			}
			st := storeFrom(conf, "", typ, "glance_store")
			gc.Stores = append(gc.Stores, st)
		}
		gc.DefaultStore = def
	}
	sort.SliceStable(gc.Stores, func(i, j int) bool { return gc.Stores[i].ID < gc.Stores[j].ID })
	return gc, nil
}

func storeFrom(conf ini, id, typ, section string) GlanceStore {
	st := GlanceStore{ID: id, Type: typ, Settings: map[string]string{}}
	for _, k := range storeKeys[typ] {
		if v := conf.get(section, k); v != "" {
			st.Settings[k] = v
		}
	}
	if typ == "file" {
		st.Dir = conf.get(section, "filesystem_store_datadir")
		if st.Dir == "" && st.Settings["filesystem_store_datadirs"] == "" {
			st.Dir = "/var/lib/glance/images/" // glance_store's default
		}
		if st.Dir != "" {
			st.Dir = filepath.Clean(st.Dir)
		}
	}
	return st
}

// parseSize reads user_storage_quota: bytes, or a number with B, KB, MB,
// GB or TB (powers of 1024, as Glance's utils.get_storage_quota_size).
func parseSize(s string) (int64, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	mult := int64(1)
	for i, unit := range []string{"TB", "GB", "MB", "KB"} {
		if strings.HasSuffix(s, unit) {
			mult = int64(1) << (10 * (4 - i))
			s = strings.TrimSuffix(s, unit)
			break
		}
	}
	s = strings.TrimSuffix(s, "B")
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return n * mult, nil
}
