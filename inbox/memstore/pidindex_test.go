package memstore

import (
	"fmt"
	"testing"

	"github.com/parleyhq/parley/status"
)

// M4, S2: the provider ID index finds a delivery by its own provider ID
// and no other, whether its key's hash is its own or one other keys
// share, after removals (a provider ID that changes) and as it grows.
func TestPIDIndex(t *testing.T) {
	for _, tc := range testHashes() {
		t.Run(tc.name, func(t *testing.T) {
			x := newPIDIndex(tc.hash)
			if r, ok := x.get("p0"); ok || r != nil {
				t.Fatalf("empty index: get = %v, %v", r, ok)
			}
			recs := make([]*delRec, 300)
			for i := range recs {
				recs[i] = &delRec{providerID: fmt.Sprintf("p%d", i), current: status.Status(1 + i%9)}
				if _, ok := x.get(recs[i].providerID); ok {
					t.Fatalf("%s found before it was put", recs[i].providerID)
				}
				x.put(recs[i])
			}
			check := func(stage string, want map[string]*delRec) {
				t.Helper()
				for k, r := range want {
					if got, cur := x.lookup(k, x.hashOf(k)); got != r || cur != r.current {
						t.Fatalf("%s: lookup(%q) = %p, %v; want %p, %v", stage, k, got, cur, r, r.current)
					}
				}
				for _, k := range []string{"", "p300", "p-1", "x", "q0"} {
					if _, ok := want[k]; ok {
						continue
					}
					if got, ok := x.get(k); ok {
						t.Fatalf("%s: get(%q) = %p, true; want none", stage, k, got)
					}
				}
				if x.live != len(want) {
					t.Fatalf("%s: %d live slots, want %d", stage, x.live, len(want))
				}
			}
			want := map[string]*delRec{}
			for _, r := range recs {
				want[r.providerID] = r
			}
			check("put", want)
			// every third record's provider ID changes: removed under the
			// old one, put under the new one
			for i := 0; i < len(recs); i += 3 {
				r := recs[i]
				old := r.providerID
				r.providerID = fmt.Sprintf("q%d", i)
				x.remove(old, r)
				x.put(r)
				delete(want, old)
				want[r.providerID] = r
			}
			x.remove("p1", recs[0]) // another record's key: nothing
			check("moved", want)
			for k := range want {
				if _, ok := x.get(k); ok {
					x.remove(k, want[k])
				}
			}
			check("all removed", map[string]*delRec{})
			for _, r := range recs { // the tombstones are reused or left behind
				x.put(r)
				want[r.providerID] = r
			}
			check("put again", want)
		})
	}
}
