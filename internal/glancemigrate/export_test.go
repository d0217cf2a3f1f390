package glancemigrate

import (
	"context"
	"database/sql"
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
