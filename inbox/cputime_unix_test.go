//go:build unix

package inbox_test

import (
	"syscall"
	"time"
)

// cpuTime returns the CPU time (user and system) the test process has used
// so far: on a machine shared with other work, benchmarks report it beside
// the wall-clock time, which waits for the CPU too.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
