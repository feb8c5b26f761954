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
	strs *strArena // keeps the words of new entries; nil: kept as they are
}

// wordEntry is a word with its threads: one when many is nil, else the
// ascending thread numbers in many. head holds the first eight bytes of the
// word, so that ordering and prefix scans rarely read the word itself (a
// scan for "marie" passes tens of thousands of e-mail addresses).
type wordEntry struct {
	head uint64
	w    string
	one  uint32
	many *[]uint32
}

// wordHead returns the first eight bytes of w, big-endian, zero-padded:
// heads order as the words they start.
func wordHead(w string) uint64 {
	var h uint64
	for i := range 8 {
		h <<= 8
		if i < len(w) {
			h |= uint64(w[i])
		}
	}
	return h
}

func entryOf(w string) wordEntry { return wordEntry{head: wordHead(w), w: w} }

func lessWord(a, b wordEntry) bool {
	if a.head != b.head {
		return a.head < b.head
	}
	return a.w < b.w
}

func newWordIndex() wordIndex {
	return wordIndex{tree: btree.NewG(btreeDegree, lessWord)}
}

// add records that thread num has the words.
func (x wordIndex) add(words []string, num uint32) {
	for _, w := range words {
		e, ok := x.tree.Get(entryOf(w))
		switch {
		case !ok:
			e = entryOf(x.strs.keep(w))
			e.one = num
			x.tree.ReplaceOrInsert(e)
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
		e, ok := x.tree.Get(entryOf(w))
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
				e.one, e.many = l[0], nil
				x.tree.ReplaceOrInsert(e)
				continue
			}
			*e.many = l
		}
	}
}

// scanPrefix calls fn with the number of every thread that has a word
// starting with prefix, in word order.
func (x wordIndex) scanPrefix(prefix string, fn func(uint32)) {
	head, n := wordHead(prefix), min(len(prefix), 8)
	mask := ^uint64(0) << (64 - 8*n)
	if n == 0 {
		mask = 0
	}
	x.tree.AscendGreaterOrEqual(entryOf(prefix), func(e wordEntry) bool {
		if len(e.w) < len(prefix) || e.head&mask != head {
			return false
		}
		if len(prefix) > 8 && !strings.HasPrefix(e.w, prefix) {
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
