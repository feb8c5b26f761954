package pgstore

// MigrationVersions returns the versions of the embedded migrations, in
// order; nil when they cannot be read.
func MigrationVersions() []int {
	ms, err := migrations()
	if err != nil {
		return nil
	}
	vs := make([]int, len(ms))
	for i, m := range ms {
		vs[i] = m.version
	}
	return vs
}
