package memstore

import (
	"fmt"
	"strings"
	"testing"
	"unsafe"

	"github.com/parleyhq/parley/recipient"
)

// T2: the directory's address index finds each address's contact and ID
// and no other, whether the address and the ID fit in their slot or not,
// whether an address's hash is its own or one other addresses share, after
// addresses move to other contacts, after removals (tombstones), as it
// grows and when addresses come back; an ID it returned never changes.
func TestAddrIndex(t *testing.T) {
	if n := unsafe.Sizeof(addrSlot{}); n != 64 {
		t.Fatalf("a slot is %d bytes, want 64: one cache line", n)
	}
	// Addresses and IDs of every length around the slot's room, and long
	// ones that only the arena holds.
	addr := func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf("+3361%07d", i) // 12 bytes
		case 1:
			return fmt.Sprintf("guest%d@example.com", i)
		case 2:
			return fmt.Sprintf("%0*d", 1+i%(addrInline+2), i)
		}
		return strings.Repeat("x", 1100) + fmt.Sprint(i) // past the arena's longest
	}
	id := func(i, gen int) string {
		switch i % 3 {
		case 0:
			return fmt.Sprintf("c%d-%d", i, gen)
		case 1:
			return fmt.Sprintf("%08x-0000-4000-8000-%012x", i, gen) // a UUID: never fits
		}
		return fmt.Sprintf("%d%s", gen, strings.Repeat("i", i%(addrInline+1)))
	}
	for _, tc := range testHashes() {
		t.Run(tc.name, func(t *testing.T) {
			var arena strArena
			x := addrIndex{hash: tc.hash}
			if x.get("+33612345678") != nil {
				t.Fatal("empty index: found an address")
			}
			if x.remove("+33612345678", nil) {
				t.Fatal("empty index: remove reported done")
			}
			type entry struct {
				id string
				c  *recipient.Contact
			}
			want := map[string]entry{}
			ids := map[string]string{} // IDs returned earlier, by the ID they were
			check := func(stage string) {
				t.Helper()
				inline := 0
				for k, w := range want {
					e := x.get(k)
					if e == nil {
						t.Fatalf("%s: %q not found", stage, k)
					}
					if got := e.id(); got != w.id || e.c != w.c {
						t.Fatalf("%s: %q leads to %q (%p), want %q (%p)", stage, k, got, e.c, w.id, w.c)
					}
					if e.ext == "" {
						inline++
					}
					ids[w.id] = e.id()
				}
				for _, k := range []string{"", "+33610000001 ", "x", addr(3)[:1100], "guest1@example.co"} {
					if _, ok := want[k]; !ok && x.get(k) != nil {
						t.Fatalf("%s: %q found, want none", stage, k)
					}
				}
				if x.live != len(want) {
					t.Fatalf("%s: %d live slots, want %d", stage, x.live, len(want))
				}
				if x.used*4 > len(x.slots)*3 {
					t.Fatalf("%s: %d slots of %d used", stage, x.used, len(x.slots))
				}
				if len(want) > 20 && (inline == 0 || inline == len(want)) {
					t.Fatalf("%s: %d of %d addresses in their slot: both kinds must be tested", stage, inline, len(want))
				}
				for was, got := range ids {
					if got != was {
						t.Fatalf("%s: an ID returned as %q is now %q", stage, was, got)
					}
				}
			}
			put := func(i, gen int) {
				k, c := addr(i), &recipient.Contact{ID: id(i, gen)}
				x.set(k, c.ID, c, &arena)
				want[k] = entry{c.ID, c}
			}
			for i := range 300 {
				put(i, 0)
			}
			check("set")
			for i := 0; i < 300; i += 5 { // moved to another contact: still one slot each
				put(i, 1)
			}
			check("moved")
			for i := 1; i < 300; i += 3 {
				k := addr(i)
				if x.remove(k, &recipient.Contact{}) {
					t.Fatalf("remove(%q) of another contact removed it", k)
				}
				if !x.remove(k, want[k].c) {
					t.Fatalf("remove(%q) did not remove it", k)
				}
				delete(want, k)
			}
			check("removed")
			for i := 1; i < 300; i += 6 { // back, into tombstones or not
				put(i, 2)
			}
			check("set again")
			for k, w := range want {
				if !x.remove(k, w.c) {
					t.Fatalf("remove(%q) did not remove it", k)
				}
				delete(want, k)
			}
			check("all removed")
			for i := range 1000 { // grows over its tombstones
				put(i+300, 3)
			}
			check("grown")
		})
	}
}
