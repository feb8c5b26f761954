//go:build linux

package memstore_test

import (
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// cpuClock reads processor time, which, unlike the wall clock, does not
// count the time the process waits for a core: on a machine whose cores
// are shared with other work, it is what the code itself costs.
type cpuClock struct{ ok bool }

// newCPUClock locks the calling goroutine to its thread, so that the
// thread's processor time is the goroutine's, until release.
func newCPUClock() cpuClock {
	runtime.LockOSThread()
	return cpuClock{ok: true}
}

func (cpuClock) release() { runtime.UnlockOSThread() }

// thread returns the processor time the calling thread has used.
func (cpuClock) thread() time.Duration { return clock(3) } // CLOCK_THREAD_CPUTIME_ID

// process returns the processor time the whole process has used: every
// thread, the garbage collector's included.
func (cpuClock) process() time.Duration { return clock(2) } // CLOCK_PROCESS_CPUTIME_ID

func clock(id uintptr) time.Duration {
	var ts syscall.Timespec
	if _, _, e := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, id, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return 0
	}
	return time.Duration(ts.Nano())
}
