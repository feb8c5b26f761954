package memstore

// SetMaxListed sets the number of search candidates beyond which a search
// walks the list index, so that tests exercise both ways.
func SetMaxListed(s *Store, n int) { s.maxListed = n }
