package memstore

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"
)

// The arena's copies equal what was kept, and stay equal while later
// strings fill the chunk they were cut from and the chunks after it; empty
// and long strings are returned as they are.
func TestArenaKeepsCopies(t *testing.T) {
	var a strArena
	rng := rand.New(rand.NewPCG(1, 2))
	var want, got []string
	buf := make([]byte, 0, 2*maxArenaString)
	for range 20_000 {
		buf = buf[:0]
		for range rng.IntN(2*maxArenaString) / (1 + rng.IntN(16)) {
			buf = append(buf, byte('a'+rng.IntN(26)))
		}
		w := string(buf)
		want, got = append(want, w), append(got, a.keep(w))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("string %d: kept %q, want %q", i, got[i], want[i])
		}
		if long := len(want[i]) > maxArenaString; long != sameData(got[i], want[i]) && len(want[i]) > 0 {
			t.Fatalf("string %d of %d bytes: copied %v, want %v", i, len(want[i]), !long, long)
		}
	}
	if a.total < 4*maxChunk {
		t.Fatalf("kept %d bytes: the test crosses too few chunks", a.total)
	}
	var nilArena *strArena
	if s := strings.Repeat("x", 10); nilArena.keep(s) != s {
		t.Fatal("a nil arena changed the string")
	}
}

// sameData reports whether a and b are the same bytes in memory.
func sameData(a, b string) bool {
	return len(a) == len(b) && unsafe.StringData(a) == unsafe.StringData(b)
}

// The slab's records are zero, side by side within one take, and no two
// takes share a record.
func TestSlabTakes(t *testing.T) {
	var s slab[[2]uint64]
	seen := map[*[2]uint64]bool{}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		n := 1 + rng.IntN(maxSlab/2)
		recs := s.take(n)
		if len(recs) != n || cap(recs) != n {
			t.Fatalf("take %d: %d records, capacity %d", n, len(recs), cap(recs))
		}
		for j := range recs {
			p := &recs[j]
			if *p != [2]uint64{} || seen[p] {
				t.Fatalf("take %d: record %d is %v, handed out before: %v", i, j, *p, seen[p])
			}
			seen[p] = true
			p[0], p[1] = uint64(i), uint64(j)
		}
	}
}
