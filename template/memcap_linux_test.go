//go:build linux

package template

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// capAddressSpace limits the process to n bytes of address space beyond what it maps
// now (RLIMIT_AS): an allocation past it fails and the Go runtime stops the process
// with "out of memory" instead of letting it grow.
func capAddressSpace(n uint64) error {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return err
	}
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmSize:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return err
			}
			limit := kb<<10 + n
			return syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit})
		}
	}
	return fmt.Errorf("no VmSize in /proc/self/status")
}

// peakRSS returns the process's peak resident memory (VmHWM).
func peakRSS() uint64 {
	status, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(status)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
