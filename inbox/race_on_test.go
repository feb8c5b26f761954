//go:build race

package inbox_test

// raceEnabled: under the race detector sync.Pool drops a share of what is put
// back and instrumentation moves values to the heap, so allocation counts are
// not the program's.
const raceEnabled = true
