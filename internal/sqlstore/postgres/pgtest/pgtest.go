// Package pgtest gives tests an empty PostgreSQL schema of their own on the
// server named by GLINT_TEST_POSTGRES_DSN.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/glint-image/glint/internal/testenv"
)

// DSNVar names the environment variable with the test server's DSN.
const DSNVar = "GLINT_TEST_POSTGRES_DSN"

// DSN returns the test server's DSN, or skips t when none is configured.
func DSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(DSNVar)
	if dsn == "" {
		testenv.Missing(t, fmt.Sprintf("%s is not set; set it to a PostgreSQL DSN to run the PostgreSQL tests", DSNVar))
	}
	return dsn
}

// Schema creates an empty schema with a unique name, dropped when t ends,
// and returns the test DSN with its search_path set to it.
func Schema(t testing.TB) string {
	t.Helper()
	dsn := DSN(t)
	// Lower case: an unquoted search_path entry is folded to lower case.
	name := "glint_test_" + strings.ToLower(rand.Text())
	ident := pgx.Identifier{name}.Sanitize()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+ident); err != nil {
		db.Close()
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+ident+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return WithSearchPath(t, dsn, name)
}

// WithSearchPath adds search_path to a DSN in either of libpq's forms.
func WithSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("%s: %v", DSNVar, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
