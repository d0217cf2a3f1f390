package glancemigrate_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
)

// A single-store Glance with the settings glint translates and those it
// only reports: the written configuration loads and validates in glint.
func TestGlintConfigFromSingleStoreGlance(t *testing.T) {
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	if err := os.Mkdir(images, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "glance-api.conf")
	if err := os.WriteFile(conf, []byte(`[DEFAULT]
# a comment
show_image_direct_url = True
user_storage_quota = 10GB
image_member_quota = 50
enabled_import_methods = [glance-direct,web-download,fancy-import]

[database]
connection = mysql+pymysql://glance:pw@db.example:3306/glance?charset=utf8

[glance_store]
stores = file,http,rbd
default_store = file
filesystem_store_datadir = `+images+`/
rbd_store_pool = images
rbd_store_user = glance
`), 0o600); err != nil {
		t.Fatal(err)
	}
	gc, err := glancemigrate.ReadGlanceConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if gc.MultiStore || gc.DefaultStore != "file" || len(gc.Stores) != 3 || gc.UserStorageQuota != 10<<30 {
		t.Fatalf("read %+v", gc)
	}
	for _, copyData := range [][]string{nil, {"*"}} {
		out, notes, err := gc.GlintConfig(glancemigrate.ConfigOptions{DataDir: filepath.Join(dir, "glint"), Copy: copyData})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "glint.yaml")
		if err := os.WriteFile(path, out, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg := config.Default()
		if err := cfg.LoadFile(path); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		st := cfg.SingleStore
		if st == nil || st.Type != "file" {
			t.Fatalf("store: %+v\n%s", st, out)
		}
		if copyData == nil && (st.Path != images || st.Layout != "glance") {
			t.Errorf("adopted store: %+v", st)
		}
		if copyData != nil && (st.Path == images || st.Layout != "") {
			t.Errorf("copied store: %+v", st)
		}
		if cfg.Quotas["image_size_total"] != 10240 {
			t.Errorf("quotas: %v", cfg.Quotas)
		}
		if strings.Join(cfg.Import.Methods, ",") != "glance-direct,web-download" {
			t.Errorf("import methods: %v", cfg.Import.Methods)
		}
		all := strings.Join(notes, "\n")
		if !cfg.ShowImageDirectURL {
			t.Error("show_image_direct_url not carried over")
		}
		for _, want := range []string{"http", "fancy-import", "image_member_quota"} {
			if !strings.Contains(all, want) {
				t.Errorf("notes lack %q:\n%s", want, all)
			}
		}
	}
}
