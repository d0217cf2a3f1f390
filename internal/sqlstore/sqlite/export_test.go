package sqlite

import (
	"context"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/glint-image/glint/internal/sqlstore"
)

// Pragma runs a PRAGMA on the store's single writer connection, where it
// stays in force (tests use it to make the database full or read-only).
func Pragma(s *Store, pragma string) error {
	_, err := s.w.Exec("PRAGMA " + pragma)
	return err
}

// PageCount is the database's size in pages.
func PageCount(s *Store) (int, error) {
	var n int
	err := s.w.QueryRow("PRAGMA page_count").Scan(&n)
	return n, err
}

// MigrateDownTo undoes the migrations after version; the next Open
// applies them again.
func MigrateDownTo(s *Store, version int64) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.w, fsys)
	if err != nil {
		return err
	}
	_, err = p.DownTo(context.Background(), version)
	return err
}

// Exec runs a statement on the writer connection.
func Exec(s *Store, query string, args ...any) error {
	_, err := s.w.Exec(query, args...)
	return err
}

// QueryInt runs a query of one integer on the writer connection.
func QueryInt(s *Store, query string) (int, error) {
	var n int
	err := s.w.QueryRow(query).Scan(&n)
	return n, err
}

// CloseReaders closes the read pool: every query of a read fails after it.
func CloseReaders(s *Store) error { return s.r.Close() }

// ReadStamp reads the store's WAL stamp; false without one.
func ReadStamp(s *Store) (sqlstore.Stamp, bool) {
	if s.stamp == nil {
		return sqlstore.Stamp{}, false
	}
	return s.stamp.read()
}
