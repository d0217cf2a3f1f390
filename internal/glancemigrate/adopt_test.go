package glancemigrate_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/blob/s3"
	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/testenv"
)

// withStores writes a copy of a test Glance's glance-api.conf with more
// stores in enabled_backends and their sections, and reads it.
func withStores(t *testing.T, path string, backends string, sections string) *glancemigrate.GlanceConfig {
	t.Helper()
	gc, err := glancemigrate.ReadGlanceConfig(writeStores(t, path, backends, sections, ""))
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

// writeStores writes the copy; with port set, the copy listens there and
// logs to a file of its own, for a second glance-api on the same
// database.
func writeStores(t *testing.T, path, backends, sections, port string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	text := strings.Replace(string(raw), "enabled_backends = fast:file, slow:file", "enabled_backends = fast:file, slow:file, "+backends, 1)
	if text == string(raw) {
		t.Fatalf("%s has no enabled_backends line to extend", path)
	}
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		switch k, _, _ := strings.Cut(line, "="); {
		case port != "" && strings.TrimSpace(k) == "bind_port":
			line = "bind_port = " + port
		case port != "" && strings.TrimSpace(k) == "log_file":
			line = "log_file = " + filepath.Join(dir, "glance-api.log")
		}
		lines = append(lines, line)
	}
	out := filepath.Join(dir, "glance-api.conf")
	if err := os.WriteFile(out, []byte(strings.Join(lines, "\n")+"\n"+sections+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// startGlance runs a second glance-api (Debian's, as .ci/glance.sh
// starts it) on the test Glance's database with more stores, so images
// go through Glance's own rbd or s3 driver. It returns its API and
// configuration; it is stopped when the test ends.
func startGlance(t *testing.T, path, backends, sections string) (api, *glancemigrate.GlanceConfig) {
	t.Helper()
	bin, err := exec.LookPath("glance-api")
	if err != nil {
		testenv.Missing(t, "glance-api is not installed (.ci/glance.sh installs it)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	conf := writeStores(t, path, backends, sections, port)
	cmd := exec.Command(bin, "--config-file", conf)
	out, err := os.Create(filepath.Join(filepath.Dir(conf), "stdout.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	// glance-api forks its workers: a process group of its own, stopped
	// whole at the end.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	base := "http://127.0.0.1:" + port
	for deadline := time.Now().Add(120 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get(base + "/versions"); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) || cmd.ProcessState != nil {
			logs, _ := os.ReadFile(filepath.Join(filepath.Dir(conf), "glance-api.log"))
			stdout, _ := os.ReadFile(out.Name())
			t.Fatalf("glance-api with %s did not start:\n%s\n%s", backends, stdout, tail(string(logs), 4000))
		}
	}
	gc, err := glancemigrate.ReadGlanceConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	return api{t: t, base: base}, gc
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// oneGlance picks one of the test Glances (the stores' drivers, not the
// database, are under test): SQLite's if it runs.
func oneGlance(t *testing.T) [2]string {
	gs := glances(t)
	if g, ok := gs["sqlite"]; ok {
		return g
	}
	return gs["mysql"]
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

// TestMigrateAdoptsS3: an image uploaded through Glance's own s3 driver
// (a second glance-api on the test Glance's database, with an s3 store on
// versitygw: Glance writes the object under the image id and the
// location s3://access:secret@host/bucket/<id>) is adopted in place by
// the glint S3 store --print-config writes for it: served from the same
// object, never copied or changed, and shown without Glance's keys.
func TestMigrateAdoptsS3(t *testing.T) {
	endpoint, access, secret := os.Getenv("GLINT_TEST_S3_ENDPOINT"), os.Getenv("GLINT_TEST_S3_ACCESS_KEY"), os.Getenv("GLINT_TEST_S3_SECRET_KEY")
	if endpoint == "" {
		testenv.Missing(t, "GLINT_TEST_S3_ENDPOINT unset (.ci/s3.sh starts versitygw)")
	}
	g := oneGlance(t)
	bucket := "glint-adopt-" + suffix()
	gl, gc := startGlance(t, g[1], "objects:s3", "[objects]\ns3_store_host = http://"+endpoint+"\ns3_store_access_key = "+access+
		"\ns3_store_secret_key = "+secret+"\ns3_store_bucket = "+bucket+"\ns3_store_create_bucket_on_put = true\ns3_store_bucket_url_format = path\n")

	owner := who{"s3-owner" + suffix(), "member,reader"}
	id := gl.create(owner, map[string]any{"name": "in-s3", "disk_format": "raw", "container_format": "bare"})
	data := randomData(t, 200_000)
	gl.do(owner, "PUT", "/v2/images/"+id+"/file", data, 204, "X-Image-Meta-Store", "objects")
	forgetInGlance(t, glanceDB(t, gc), id)
	glanceURL := "s3://" + access + ":" + secret + "@" + endpoint + "/" + bucket + "/" + id
	if img := gl.image(owner, id); img["direct_url"] != glanceURL || img["stores"] != "objects" {
		t.Fatalf("Glance's s3 driver wrote another location: %v (want %s)", img, glanceURL)
	}
	drv, err := s3.New(t.Context(), s3.Config{Endpoint: endpoint, Bucket: bucket, AccessKey: access, SecretKey: secret, PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	readObject := func() []byte {
		rc, err := drv.Reader(t.Context(), id, 0)
		if err != nil {
			t.Fatalf("Glance's object: %v", err)
		}
		defer rc.Close()
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(rc); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	if !bytes.Equal(readObject(), data) {
		t.Fatal("Glance's object does not hold the data uploaded")
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
	if body := l.do(owner, "GET", "/v2/images/"+id, nil, 200); bytes.Contains(body, []byte(secret)) {
		t.Errorf("glint shows the S3 secret key: %s", body)
	}
	if got := l.do(owner, "GET", "/v2/images/"+id+"/file", nil, 200); !bytes.Equal(got, data) {
		t.Errorf("download from glint: %d bytes, want the %d in the object", len(got), len(data))
	}
	// Adopted, not copied: the same object, as it was.
	if !bytes.Equal(readObject(), data) {
		t.Error("the object changed")
	}
	if f, ok := changedIDs(migrate(t, cfg, gc, glancemigrate.Options{}))[id]; ok {
		t.Errorf("second run changed the S3 image: %v", f)
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
	eachGlance(t, func(t *testing.T, gl api, glance *glancemigrate.GlanceConfig) {
		gc := withStores(t, glance.Path, "web:http", "[web]\n")
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
