//go:build !linux

package memstore

// adviseHuge does nothing: huge pages are asked for on Linux only (see
// hugepages_linux.go).
func adviseHuge[T any](s []T) {}
