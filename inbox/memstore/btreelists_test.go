package memstore

import (
	"slices"

	"github.com/google/btree"

	"github.com/parleyhq/parley/inbox/store"
)

// This file keeps the list index the store had before listIndex: a B-tree
// per list, entries deleted and inserted at every move. Benchmarks put it
// in a store's place (UseBTreeLists) to measure both in the same run.

var _ baseLister = (*btreeLists)(nil)

func newBTreeLists() *btreeLists { return &btreeLists{byAgent: make(map[string]*treeGroup)} }

// treeGroup holds the list trees of one assignee (or of any assignee):
// by status set, favourite (0) or not (1), lifecycle (0 open, 1 closed) and
// subject kind. Favourites are a tree of their own so that the favourites
// filter, and the favourites-first order of T3, need no merging.
type treeGroup [nSets][2][2][3]*btree.BTreeG[listItem]

// btreeLists is the thread list index the store had before listIndex (T3, T11, T12): every listed thread is
// in its assignee's group and in the any-assignee group, once per status
// set it belongs to. A query walks 1 to 6 trees (lifecycle and category
// "any" merge the exact trees) and visits only matching threads, apart from
// expired mutes and threads outside the visibility window.
type btreeLists struct {
	byAgent map[string]*treeGroup // "" is unassigned
	any     treeGroup
}

// entry is one list tree entry of a thread state: its group and status
// set.
type entry struct {
	grp *treeGroup
	set int
}

// entries appends to dst the entries of state t, whose assignee has group
// g.
func (x *btreeLists) entries(dst []entry, t *store.Thread, g *treeGroup) []entry {
	sets := statusSets(t)
	for set := range nSets {
		if sets&(1<<set) != 0 {
			dst = append(dst, entry{g, set}, entry{&x.any, set})
		}
	}
	return dst
}

// move stores nt as the state of rec (old is its state before, nil for a
// new thread), deleting the entries that no longer hold and inserting the
// new ones; an entry that still holds (same tree, same SortTime) is left
// in place, so that a thread that only becomes unread is inserted in the
// unread trees and moves nowhere else.
func (x *btreeLists) move(rec *threadRec, oldState store.Thread, created bool, nt store.Thread) {
	old := &oldState
	if created {
		old = nil
	}
	var buf [2][2 * nSets]entry
	var was, is []entry
	var oldKey int64
	var of, olc, ocat int
	if old != nil {
		was = x.entries(buf[0][:0], old, x.byAgent[old.Assignee])
		oldKey, of, olc, ocat = sortKey(old.SortTime), favIndex(old), lcIndex(old), int(old.Subject.Kind)-1
	}
	newKey, nf, nlc, ncat := sortKey(nt.SortTime), favIndex(&nt), lcIndex(&nt), int(nt.Subject.Kind)-1
	if statusSets(&nt) != 0 {
		g := x.byAgent[nt.Assignee]
		if g == nil {
			g = new(treeGroup)
			x.byAgent[nt.Assignee] = g
		}
		is = x.entries(buf[1][:0], &nt, g)
	}
	// Entries outside the range of the keys are ordered by SortTime itself.
	same := old != nil && oldKey == newKey && of == nf && olc == nlc && ocat == ncat &&
		(oldKey != keyNewest && oldKey != keyOldest || old.SortTime.Equal(nt.SortTime))
	for _, e := range was {
		if !same || !slices.Contains(is, e) {
			e.grp[e.set][of][olc][ocat].Delete(listItem{oldKey, rec})
		}
	}
	rec.t = nt
	for _, e := range is {
		if same && slices.Contains(was, e) {
			continue
		}
		tr := e.grp[e.set][nf][nlc][ncat]
		if tr == nil {
			tr = btree.NewG(btreeDegree, lessList)
			e.grp[e.set][nf][nlc][ncat] = tr
		}
		tr.ReplaceOrInsert(listItem{newKey, rec})
	}
}

