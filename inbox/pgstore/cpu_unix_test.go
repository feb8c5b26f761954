//go:build unix

package pgstore_test

import (
	"syscall"
	"time"
)

// processCPU returns the processor time (user and system) this process
// used so far — the app instances' side of a benchmark, not PostgreSQL's —
// or -1 when it cannot tell.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
