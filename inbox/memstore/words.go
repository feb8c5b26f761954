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
//
// A word enters the tree with one descent (ReplaceOrInsert) and a second
// only when another thread had it alone; the words of several threads are
// also in many, by word, so that adding a thread to one (a first name, a
// mail domain) or removing it reads no tree node. Most words of a store
// of contacts are one thread's (phone forms, e-mail addresses): a lookup
// before each insert cost as much as the insert.
type wordIndex struct {
	tree *btree.BTreeG[wordEntry]
	strs *strArena // keeps the words of new entries; nil: kept as they are
	// many holds each entry with several threads by its word: the list its
	// entry's many points to.
	many map[string]*[]uint32
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
	return wordIndex{tree: btree.NewG(btreeDegree, lessWord), many: make(map[string]*[]uint32)}
}

// add records that thread num has the words.
func (x wordIndex) add(words []string, num uint32) {
	for _, w := range words {
		if l, ok := x.many[w]; ok {
			if n := len(*l); n > 0 && (*l)[n-1] < num {
				*l = append(*l, num)
			} else if i, found := slices.BinarySearch(*l, num); !found {
				*l = slices.Insert(*l, i, num)
			}
			continue
		}
		e := entryOf(x.strs.keep(w))
		e.one = num
		old, found := x.tree.ReplaceOrInsert(e)
		switch {
		case !found || old.many == nil && old.one == num:
			continue // new, or this thread's already
		case old.many != nil: // in many, always: kept as it was
			x.tree.ReplaceOrInsert(old)
			x.many[old.w] = old.many
			x.add([]string{w}, num)
			continue
		}
		// another thread had it alone: both now, under the word kept first
		l := []uint32{old.one, num}
		if num < old.one {
			l[0], l[1] = num, old.one
		}
		old.many = &l
		x.tree.ReplaceOrInsert(old)
		x.many[old.w] = &l
	}
}

// remove records that thread num no longer has the words.
func (x wordIndex) remove(words []string, num uint32) {
	for _, w := range words {
		if l, ok := x.many[w]; ok {
			i, found := slices.BinarySearch(*l, num)
			if !found {
				continue
			}
			*l = slices.Delete(*l, i, i+1)
			if len(*l) == 1 {
				// one thread left: its entry holds it alone again
				e, _ := x.tree.Get(entryOf(w))
				e.one, e.many = (*l)[0], nil
				x.tree.ReplaceOrInsert(e)
				delete(x.many, w)
			}
			continue
		}
		if e, ok := x.tree.Get(entryOf(w)); ok && e.one == num {
			x.tree.Delete(e)
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
