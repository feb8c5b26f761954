package memstore

import (
	"fmt"
	"testing"
)

// T2: the string index that finds a subject's live thread and a contact by
// address finds each key's value and no other, whether its key's hash is
// its own or one other keys share, after values are replaced, after
// removals (tombstones), as it grows, and when keys come back.
func TestStrIndex(t *testing.T) {
	for _, tc := range testHashes() {
		t.Run(tc.name, func(t *testing.T) {
			x := strIndex[int]{hash: tc.hash}
			if v, ok := x.get("k0"); ok || v != 0 {
				t.Fatalf("empty index: get = %v, %v", v, ok)
			}
			if x.remove("k0", nil) {
				t.Fatal("empty index: remove k0 reported done")
			}
			want := map[string]int{}
			check := func(stage string) {
				t.Helper()
				for k, v := range want {
					if got, ok := x.get(k); !ok || got != v {
						t.Fatalf("%s: get(%q) = %d, %v; want %d", stage, k, got, ok, v)
					}
				}
				for _, k := range []string{"", "k300", "k-1", "x", "q0", "k1 "} {
					if _, ok := want[k]; ok {
						continue
					}
					if got, ok := x.get(k); ok {
						t.Fatalf("%s: get(%q) = %d, true; want none", stage, k, got)
					}
				}
				if x.live != len(want) {
					t.Fatalf("%s: %d live slots, want %d", stage, x.live, len(want))
				}
				if x.used*4 > len(x.slots)*3 {
					t.Fatalf("%s: %d slots of %d used", stage, x.used, len(x.slots))
				}
			}
			for i := range 300 {
				k := fmt.Sprintf("k%d", i)
				if _, ok := x.get(k); ok {
					t.Fatalf("%s found before it was set", k)
				}
				x.set(k, i)
				want[k] = i
			}
			check("set")
			for i := 0; i < 300; i += 5 { // replaced: still one slot each
				k := fmt.Sprintf("k%d", i)
				x.set(k, -i)
				want[k] = -i
			}
			check("replaced")
			for i := 1; i < 300; i += 3 {
				k := fmt.Sprintf("k%d", i)
				if x.remove(k, func(v int) bool { return v != want[k]+1 }) {
					t.Fatalf("remove(%q) with keep true removed it", k)
				}
				if !x.remove(k, func(v int) bool { return v != want[k] }) {
					t.Fatalf("remove(%q) did not remove it", k)
				}
				delete(want, k)
			}
			check("removed")
			for i := 1; i < 300; i += 6 { // back, into tombstones or not
				k := fmt.Sprintf("k%d", i)
				x.set(k, 1000+i)
				want[k] = 1000 + i
			}
			check("set again")
			for k := range want {
				if !x.remove(k, nil) {
					t.Fatalf("remove(%q) did not remove it", k)
				}
				delete(want, k)
			}
			check("all removed")
			for i := range 1000 { // grows over its tombstones
				k := fmt.Sprintf("n%d", i)
				x.set(k, i)
				want[k] = i
			}
			check("grown")
		})
	}
}
