//go:build linux

package memstore

import (
	"syscall"
	"unsafe"
)

// hugePage is the size of the huge pages adviseHuge asks for.
const hugePage = 2 << 20

// adviseHuge asks the kernel to back the whole huge pages (2 MiB, aligned)
// that s spans with huge pages. The store calls it on its large arrays
// read at one random place per status report (the provider-ID index, a
// broadcast's delivery records): with 4 KiB pages such a read misses the
// TLB as well as the caches, and on a virtual machine the page walk costs
// about as much again as the read (issue 18: a status report took ~100 ns
// less with huge pages).
//
// madvise(MADV_HUGEPAGE) marks the range; transparent huge pages in
// "madvise" mode, the usual default, then back the pages it faults in
// later. s comes from the Go heap, whose memory is mostly faulted in
// already: a goroutine of its own then asks for the pages to be collapsed
// into huge ones (MADV_COLLAPSE, Linux 6.1), which copies them — up to
// tens of milliseconds for a broadcast's records, not under the store's
// lock; the kernel lets the store read and write them meanwhile, as it
// lets khugepaged collapse a running process's pages. It is only advice:
// where the kernel has no huge page to give, or no such call, nothing
// changes but the speed, and the errors are ignored for that reason. The
// mark outlives s: the Go heap may put other data there later, in pages
// as large.
func adviseHuge[T any](s []T) {
	var zero T
	size := uintptr(len(s)) * unsafe.Sizeof(zero)
	if size < 2*hugePage {
		return // may hold no whole huge page: not worth a system call
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	skip := -uintptr(p) & (hugePage - 1) // to the first huge page boundary
	b := unsafe.Slice((*byte)(unsafe.Add(p, skip)), (size-skip)&^(hugePage-1))
	if syscall.Madvise(b, syscall.MADV_HUGEPAGE) == nil {
		go collapse(b) // b keeps s's memory alive until it is done
	}
}

// collapse asks for b's pages to be collapsed into huge pages now.
func collapse(b []byte) { _ = syscall.Madvise(b, madvCollapse) }

// madvCollapse is MADV_COLLAPSE, the same on every architecture.
const madvCollapse = 0x19
