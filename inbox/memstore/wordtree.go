package memstore

import "slices"

// wordTree is the ordered set of a word index's entries (lessWord order):
// a B+ tree whose nodes keep the heads of their entries (or separators)
// apart from the rest, in an array of their own. Finding an entry's place
// in a node then reads eight bytes per step of the search instead of forty,
// and the steps of one search share cache lines: inserting a word of one
// thread (a phone form, an e-mail address) into a tree of millions costs
// fewer cache misses than in a B-tree of whole entries, most of whose
// nodes are not in the processor's caches. Leaves are linked in order for
// scans. A removal leaves its leaf as it is, even empty: the words of a
// thread change only when its subject's snapshot does. Call its methods
// that change it under the write lock.
type wordTree struct {
	root *wordNode
	max  int // entries of a leaf, children of an inner node; wordNodeMax but in tests
}

// wordNodeMax is the most entries of a leaf and children of an inner node.
// A node's arrays grow as they fill, as a B-tree's do: a node split in
// two halves starts with arrays of half a node.
const wordNodeMax = 63

// wordNode is a leaf (kids nil): its entries in order, heads[i] and
// rest[i] making entry i; or an inner node: len(heads)+1 children, where
// separator i (heads[i], rest[i]) is at most every entry of kids[i+1]
// and above every entry of kids[i].
type wordNode struct {
	heads []uint64
	rest  []wordRest
	kids  []*wordNode
	next  *wordNode // a leaf's next leaf
}

// wordRest is an entry but its head; for a separator, one and many are
// not used.
type wordRest struct {
	tail uint64
	w    string
	one  uint32
	many uint32
}

func newWordTree() *wordTree { return &wordTree{max: wordNodeMax} }

func restOf(e *wordEntry) wordRest { return wordRest{tail: e.tail, w: e.w, one: e.one, many: e.many} }

func (n *wordNode) entry(i int) wordEntry {
	r := &n.rest[i]
	return wordEntry{head: n.heads[i], tail: r.tail, w: r.w, one: r.one, many: r.many}
}

// lowerBound returns the index of the first entry of n that is not below
// e.
func (n *wordNode) lowerBound(e *wordEntry) int {
	lo, hi := 0, len(n.heads)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h := n.heads[m]; h < e.head || h == e.head && restBelow(&n.rest[m], e) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// child returns the index of the child of inner node n that holds e's
// place: the number of separators at most e.
func (n *wordNode) child(e *wordEntry) int {
	lo, hi := 0, len(n.heads)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if h := n.heads[m]; h < e.head || h == e.head && !entryBelow(e, &n.rest[m]) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// restBelow reports whether r comes before e, their heads being equal.
func restBelow(r *wordRest, e *wordEntry) bool {
	if r.tail != e.tail {
		return r.tail < e.tail
	}
	return r.w < e.w
}

// entryBelow reports whether e comes before r, their heads being equal.
func entryBelow(e *wordEntry, r *wordRest) bool {
	if e.tail != r.tail {
		return e.tail < r.tail
	}
	return e.w < r.w
}

// at reports whether entry i of leaf n is e's word.
func (n *wordNode) at(i int, e *wordEntry) bool {
	return i < len(n.heads) && n.heads[i] == e.head && n.rest[i].tail == e.tail && n.rest[i].w == e.w
}

// leaf returns the leaf that holds e's place.
func (t *wordTree) leaf(e *wordEntry) *wordNode {
	n := t.root
	for n != nil && n.kids != nil {
		n = n.kids[n.child(e)]
	}
	return n
}

// Get returns the entry of e's word.
func (t *wordTree) Get(e wordEntry) (wordEntry, bool) {
	n := t.leaf(&e)
	if n == nil {
		return wordEntry{}, false
	}
	if i := n.lowerBound(&e); n.at(i, &e) {
		return n.entry(i), true
	}
	return wordEntry{}, false
}

// ReplaceOrInsert stores e, replacing the entry of its word; it returns
// the entry replaced.
func (t *wordTree) ReplaceOrInsert(e wordEntry) (wordEntry, bool) {
	if t.root == nil {
		t.root = &wordNode{}
	}
	old, found, sepHead, sepRest, right := t.insert(t.root, &e)
	if right != nil {
		t.root = &wordNode{heads: []uint64{sepHead}, rest: []wordRest{sepRest}, kids: []*wordNode{t.root, right}}
	}
	return old, found
}

// insert stores e in the subtree of n; when n splits, it returns the
// separator and the new node that follows n.
func (t *wordTree) insert(n *wordNode, e *wordEntry) (old wordEntry, found bool, sepHead uint64, sepRest wordRest, right *wordNode) {
	if n.kids == nil {
		i := n.lowerBound(e)
		if n.at(i, e) {
			old = n.entry(i)
			n.rest[i] = restOf(e)
			return old, true, 0, wordRest{}, nil
		}
		n.heads, n.rest = slices.Insert(n.heads, i, e.head), slices.Insert(n.rest, i, restOf(e))
		if len(n.heads) <= t.max {
			return old, false, 0, wordRest{}, nil
		}
		mid := len(n.heads) / 2
		right = &wordNode{heads: slices.Clone(n.heads[mid:]), rest: slices.Clone(n.rest[mid:])}
		clear(n.rest[mid:])
		n.heads, n.rest = n.heads[:mid], n.rest[:mid]
		right.next, n.next = n.next, right
		r := right.rest[0]
		return old, false, right.heads[0], wordRest{tail: r.tail, w: r.w}, right
	}
	c := n.child(e)
	old, found, h, r, kid := t.insert(n.kids[c], e)
	if kid == nil {
		return old, found, 0, wordRest{}, nil
	}
	n.heads, n.rest = slices.Insert(n.heads, c, h), slices.Insert(n.rest, c, r)
	n.kids = slices.Insert(n.kids, c+1, kid)
	if len(n.kids) <= t.max {
		return old, found, 0, wordRest{}, nil
	}
	// kids[:mid] stay, with the separators between them; separator mid-1
	// goes up; kids[mid:] move, with the separators after it.
	mid := len(n.kids) / 2
	right = &wordNode{heads: slices.Clone(n.heads[mid:]), rest: slices.Clone(n.rest[mid:]), kids: slices.Clone(n.kids[mid:])}
	sepHead, sepRest = n.heads[mid-1], n.rest[mid-1]
	clear(n.rest[mid-1:])
	clear(n.kids[mid:])
	n.heads, n.rest, n.kids = n.heads[:mid-1], n.rest[:mid-1], n.kids[:mid]
	return old, found, sepHead, sepRest, right
}

// Delete removes the entry of e's word.
func (t *wordTree) Delete(e wordEntry) (wordEntry, bool) {
	n := t.leaf(&e)
	if n == nil {
		return wordEntry{}, false
	}
	i := n.lowerBound(&e)
	if !n.at(i, &e) {
		return wordEntry{}, false
	}
	old := n.entry(i)
	n.heads, n.rest = slices.Delete(n.heads, i, i+1), slices.Delete(n.rest, i, i+1)
	return old, true
}

// AscendGreaterOrEqual calls fn with every entry from e's place on, in
// order, until fn returns false.
func (t *wordTree) AscendGreaterOrEqual(e wordEntry, fn func(wordEntry) bool) {
	n := t.leaf(&e)
	if n == nil {
		return
	}
	for i := n.lowerBound(&e); n != nil; i, n = 0, n.next {
		for ; i < len(n.heads); i++ {
			if !fn(n.entry(i)) {
				return
			}
		}
	}
}
