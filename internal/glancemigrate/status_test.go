package glancemigrate_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/glint-image/glint/internal/config"
	"github.com/glint-image/glint/internal/glancemigrate"
	"github.com/glint-image/glint/internal/image"
	"github.com/glint-image/glint/internal/server"
)

// glanceDB opens the test Glance's database for writing, to put in rows
// its API cannot produce on demand, written as Glance's own code writes
// them (glance/db/sqlalchemy/api.py).
func glanceDB(t *testing.T, gc *glancemigrate.GlanceConfig) *sql.DB {
	t.Helper()
	db, err := glancemigrate.OpenGlanceDBForTest(gc.Connection)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// glanceNow is a DATETIME as Glance's SQLAlchemy models write it.
func glanceNow() string { return time.Now().UTC().Format("2006-01-02 15:04:05.000000") }

func execSQL(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// setStatus moves an image to a status as Glance's image_update does.
func setStatus(t *testing.T, db *sql.DB, id, status string) {
	execSQL(t, db, `UPDATE images SET status = ?, updated_at = ? WHERE id = ?`, status, glanceNow(), id)
}

// forgetInGlance deletes images in Glance's database as its image_destroy
// does, once the test is over: the Glance servers are shared by the
// package's tests, and images left in states only this test makes would
// show in the others' catalogs.
func forgetInGlance(t *testing.T, db *sql.DB, ids ...string) {
	t.Cleanup(func() {
		now := glanceNow()
		for _, id := range ids {
			execSQL(t, db, `UPDATE images SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ? AND deleted = 0`, now, now, id)
			execSQL(t, db, `UPDATE image_locations SET status = 'deleted', deleted = 1, deleted_at = ?, updated_at = ? WHERE image_id = ? AND deleted = 0`, now, now, id)
		}
	})
}

// glintRecord reads an image straight from glint's records, deleted ones
// included (the API hides those).
func glintRecord(t *testing.T, cfg config.Config, id string) (*image.Image, error) {
	t.Helper()
	st, _, err := server.OpenRecords(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	return st.GetImage(t.Context(), id)
}

// TestMigrateStatuses: images in every status Glance has are copied
// with it, and compared field by field with Glance's API as their owner:
// queued, uploading (staged), active, deactivated through Glance's API;
// saving, importing and killed as Glance's workers leave them (set in
// its database: the API passes through them too quickly to catch).
// pending_delete is what Glance's delayed_delete leaves: a deleted row
// whose data waits for the scrubber. Deleted images are not migrated
// unless --include-deleted; then they are deleted records without data,
// and their data in Glance's store is not touched.
func TestMigrateStatuses(t *testing.T) {
	eachGlance(t, func(t *testing.T, gl api, gc *glancemigrate.GlanceConfig) {
		db := glanceDB(t, gc)
		s := suffix()
		owner, admin := who{"st-owner" + s, "member,reader"}, who{"st-admin" + s, "admin,member,reader"}
		ids := map[string]string{}
		mk := func(status string) string {
			id := gl.create(owner, map[string]any{"name": "status-" + status, "disk_format": "raw", "container_format": "bare"})
			ids[status] = id
			forgetInGlance(t, db, id)
			return id
		}
		mk("queued")
		gl.do(owner, "PUT", "/v2/images/"+mk("uploading")+"/stage", randomData(t, 2048), 204)
		gl.do(owner, "PUT", "/v2/images/"+mk("active")+"/file", randomData(t, 3000), 204)
		de := mk("deactivated")
		gl.do(owner, "PUT", "/v2/images/"+de+"/file", randomData(t, 3001), 204)
		gl.do(admin, "POST", "/v2/images/"+de+"/actions/deactivate", nil, 204)
		setStatus(t, db, mk("saving"), "saving")
		imp := mk("importing")
		gl.do(owner, "PUT", "/v2/images/"+imp+"/stage", randomData(t, 2049), 204)
		setStatus(t, db, imp, "importing")
		setStatus(t, db, mk("killed"), "killed")
		pd := mk("pending_delete")
		gl.do(owner, "PUT", "/v2/images/"+pd+"/file", randomData(t, 3002), 204)
		var pdFile string
		for _, st := range gc.Stores {
			if st.ID == "fast" {
				pdFile = filepath.Join(st.Dir, pd)
			}
		}
		now := glanceNow()
		execSQL(t, db, `UPDATE images SET status = 'pending_delete', deleted = 1, deleted_at = ?, updated_at = ? WHERE id = ?`, now, now, pd)
		execSQL(t, db, `UPDATE image_locations SET status = 'pending_delete', deleted = 1, deleted_at = ?, updated_at = ? WHERE image_id = ?`, now, now, pd)
		gone := mk("deleted")
		gl.do(owner, "PUT", "/v2/images/"+gone+"/file", randomData(t, 3003), 204)
		gl.do(owner, "DELETE", "/v2/images/"+gone, nil, 204)

		cfg := glintConfig(t, gc, "slow")
		rep := migrate(t, cfg, gc, glancemigrate.Options{})
		for status, id := range ids {
			if r, ok := skippedIDs(rep)[id]; ok {
				t.Errorf("%s skipped: %s", status, r)
			}
		}
		// The records hold Glance's statuses as they are.
		for _, status := range []string{"queued", "uploading", "active", "deactivated", "saving", "importing", "killed"} {
			rec, err := glintRecord(t, cfg, ids[status])
			if err != nil || string(rec.Status) != status {
				t.Errorf("%s: glint's record %v, %v", status, rec, err)
			}
		}
		// glint's start recovers transfers no process runs any more,
		// as after its own crash: an upload that was saving and an
		// import without its task go back to queued, so the owner
		// can send the data again (Glance's staged data stays with
		// Glance). The other statuses answer as Glance does.
		l := startGlint(t, cfg)
		for _, status := range []string{"saving", "importing"} {
			if li := l.image(owner, ids[status]); li["status"] != "queued" {
				t.Errorf("%s after glint's start: %v", status, li["status"])
			}
		}
		for _, status := range []string{"queued", "uploading", "active", "deactivated", "killed"} {
			gi, li := gl.image(owner, ids[status]), l.image(owner, ids[status])
			if li["status"] != status {
				t.Errorf("%s: glint shows status %v", status, li["status"])
			}
			compareImage(t, status, gi, li)
		}
		for _, status := range []string{"pending_delete", "deleted"} {
			if _, err := glintRecord(t, cfg, ids[status]); !errors.Is(err, image.ErrNotFound) {
				t.Errorf("%s image migrated without --include-deleted: %v", status, err)
			}
		}

		// --include-deleted: both become deleted records, without
		// data; Glance's pending_delete file stays for its scrubber.
		rep = migrate(t, cfg, gc, glancemigrate.Options{IncludeDeleted: true})
		if rep.Images.Created < 2 {
			t.Errorf("--include-deleted created %d records, want the 2 deleted images: %+v", rep.Images.Created, rep.Images)
		}
		for _, status := range []string{"pending_delete", "deleted"} {
			rec, err := glintRecord(t, cfg, ids[status])
			if err != nil {
				t.Fatalf("%s image with --include-deleted: %v", status, err)
			}
			if !rec.IsDeleted() || string(rec.Status) != status || rec.Location != "" {
				t.Errorf("%s image with --include-deleted: status %s, deleted %v, location %q", status, rec.Status, rec.IsDeleted(), rec.Location)
			}
			l.do(owner, "GET", "/v2/images/"+ids[status], nil, 404)
		}
		if _, err := os.Stat(pdFile); err != nil {
			t.Errorf("the pending_delete image's file in Glance's store: %v", err)
		}
		// A run without the flag afterwards leaves them as they are.
		again := migrate(t, cfg, gc, glancemigrate.Options{})
		if again.Images.Created+again.Images.Updated+again.Images.Deleted != 0 {
			t.Errorf("a plain run after --include-deleted changed records: %+v %+v", again.Images, again.Changes)
		}
	})
}
