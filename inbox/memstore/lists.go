package memstore

import (
	"math"
	"slices"
	"time"

	"github.com/google/btree"

	"github.com/parleyhq/parley/inbox/store"
)

// The status sets of the list index. A thread that is not dormant is in
// setArchived when archived, else in setAll, and also in setUnread when it
// has unread messages and in setMuted when muted (expired mutes included:
// queries judge them at q.Now).
const (
	setAll = iota
	setUnread
	setMuted
	setArchived
	nSets
)

// treeGroup holds the list trees of one assignee (or of any assignee):
// by status set, favourite (0) or not (1), lifecycle (0 open, 1 closed) and
// subject kind. Favourites are a tree of their own so that the favourites
// filter, and the favourites-first order of T3, need no merging.
type treeGroup [nSets][2][2][3]*btree.BTreeG[listItem]

// listIndex is the thread list index (T3, T11, T12): every listed thread is
// in its assignee's group and in the any-assignee group, once per status
// set it belongs to. A query walks 1 to 6 trees (lifecycle and category
// "any" merge the exact trees) and visits only matching threads, apart from
// expired mutes and threads outside the visibility window.
type listIndex struct {
	byAgent map[string]*treeGroup // "" is unassigned
	any     treeGroup
}

// listItem is an entry of a list tree: key orders by SortTime, newest
// first; ties fall back to the thread.
type listItem struct {
	key int64
	t   *threadRec
}

// The keys of SortTimes outside the range of UnixNano; items with them are
// compared on their full SortTime.
const (
	keyNewest = math.MinInt64 // ^MaxInt64
	keyOldest = math.MaxInt64 // ^MinInt64
)

var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// sortKey returns the list key of a SortTime: ascending keys are
// descending times.
func sortKey(t time.Time) int64 {
	switch {
	case !t.After(minNano):
		return keyOldest
	case !t.Before(maxNano):
		return keyNewest
	}
	return ^t.UnixNano()
}

// lessList is list order (T3) inside one favourite group: SortTime newest
// first, then ID.
func lessList(a, b listItem) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	if a.key == keyNewest || a.key == keyOldest {
		if at, bt := a.t.t.SortTime, b.t.t.SortTime; !at.Equal(bt) {
			return at.After(bt)
		}
	}
	return a.t.t.ID < b.t.t.ID
}

// statusSets returns the bit set of status sets t belongs to.
func statusSets(t *store.Thread) uint8 {
	switch {
	case t.Dormant:
		return 0
	case t.Archived:
		return 1 << setArchived
	}
	m := uint8(1 << setAll)
	if t.Unread > 0 {
		m |= 1 << setUnread
	}
	if t.Muted {
		m |= 1 << setMuted
	}
	return m
}

// listChanged reports whether moving from a to b changes the thread's
// entries in the list index.
func listChanged(a, b *store.Thread) bool {
	return statusSets(a) != statusSets(b) || a.Favourite != b.Favourite || a.Closed != b.Closed ||
		a.Assignee != b.Assignee || !a.SortTime.Equal(b.SortTime)
}

func favIndex(t *store.Thread) int {
	if t.Favourite {
		return 0
	}
	return 1
}

func lcIndex(t *store.Thread) int {
	if t.Closed {
		return 1
	}
	return 0
}

// add inserts the entries of a new thread.
func (x *listIndex) add(rec *threadRec) {
	x.move(rec, nil, rec.t)
}

// entry is one list tree entry of a thread state: its group and status
// set.
type entry struct {
	grp *treeGroup
	set int
}

