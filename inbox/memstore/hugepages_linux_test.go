//go:build linux

package memstore

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"
)

// TestAdviseHuge: the whole huge pages of a large array are marked for
// huge pages (VmFlags "hg" in /proc/self/smaps). Skipped where the kernel has no transparent huge
// pages.
func TestAdviseHuge(t *testing.T) {
	if b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil || strings.Contains(string(b), "[never]") {
		t.Skip("no transparent huge pages")
	}
	big := make([]pidSlot, 8<<20/unsafe.Sizeof(pidSlot{}))
	adviseHuge(big)
	p := uintptr(unsafe.Pointer(&big[0]))
	first := (p + hugePage - 1) &^ (hugePage - 1)
	if !vmFlag(t, first, "hg") || !vmFlag(t, first+hugePage, "hg") {
		t.Fatal("the huge pages of an 8 MiB array are not marked for huge pages")
	}
}

// vmFlag reports whether the mapping that holds address a has flag in its
// VmFlags (/proc/self/smaps).
func vmFlag(t *testing.T, a uintptr, flag string) bool {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skip(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in := false
	for sc.Scan() {
		line := sc.Text()
		var lo, hi uintptr
		if n, _ := fmt.Sscanf(line, "%x-%x", &lo, &hi); n == 2 && strings.Contains(line, " ") {
			in = lo <= a && a < hi
			continue
		}
		if in && strings.HasPrefix(line, "VmFlags:") {
			return strings.Contains(" "+strings.TrimPrefix(line, "VmFlags:")+" ", " "+flag+" ")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("no mapping holds %#x", a)
	return false
}
