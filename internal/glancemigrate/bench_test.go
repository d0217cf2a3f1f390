package glancemigrate_test

import (
	"context"
	"crypto/md5"
	"crypto/sha512"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/server"
	"github.com/glint-image/glint/internal/testenv"
)

// BenchmarkMigrate migrates a Glance catalog of 10,000 active images
// (1,000 with -short), each with five properties, two tags, a member and
// a file in an adopted store, into a fresh glint on SQLite; then runs
// again with nothing changed. The schema is a copy of the SQLite Glance's
// (glance-manage db_sync), the rows written straight into the copy.
// Reported: seconds per full run (first) and per incremental run
// (second).
func BenchmarkMigrate(b *testing.B) {
	conf := os.Getenv("GLINT_TEST_GLANCE_SQLITE_CONFIG")
	if conf == "" {
		testenv.Missing(b, "GLINT_TEST_GLANCE_SQLITE_CONFIG unset (.ci/glance.sh starts a Glance on SQLite)")
	}
	n := 10000
	if testing.Short() {
		n = 1000
	}
	real, err := glancemigrate.ReadGlanceConfig(conf)
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	dbPath := filepath.Join(dir, "glance.sqlite")
	files := filepath.Join(dir, "images")
	if err := os.MkdirAll(files, 0o700); err != nil {
		b.Fatal(err)
	}
	src, _ := strings.CutPrefix(real.Connection, "sqlite:///")
	if err := seedGlance(b.Context(), src, dbPath, files, n); err != nil {
		b.Fatal(err)
	}
	gc := &glancemigrate.GlanceConfig{Path: "bench", Connection: "sqlite:///" + dbPath,
		Stores: []glancemigrate.GlanceStore{{Type: "file", Dir: files}}, DefaultStore: "file"}
	var first, second time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		cfg := config.Default()
		cfg.DataDir = b.TempDir()
		cfg.SingleStore = &config.Store{Type: "file", Path: files, Layout: "glance"}
		st, _, err := server.OpenRecords(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		stores, err := server.OpenStores(b.Context(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		m := &glancemigrate.Migrator{Glance: gc, Records: st.(glancemigrate.Records), Metadefs: st, Stores: stores,
			Adopt: map[string]string{stores.Default: files}}
		b.StartTimer()
		start := time.Now()
		rep, err := m.Run(b.Context(), glancemigrate.Options{})
		first += time.Since(start)
		if err != nil || rep.Images.Created != n || rep.DataAdopted != n {
			b.Fatalf("first run: %+v, %v, skipped %v", rep.Images, err, rep.Skipped)
		}
		start = time.Now()
		rep, err = m.Run(b.Context(), glancemigrate.Options{})
		second += time.Since(start)
		if err != nil || rep.Images.Unchanged != n {
			b.Fatalf("second run: %+v, %v", rep.Images, err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "s/first-run")
	b.ReportMetric(second.Seconds()/float64(b.N), "s/second-run")
	b.ReportMetric(float64(n), "images")
}

// seedGlance copies Glance's SQLite database (for its schema) to dst,
// empties the image tables and writes n images there, with files in dir.
func seedGlance(ctx context.Context, src, dst, dir string, n int) error {
	raw, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.WriteFile(dst, raw, 0o600); err != nil {
		return err
	}
	db, err := sql.Open("sqlite", dst)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, t := range []string{"image_properties", "image_tags", "image_members", "image_locations", "task_info", "tasks", "images",
		"metadef_namespace_resource_types", "metadef_objects", "metadef_properties", "metadef_tags", "metadef_namespaces"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return err
		}
	}
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC).Format("2006-01-02 15:04:05.000000")
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		data := []byte(fmt.Sprintf("image %d data", i))
		if err := os.WriteFile(filepath.Join(dir, id), data, 0o600); err != nil {
			return err
		}
		md := md5.Sum(data)
		sh := sha512.Sum512(data)
		if _, err := tx.ExecContext(ctx, `INSERT INTO images (id, name, size, status, created_at, updated_at, deleted,
			disk_format, container_format, checksum, owner, min_disk, min_ram, protected, virtual_size, visibility,
			os_hidden, os_hash_algo, os_hash_value) VALUES (?, ?, ?, 'active', ?, ?, 0, 'qcow2', 'bare', ?, ?, 0, 0, 0, ?, ?, 0, 'sha512', ?)`,
			id, fmt.Sprintf("image-%d", i), len(data), at, at, hex.EncodeToString(md[:]), fmt.Sprintf("project-%d", i%50),
			len(data), []string{"public", "private", "shared", "community"}[i%4], hex.EncodeToString(sh[:])); err != nil {
			return err
		}
		for p := range 5 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO image_properties (image_id, name, value, created_at, deleted)
				VALUES (?, ?, ?, ?, 0)`, id, fmt.Sprintf("prop_%d", p), fmt.Sprintf("value %d", i), at); err != nil {
				return err
			}
		}
		for _, tag := range []string{"bench", fmt.Sprintf("t%d", i%10)} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO image_tags (image_id, value, created_at, deleted) VALUES (?, ?, ?, 0)`, id, tag, at); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_members (image_id, member, can_share, status, created_at, updated_at, deleted)
			VALUES (?, ?, 0, 'accepted', ?, ?, 0)`, id, fmt.Sprintf("member-%d", i%7), at, at); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO image_locations (image_id, value, meta_data, status, created_at, deleted)
			VALUES (?, ?, '{}', 'active', ?, 0)`, id, "file://"+filepath.Join(dir, id), at); err != nil {
			return err
		}
	}
	return tx.Commit()
}