// entries appends to dst the entries of state t, whose assignee has group
// g.
func (x *listIndex) entries(dst []entry, t *store.Thread, g *treeGroup) []entry {
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
func (x *listIndex) move(rec *threadRec, old *store.Thread, nt store.Thread) {
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
func (x *listIndex) query(q store.ThreadQuery, also func(*threadRec) bool, budget *int) ([]*threadRec, bool) {
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
		return also == nil || also(t)
	}
	var pivot *listItem
	if q.After != nil {
		pivot = &listItem{sortKey(q.After.SortTime), &threadRec{t: store.Thread{ID: q.After.ID, SortTime: q.After.SortTime}}}
		if !q.After.Favourite {
			favs = favs[1:] // past every favourite
		}
	}
	out := make([]*threadRec, 0, min(q.Limit, 64))
	var curs []cursor
	for _, f := range favs {
		curs = curs[:0]
		for _, lc := range lcs {
			for _, cat := range cats {
				if tr := g[set][f][lc][cat]; tr != nil && tr.Len() > 0 {
					curs = append(curs, cursor{tr: tr, from: pivot, chunk: min(max(q.Limit-len(out), 16), maxChunk)})
				}
			}
		}
		var done bool
		if out, done = mergeWalk(out, curs, q.Limit, keep, budget); !done {
			return out, false
		}
		pivot = nil
		if len(out) >= q.Limit {
			break
		}
	}
	return out, true
}

// maxChunk is the largest number of items a cursor reads from its tree at
// once.
const maxChunk = 1024

// cursor reads one list tree in order, a chunk of items at a time, so that
// several trees can be merged without walking any of them further than the
// merge needs.
type cursor struct {
	tr    *btree.BTreeG[listItem]
	from  *listItem // read items after it; nil: from the first
	buf   []listItem
	chunk int
	done  bool // the tree has no items after buf
}

// head returns the cursor's next item, reading a chunk when its buffer is
// empty; false when the tree is exhausted.
func (c *cursor) head() (listItem, bool) {
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
	c.chunk = min(2*c.chunk, maxChunk)
	return c.buf[0], true
}

// mergeWalk appends to out the items of the cursors that keep accepts, in
// list order, until out holds limit threads or the cursors are exhausted.
// It visits only the items before the last one it returns. With a budget,
// it returns false when the budget is spent first.
func mergeWalk(out []*threadRec, curs []cursor, limit int, keep func(*threadRec) bool, budget *int) ([]*threadRec, bool) {
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

// querySet returns the status set and favourite groups of a status filter.
func querySet(f store.StatusFilter) (int, []int) {
	switch f {
	case store.Unread:
		return setUnread, []int{0, 1}
	case store.Favourites:
		return setAll, []int{0}
	case store.Muted:
		return setMuted, []int{0, 1}
	case store.Archived:
		return setArchived, []int{0, 1}
	}
	return setAll, []int{0, 1}
}

func lifecycles(l store.Lifecycle) []int {
	switch l {
	case store.Open:
		return []int{0}
	case store.Closed:
		return []int{1}
	}
	return []int{0, 1}
}

func categories(k store.SubjectKind) []int {
	if k == 0 {
		return []int{0, 1, 2}
	}
	if !k.Valid() {
		return nil
	}
	return []int{int(k) - 1}
}

// counterIndex keeps the attention counters (T15) up to date: threads with
// unread messages, neither archived nor dormant, and not muted are counted
// in base; those whose mute expires by itself are kept by expiry, and count
// from then on.
type counterIndex struct {
	base  [4]int
	timed *btree.BTreeG[mutedItem]
}

type mutedItem struct {
	until time.Time
	t     *threadRec
}

func newCounterIndex() counterIndex {
	return counterIndex{timed: btree.NewG(btreeDegree, func(a, b mutedItem) bool {
		if !a.until.Equal(b.until) {
			return a.until.Before(b.until)
		}
		return a.t.num < b.t.num
	})}
}

// update moves rec from the counters of state old (nil: none) to those of
// state cur.
func (c *counterIndex) update(rec *threadRec, old, cur *store.Thread) {
	if old != nil && needsAttention(old) {
		if !old.Muted {
			c.base[old.Subject.Kind]--
		} else {
			c.timed.Delete(mutedItem{old.MutedUntil, rec})
		}
	}
	if needsAttention(cur) {
		if !cur.Muted {
			c.base[cur.Subject.Kind]++
		} else {
			c.timed.ReplaceOrInsert(mutedItem{cur.MutedUntil, rec})
		}
	}
}

// needsAttention reports whether t counts now or will count when its mute
// expires.
func needsAttention(t *store.Thread) bool {
	return t.Unread > 0 && !t.Archived && !t.Dormant && (!t.Muted || !t.MutedUntil.IsZero())
}

func (c *counterIndex) at(now time.Time) store.Counters {
	var out store.Counters
	for k, n := range c.base {
		out.Add(store.SubjectKind(k), n)
	}
	c.timed.Ascend(func(it mutedItem) bool {
		if it.until.After(now) {
			return false
		}
		out.Add(it.t.t.Subject.Kind, 1)
		return true
	})
	return out
}
