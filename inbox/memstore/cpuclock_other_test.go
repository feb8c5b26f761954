//go:build !linux

package memstore_test

import "time"

// cpuClock reads processor time where the system offers it; here it does
// not, and the benchmarks report wall-clock time only.
type cpuClock struct{ ok bool }

func newCPUClock() cpuClock             { return cpuClock{} }
func (cpuClock) release()               {}
func (cpuClock) thread() time.Duration  { return 0 }
func (cpuClock) process() time.Duration { return 0 }
