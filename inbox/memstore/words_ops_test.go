package memstore

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// T13: the word index, after any sequence of adds and removes (threads
// taking and leaving words, words passing from one thread to several and
// back), finds for each word exactly the threads that have it, once each.
func TestWordIndexAddRemove(t *testing.T) {
	words := []string{"marie", "martin", "mar", "marie.martin@gmail.com", "33612345678", "612345678", "0612345678", "jean-pierre", "zoe"}
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 3))
		x := newWordIndex()
		x.strs = &strArena{}
		has := map[string]map[uint32]bool{}
		for range 400 {
			w, num := words[rng.IntN(len(words))], uint32(rng.IntN(6))
			if has[w] == nil {
				has[w] = map[uint32]bool{}
			}
			if rng.IntN(3) == 0 {
				x.remove([]string{w}, num)
				delete(has[w], num)
			} else {
				x.add([]string{w}, num)
				has[w][num] = true
			}
			for _, w := range words {
				var got, want []uint32
				x.scanPrefix(w, func(n uint32) { got = append(got, n) })
				for _, v := range words {
					if len(v) >= len(w) && v[:len(w)] == w {
						for n := range has[v] {
							want = append(want, n)
						}
					}
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Fatalf("seed %d: scanPrefix(%q) = %v, want %v", seed, w, got, want)
				}
			}
		}
	}
}
