package memstore

import (
	"slices"
	"strings"

	"github.com/google/btree"
)

// wordIndex is an ordered set of words, each with the threads that have
// it: the subject word and phone form indexes of the search (T13). A word
// most threads share (a first name, a mail domain) costs four bytes per
// thread; a word of one thread (an email address) one entry.
type wordIndex struct {
	tree *btree.BTreeG[wordEntry]
}

// wordEntry is a word with its threads: one when many is nil, else the
// ascending thread numbers in many.
type wordEntry struct {
	w    string
	one  uint32
	many *[]uint32
}

func newWordIndex() wordIndex {
	return wordIndex{tree: btree.NewG(btreeDegree, func(a, b wordEntry) bool { return a.w < b.w })}
}

// add records that thread num has the words.
func (x wordIndex) add(words []string, num uint32) {
	for _, w := range words {
		e, ok := x.tree.Get(wordEntry{w: w})
		switch {
		case !ok:
			x.tree.ReplaceOrInsert(wordEntry{w: w, one: num})
		case e.many == nil:
			if e.one == num {
				continue
			}
			l := []uint32{e.one, num}
			if num < e.one {
				l[0], l[1] = num, e.one
			}
			e.many = &l
			x.tree.ReplaceOrInsert(e)
		default:
			l := *e.many
			if n := len(l); n > 0 && l[n-1] < num {
				*e.many = append(l, num)
			} else if i, found := slices.BinarySearch(l, num); !found {
				*e.many = slices.Insert(l, i, num)
			}
		}
	}
}

// remove records that thread num no longer has the words.
func (x wordIndex) remove(words []string, num uint32) {
	for _, w := range words {
		e, ok := x.tree.Get(wordEntry{w: w})
		switch {
		case !ok:
		case e.many == nil:
			if e.one == num {
				x.tree.Delete(e)
			}
		default:
			l := *e.many
			i, found := slices.BinarySearch(l, num)
			if !found {
				continue
			}
			l = slices.Delete(l, i, i+1)
			if len(l) == 1 {
				x.tree.ReplaceOrInsert(wordEntry{w: w, one: l[0]})
				continue
			}
			*e.many = l
		}
	}
}

// scanPrefix calls fn with the number of every thread that has a word
// starting with prefix, in word order.
func (x wordIndex) scanPrefix(prefix string, fn func(uint32)) {
	x.tree.AscendGreaterOrEqual(wordEntry{w: prefix}, func(e wordEntry) bool {
		if !strings.HasPrefix(e.w, prefix) {
			return false
		}
		if e.many == nil {
			fn(e.one)
			return true
		}
		for _, n := range *e.many {
			fn(n)
		}
		return true
	})
}