// query answers a ThreadQuery but its search; also, when not nil, is one
// more filter, tested after the others. With a budget, each thread the
// walk visits takes one from it (also may take more), and the walk gives
// up when it is spent: query then returns false.
func (x *btreeLists) query(q store.ThreadQuery, f listFilter, budget *int) ([]*threadRec, bool) {
	also := func(t *threadRec) bool {
		return (f.num == nil || f.num(t.num)) && (f.rec == nil || f.rec(t))
	}
	var g *treeGroup
	switch {
	case q.Assignee != "" && q.Unassigned:
		return nil, true // assigned to an agent and unassigned: nothing
	case q.Assignee != "":
		g = x.byAgent[q.Assignee]
	case q.Unassigned:
		g = x.byAgent[""]
	default:
		g = &x.any
	}
	if g == nil {
		return nil, true
	}
	set, favs := querySet(q.Status)
	lcs, cats := lifecycles(q.Lifecycle), categories(q.Category)
	if len(cats) == 0 {
		return nil, true
	}
	keep := func(t *threadRec) bool {
		if q.Status == store.Muted && !t.t.MutedAt(q.Now) || !q.ActiveSince.IsZero() && t.t.LastActivityAt.Before(q.ActiveSince) {
			return false
		}
		return also(t)
	}
	var pivot *listItem
	if q.After != nil {
		pivot = &listItem{sortKey(q.After.SortTime), &threadRec{t: store.Thread{ID: q.After.ID, SortTime: q.After.SortTime}}}
		if !q.After.Favourite {
			favs = favs[1:] // past every favourite
		}
	}
	out := make([]*threadRec, 0, min(q.Limit, 64))
	var curs []btreeCursor
	for _, f := range favs {
		curs = curs[:0]
		for _, lc := range lcs {
			for _, cat := range cats {
				if tr := g[set][f][lc][cat]; tr != nil && tr.Len() > 0 {
					curs = append(curs, btreeCursor{tr: tr, from: pivot, chunk: min(max(q.Limit-len(out), 16), btreeMaxChunk)})
				}
			}
		}
		var done bool
		if out, done = btreeMergeWalk(out, curs, q.Limit, keep, budget); !done {
			return out, false
		}
		pivot = nil
		if len(out) >= q.Limit {
			break
		}
	}
	return out, true
}

// btreeMaxChunk is the largest number of items a btreeCursor reads from its tree at
// once.
const btreeMaxChunk = 1024

// btreeCursor reads one list tree in order, a chunk of items at a time, so that
// several trees can be merged without walking any of them further than the
// merge needs.
type btreeCursor struct {
	tr    *btree.BTreeG[listItem]
	from  *listItem // read items after it; nil: from the first
	buf   []listItem
	chunk int
	done  bool // the tree has no items after buf
}

// head returns the btreeCursor's next item, reading a chunk when its buffer is
// empty; false when the tree is exhausted.
func (c *btreeCursor) head() (listItem, bool) {
	if len(c.buf) > 0 {
		return c.buf[0], true
	}
	if c.done {
		return listItem{}, false
	}
	c.buf = c.buf[:0]
	from := c.from
	visit := func(it listItem) bool {
		if from != nil && !lessList(*from, it) {
			return true
		}
		c.buf = append(c.buf, it)
		return len(c.buf) < c.chunk
	}
	if from != nil {
		c.tr.AscendGreaterOrEqual(*from, visit)
	} else {
		c.tr.Ascend(visit)
	}
	if len(c.buf) < c.chunk {
		c.done = true
	}
	if len(c.buf) == 0 {
		return listItem{}, false
	}
	last := c.buf[len(c.buf)-1]
	c.from = &last
	c.chunk = min(2*c.chunk, btreeMaxChunk)
	return c.buf[0], true
}

// btreeMergeWalk appends to out the items of the btreeCursors that keep accepts, in
// list order, until out holds limit threads or the btreeCursors are exhausted.
// It visits only the items before the last one it returns. With a budget,
// it returns false when the budget is spent first.
func btreeMergeWalk(out []*threadRec, curs []btreeCursor, limit int, keep func(*threadRec) bool, budget *int) ([]*threadRec, bool) {
	for len(out) < limit {
		if budget != nil {
			if *budget <= 0 {
				return out, false
			}
			*budget--
		}
		best := -1
		var bestItem listItem
		for i := range curs {
			it, ok := curs[i].head()
			if ok && (best < 0 || lessList(it, bestItem)) {
				best, bestItem = i, it
			}
		}
		if best < 0 {
			break
		}
		curs[best].buf = curs[best].buf[1:]
		if keep(bestItem.t) {
			out = append(out, bestItem.t)
		}
	}
	return out, true
}
