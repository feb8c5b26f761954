package memstore

import (
	"fmt"
	"testing"
)

// testHashes are the hash functions the indexes are tested with: a
// seeded one, and two that make keys collide (every key, and every other
// key, one hash).
func testHashes() []struct {
	name string
	hash func(string) uint64
} {
	return []struct {
		name string
		hash func(string) uint64
	}{
		{"seeded", newHash()},
		{"every hash equal", func(string) uint64 { return 7 }},
		{"two keys a hash", func(k string) uint64 { return uint64(len(k)) % 2 }},
	}
}

// T1, M5: a record is found by its own key and no other, whether its
// key's hash is its own or one that other keys share.
func TestKeyIndex(t *testing.T) {
	type rec struct{ id string }
	for _, tc := range testHashes() {
		t.Run(tc.name, func(t *testing.T) {
			x := newKeyIndex(func(r *rec) string { return r.id }, tc.hash)
			recs := make([]*rec, 100)
			for i := range recs {
				recs[i] = &rec{id: fmt.Sprintf("m%d", i)}
				if _, ok := x.get(recs[i].id); ok {
					t.Fatalf("%s found before it was put", recs[i].id)
				}
				x.put(recs[i])
			}
			for _, r := range recs {
				if got, ok := x.get(r.id); !ok || got != r {
					t.Errorf("get(%q) = %v, %v; want its record", r.id, got, ok)
				}
				if got := x.at(r.id); got != r {
					t.Errorf("at(%q) = %v; want its record", r.id, got)
				}
			}
			for _, k := range []string{"", "m100", "m-1", "x"} {
				if got, ok := x.get(k); ok || x.at(k) != nil {
					t.Errorf("get(%q) = %v, true; want none", k, got)
				}
			}
		})
	}
}
