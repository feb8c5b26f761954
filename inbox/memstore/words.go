package memstore

import (
	"slices"
	"strings"
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
	tree *wordTree
	strs *strArena // keeps the words of new entries; nil: kept as they are
	// many holds each entry with several threads by its word: the number
	// of its list in lists, as in its entry's many.
	many  map[string]uint32
	lists *wordLists
}

// wordLists holds the thread lists of the words of several threads, by
// number + 1 (0 is no list); a list's number is reused once its word is
// one thread's again. A number instead of a pointer keeps a word entry at
// 40 bytes.
type wordLists struct {
	l    [][]uint32
	free []uint32 // numbers of dropped lists
}

// put stores l and returns its number.
func (ls *wordLists) put(l []uint32) uint32 {
	if n := len(ls.free); n > 0 {
		m := ls.free[n-1]
		ls.free = ls.free[:n-1]
		ls.l[m-1] = l
		return m
	}
	ls.l = append(ls.l, l)
	return uint32(len(ls.l))
}

// drop frees list m.
func (ls *wordLists) drop(m uint32) {
	ls.l[m-1] = nil
	ls.free = append(ls.free, m)
}

// wordEntry is a word with its threads: one when many is 0, else the
// ascending thread numbers in list many of the index's lists. head and tail hold the first sixteen
// bytes of the word, so that ordering and prefix scans rarely read the word
// itself, which lives at a random place in the store's arena (a cache miss
// per comparison): a scan for "marie" passes tens of thousands of e-mail
// addresses, and the addresses of a first and last name share their first
// eight bytes ("marie.ma"), as phone forms of one area share theirs.
type wordEntry struct {
	head uint64
	tail uint64
	w    string
	one  uint32
	many uint32
}

// wordHead returns eight bytes of w from byte i, big-endian, zero-padded:
// the heads of the same i order as the words they are taken from when the
// words agree before byte i.
func wordHead(w string, i int) uint64 {
	var h uint64
	for j := i; j < i+8; j++ {
		h <<= 8
		if j < len(w) {
			h |= uint64(w[j])
		}
	}
	return h
}

func entryOf(w string) wordEntry { return wordEntry{head: wordHead(w, 0), tail: wordHead(w, 8), w: w} }

func lessWord(a, b wordEntry) bool {
	switch {
	case a.head != b.head:
		return a.head < b.head
	case a.tail != b.tail:
		return a.tail < b.tail
	}
	return a.w < b.w
}

func newWordIndex() wordIndex {
	return wordIndex{tree: newWordTree(), many: make(map[string]uint32), lists: new(wordLists)}
}

// add records that thread num has the words.
func (x wordIndex) add(words []string, num uint32) {
	for _, w := range words {
		if m, ok := x.many[w]; ok {
			l := &x.lists.l[m-1]
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
		case !found || old.many == 0 && old.one == num:
			continue // new, or this thread's already
		case old.many != 0: // in many, always: kept as it was
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
		old.many = x.lists.put(l)
		x.tree.ReplaceOrInsert(old)
		x.many[old.w] = old.many
	}
}

// remove records that thread num no longer has the words.
func (x wordIndex) remove(words []string, num uint32) {
	for _, w := range words {
		if m, ok := x.many[w]; ok {
			l := &x.lists.l[m-1]
			i, found := slices.BinarySearch(*l, num)
			if !found {
				continue
			}
			*l = slices.Delete(*l, i, i+1)
			if len(*l) == 1 {
				// one thread left: its entry holds it alone again
				e, _ := x.tree.Get(entryOf(w))
				e.one, e.many = (*l)[0], 0
				x.tree.ReplaceOrInsert(e)
				delete(x.many, w)
				x.lists.drop(m)
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
	p := entryOf(prefix)
	headMask, tailMask := prefixMask(len(prefix)), prefixMask(len(prefix)-8)
	x.tree.AscendGreaterOrEqual(p, func(e wordEntry) bool {
		if len(e.w) < len(prefix) || e.head&headMask != p.head || e.tail&tailMask != p.tail {
			return false
		}
		if len(prefix) > 16 && !strings.HasPrefix(e.w, prefix) {
			return false
		}
		if e.many == 0 {
			fn(e.one)
			return true
		}
		for _, n := range x.lists.l[e.many-1] {
			fn(n)
		}
		return true
	})
}

// prefixMask returns the mask of the first n bytes (0 to 8) of a head.
func prefixMask(n int) uint64 {
	n = min(max(n, 0), 8)
	if n == 0 {
		return 0
	}
	return ^uint64(0) << (64 - 8*n)
}
