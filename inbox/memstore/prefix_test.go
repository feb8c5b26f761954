package memstore

import (
	"math"
	"strings"
	"testing"
)

// T20: the feed keeps each event's data after the prefix it shares with
// its arena's first event. TestCommonPrefix compares commonPrefix, eight bytes at a time, with a
// comparison byte by byte, for every length of a and b up to 20 and every
// place of a first difference, and with a limit.
func TestCommonPrefix(t *testing.T) {
	slow := func(a, b []byte, limit int) int {
		i := 0
		for i < len(a) && i < len(b) && i < limit && a[i] == b[i] {
			i++
		}
		return i
	}
	base := []byte(`{"type":"status_changed","thread":"t1"}`)
	for la := range 21 {
		for lb := range 21 {
			for diff := -1; diff < 21; diff++ {
				a := append([]byte(nil), base[:la]...)
				b := append([]byte(nil), base[:lb]...)
				if diff >= 0 && diff < lb {
					b[diff] ^= 0x80
				}
				for _, limit := range []int{math.MaxUint16, 0, 3, 9} {
					if got, want := commonPrefix(a, b, limit), slow(a, b, limit); got != want {
						t.Fatalf("commonPrefix(%q, %q, %d) = %d, want %d", a, b, limit, got, want)
					}
				}
			}
		}
	}
	long := []byte(strings.Repeat("x", math.MaxUint16+10))
	if got := commonPrefix(long, long, math.MaxUint16); got != math.MaxUint16 {
		t.Fatalf("commonPrefix of equal long data = %d, want %d", got, math.MaxUint16)
	}
}
