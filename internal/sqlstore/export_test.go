package sqlstore

// SetBetweenPageAndLoad sets a function that ListImages runs between
// reading a page's ids and revisions and loading the records the cache
// lacks, where a test can write to make the loaded records newer than
// the page.
func SetBetweenPageAndLoad(s *Store, f func()) { s.betweenPageAndLoad = f }
