package glancemigrate_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/testenv"
)

// withStores writes a copy of a test Glance's glance-api.conf with more
// stores in enabled_backends and their sections, and reads it. The
// running Glance keeps its own file stores; the copy tells the migration
// (and --print-config) about stores whose rows the test writes into
// Glance's database as Glance's rbd and s3 drivers would.
func withStores(t *testing.T, path string, backends string, sections string) *glancemigrate.GlanceConfig {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(raw), "enabled_backends = fast:file, slow:file", "enabled_backends = fast:file, slow:file, "+backends, 1)
	if text == string(raw) {
		t.Fatalf("%s has no enabled_backends line to extend", path)
	}
	out := filepath.Join(t.TempDir(), "glance-api.conf")
	if err := os.WriteFile(out, []byte(text+"\n"+sections+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gc, err := glancemigrate.ReadGlanceConfig(out)
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

// activateWithLocation makes a queued Glance image active with data at
// url, as Glance's upload does when a store driver has written it: the
// image row's size and checksums, and one active location row whose
// metadata names the store (glance/db/sqlalchemy/api.py image_update,
// _image_locations_set).
func activateWithLocation(t *testing.T, gc *glancemigrate.GlanceConfig, id string, data []byte, url, store string) {
	t.Helper()
	db := glanceDB(t, gc)
	forgetInGlance(t, db, id)
	m, s := md5.Sum(data), sha512.Sum512(data)
	now := glanceNow()
	execSQL(t, db, `UPDATE images SET status = 'active', size = ?, checksum = ?, os_hash_algo = 'sha512', os_hash_value = ?, updated_at = ? WHERE id = ?`,
		len(data), hex.EncodeToString(m[:]), hex.EncodeToString(s[:]), now, id)
	execSQL(t, db, `INSERT INTO image_locations (image_id, value, created_at, updated_at, deleted, meta_data, status) VALUES (?, ?, ?, ?, 0, ?, 'active')`,
		id, url, now, now, `{"store": "`+store+`"}`)
}

// TestMigrateAdoptsS3: an image Glance's s3 store holds (its location
// URL s3://access:secret@host/bucket/<id>, the object named by the image
// id) is adopted in place by the glint S3 store --print-config writes for
// it: served from the same object, never copied or changed, and glint
// shows its location without Glance's keys.
func TestMigrateAdoptsS3(t *testing.T) {
	endpoint, access, secret := os.Getenv("GLINT_TEST_S3_ENDPOINT"), os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), os.Getenv("GLINT_TEST_S3_SECRET_KEY")
	if endpoint == "" {
		testenv.Missing(t, "GLINT_TEST_S3_ENDPOINT unset (.ci/s3.sh starts versitygw)")
	}
	for kind, g := range glances(t) {
		t.Run(kind, func(t *testing.T) {
			gl := api{t: t, base: g[0]}
			bucket := "glint-adopt-" + suffix()
			gc := withStores(t, g[1], "objects:s3", "[objects]\ns3_store_host = http://"+endpoint+"\ns3_store_access_key = "+access+
				"\ns3_store_secret_key = "+secret+"\ns3_store_bucket = "+bucket+"\n")

			// The object as Glance's s3 driver writes it: named by the
			// image id, at the bucket's top.
			owner := who{"s3-owner" + suffix(), "member,reader"}
			id := gl.create(owner, map[string]any{"name": "in-s3", "disk_format": "raw", "container_format": "bare"})
			data := randomData(t, 200_000)
			drv, err := s3.New(t.Context(), s3.Config{Endpoint: endpoint, Bucket: bucket, AccessKey: access, SecretKey: secret, PathStyle: true, CreateBucket: true})
			if err != nil {
				t.Fatal(err)
			}
			w, err := drv.Writer(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(data); err != nil {
				t.Fatal(err)
			}
			if err := w.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			glanceURL := "s3://" + access + ":" + secret + "@" + endpoint + "/" + bucket + "/" + id
			activateWithLocation(t, gc, id, data, glanceURL, "objects")
			if img := gl.image(owner, id); img["direct_url"] != glanceURL || img["stores"] != "objects" {
				t.Fatalf("Glance does not show the crafted location: %v", img)
			}

			cfg := glintConfig(t, gc, "slow")
			rep := migrate(t, cfg, gc, glancemigrate.Options{})
			if r, ok := skippedIDs(rep)[id]; ok {
				t.Fatalf("the S3 image was skipped: %s", r)
			}
			if rep.DataAdopted < 1 {
				t.Errorf("nothing adopted: %+v", rep)
			}
			l := startGlint(t, cfg)
			gi, li := gl.image(owner, id), l.image(owner, id)
			compareImage(t, "s3 image", gi, li)
			if want := "s3+http://" + endpoint + "/" + bucket + "/" + id; li["direct_url"] != want {
				t.Errorf("glint's direct_url %v, want %s", li["direct_url"], want)
			}
			body := l.do(owner, "GET", "/v2/images/"+id, nil, 200)
			if bytes.Contains(body, []byte(secret)) {
				t.Errorf("glint shows the S3 secret key: %s", body)
			}
			if got := l.do(owner, "GET", "/v2/images/"+id+"/file", nil, 200); !bytes.Equal(got, data) {
				t.Errorf("download from glint: %d bytes, want the %d in the object", len(got), len(data))
			}
			// Adopted, not copied: the same object, still there as it was.
			rc, err := drv.Reader(t.Context(), id, 0)
			if err != nil {
				t.Fatalf("the object after the migration: %v", err)
			}
			defer rc.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(rc); err != nil || !bytes.Equal(buf.Bytes(), data) {
				t.Errorf("the object changed: %v", err)
			}
			// A second run leaves it as it is.
			if f, ok := changedIDs(migrate(t, cfg, gc, glancemigrate.Options{}))[id]; ok {
				t.Errorf("second run changed the S3 image: %v", f)
			}
		})
	}
}

// TestMigrateAdoptsHTTP: an image whose location is a web URL (Glance's
// read-only http store) is served by glint's http store from the same
// URL, with the location's metadata beyond the store carried over.
func TestMigrateAdoptsHTTP(t *testing.T) {
	data := randomData(t, 50_000)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.ServeContent(w, r, "image.raw", time.Time{}, bytes.NewReader(data))
	}))
	defer web.Close()
	u, _ := url.Parse(web.URL)
	port, _ := strconv.Atoi(u.Port())
	for kind, g := range glances(t) {
		t.Run(kind, func(t *testing.T) {
			gl := api{t: t, base: g[0]}
			gc := withStores(t, g[1], "web:http", "[web]\n")
			owner := who{"web-owner" + suffix(), "member,reader"}
			id := gl.create(owner, map[string]any{"name": "on-the-web", "disk_format": "raw", "container_format": "bare"})
			webURL := web.URL + "/image.raw?id=" + id
			db := glanceDB(t, gc)
			activateWithLocation(t, gc, id, data, webURL, "web")
			execSQL(t, db, `UPDATE image_locations SET meta_data = ? WHERE image_id = ?`, `{"store": "web", "mirror": "eu"}`, id)

			cfg := glintConfig(t, gc, "slow")
			found := false
			for i, st := range cfg.Stores {
				if st.ID == "web" && st.Type == "http" {
					// The test server is on loopback: allowed explicitly.
					cfg.Stores[i].HTTP = config.HTTPStore{AllowedNetworks: []string{"127.0.0.0/8"}, AllowedPorts: []int{port}}
					found = true
				}
			}
			if !found {
				t.Fatalf("the written configuration lacks the http store: %+v", cfg.Stores)
			}
			rep := migrate(t, cfg, gc, glancemigrate.Options{})
			if r, ok := skippedIDs(rep)[id]; ok {
				t.Fatalf("the web image was skipped: %s", r)
			}
			l := startGlint(t, cfg)
			gi, li := gl.image(owner, id), l.image(owner, id)
			compareImage(t, "web image", gi, li)
			if gi["direct_url"] != webURL || li["direct_url"] != webURL {
				t.Errorf("direct_url: Glance %v, glint %v", gi["direct_url"], li["direct_url"])
			}
			gm, _ := json.Marshal(gi["locations"])
			lm, _ := json.Marshal(li["locations"])
			if string(gm) != string(lm) {
				t.Errorf("locations: Glance %s, glint %s", gm, lm)
			}
			if got := l.do(owner, "GET", "/v2/images/"+id+"/file", nil, 200); !bytes.Equal(got, data) {
				t.Errorf("download from glint: %d bytes, want %d", len(got), len(data))
			}
			if f, ok := changedIDs(migrate(t, cfg, gc, glancemigrate.Options{}))[id]; ok {
				t.Errorf("second run changed the web image: %v", f)
			}
		})
	}
}
