package glancemigrate

import (
	"context"
	"database/sql"
	"strings"
)

// SetSchemaForTest rewrites the alembic version of a copy of a Glance
// SQLite database.
func SetSchemaForTest(ctx context.Context, path, version string) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `UPDATE alembic_version SET version_num = ?`, version)
	return err
}

// OpenGlanceDBForTest opens Glance's database for writing, so a test can
// put rows in it as a Glance would (statuses and locations the test
// Glance cannot reach through its API). The migration itself never
// writes there.
func OpenGlanceDBForTest(connection string) (*sql.DB, error) {
	driver, dsn, dialect, err := dsnFor(connection)
	if err != nil {
		return nil, err
	}
	if dialect == "sqlite" {
		dsn = strings.Replace(dsn, "mode=ro&", "", 1)
	}
	return sql.Open(driver, dsn)
}
