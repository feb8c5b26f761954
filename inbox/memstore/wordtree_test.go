package memstore

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// T13: the word tree, with nodes of 3 to 8 entries so that leaves and
// inner nodes split often, agrees with a sorted slice of entries after
// every insert, replacement and removal: Get finds each entry, and a scan
// from any word (present or not) gives the entries from its place on, in
// lessWord order. Words share their first 8 and 16 bytes so that heads
// and tails tie.
func TestWordTreeModel(t *testing.T) {
	words := func(rng *rand.Rand) string {
		switch rng.IntN(4) {
		case 0:
			return "3361234" + strconv.Itoa(rng.IntN(300)) // heads tie
		case 1:
			return "marie.martin1234" + strconv.Itoa(rng.IntN(200)) // heads and tails tie
		case 2:
			return strconv.Itoa(rng.IntN(500))
		}
		return string(rune('a'+rng.IntN(26))) + strconv.Itoa(rng.IntN(50))
	}
	for seed := range uint64(12) {
		rng := rand.New(rand.NewPCG(seed, 22))
		tr := &wordTree{max: 3 + int(seed%6)}
		var model []wordEntry // sorted by lessWord
		find := func(e wordEntry) (int, bool) {
			return slices.BinarySearchFunc(model, e, func(a, b wordEntry) int {
				switch {
				case lessWord(a, b):
					return -1
				case lessWord(b, a):
					return 1
				}
				return 0
			})
		}
		for op := range 3000 {
			e := entryOf(words(rng))
			e.one = uint32(op)
			i, found := find(e)
			switch rng.IntN(5) {
			case 0, 1, 2:
				old, ok := tr.ReplaceOrInsert(e)
				if ok != found || found && old != model[i] {
					t.Fatalf("seed %d op %d: ReplaceOrInsert(%q) = %+v, %v; model %v", seed, op, e.w, old, ok, found)
				}
				if found {
					model[i] = e
				} else {
					model = slices.Insert(model, i, e)
				}
			case 3:
				old, ok := tr.Delete(e)
				if ok != found || found && old != model[i] {
					t.Fatalf("seed %d op %d: Delete(%q) = %+v, %v; model %v", seed, op, e.w, old, ok, found)
				}
				if found {
					model = slices.Delete(model, i, i+1)
				}
			default:
				got, ok := tr.Get(e)
				if ok != found || found && got != model[i] {
					t.Fatalf("seed %d op %d: Get(%q) = %+v, %v; model %v", seed, op, e.w, got, ok, found)
				}
			}
			if op%50 == 0 || op > 2900 {
				from := entryOf(words(rng))
				j, _ := find(from)
				var got []wordEntry
				limit := rng.IntN(len(model)+2) + 1
				tr.AscendGreaterOrEqual(from, func(e wordEntry) bool {
					got = append(got, e)
					return len(got) < limit
				})
				want := model[j:min(len(model), j+limit)]
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d op %d: scan from %q (limit %d) = %d entries, want %d", seed, op, from.w, limit, len(got), len(want))
				}
			}
		}
		var all []wordEntry
		tr.AscendGreaterOrEqual(wordEntry{}, func(e wordEntry) bool { all = append(all, e); return true })
		if !slices.Equal(all, model) {
			t.Fatalf("seed %d: the tree holds %d entries in order, the model %d", seed, len(all), len(model))
		}
	}
}
