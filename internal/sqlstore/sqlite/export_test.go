package sqlite

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
