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

// nPlaces is the number of places of a thread inside a status set:
// favourite or not × open or closed × subject kind (see placeOf).
const nPlaces = 2 * 2 * 3

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

// placeOf returns the place of t: favourite (0) or not (1), plus 2 when
// closed, plus 4 × (subject kind - 1).
func placeOf(t *store.Thread) uint8 {
	return uint8(favIndex(t) + 2*lcIndex(t) + 4*(int(t.Subject.Kind)-1))
}

// The keys of SortTimes outside the range of UnixNano in sortKey; items
// with them are compared on their full SortTime.
const (
	keyNewest = math.MinInt64 // ^MaxInt64
	keyOldest = math.MaxInt64 // ^MinInt64
)

var (
	minNano = time.Unix(0, math.MinInt64)
	maxNano = time.Unix(0, math.MaxInt64)
)

// sortKey returns the key of a SortTime in list order: ascending keys are
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

// logKey returns the key of a SortTime in log order, the reverse of list
// order: its UnixNano, or math.MinInt64 and math.MaxInt64 for times before
// and after the range of UnixNano (see outside).
func logKey(t time.Time) int64 {
	switch {
	case !t.After(minNano):
		return math.MinInt64
	case !t.Before(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// outside reports whether at stands for every time outside the range of
// UnixNano on one side: entries with it are ordered by their full SortTime.
func outside(at int64) bool { return at == math.MinInt64 || at == math.MaxInt64 }

// baseLister is a list index that benchmarks put in the place of
// listIndex to measure both in the same run: the one the store had before.
// Its methods are listIndex's, with the old state passed by value.
type baseLister interface {
	move(rec *threadRec, old store.Thread, created bool, nt store.Thread)
	query(q store.ThreadQuery, f listFilter, budget *int) ([]*threadRec, bool)
}

// moveList stores nt as the state of rec, moving its list entries; old is
// its state before, nil for a new thread.
func (s *Store) moveList(rec *threadRec, old, nt *store.Thread) {
	switch {
	case s.baseline == nil:
		s.lists.move(rec, old, nt)
	case old == nil:
		s.baseline.move(rec, store.Thread{}, true, *nt)
	default:
		s.baseline.move(rec, *old, false, *nt)
	}
}

// queryList answers a ThreadQuery but its search (see listIndex.query).
func (s *Store) queryList(q store.ThreadQuery, f listFilter, budget *int) ([]*threadRec, bool) {
	if s.baseline != nil {
		return s.baseline.query(q, f, budget)
	}
	return s.lists.query(q, f, budget)
}

// listFilter is a filter a query adds to its list's: num tests a thread's
// number alone (nil: every thread passes), rec the threads num passes
// (nil: every one). num is for what needs no thread record: it is tested
// on every entry a walk visits.
type listFilter struct {
	num func(uint32) bool
	rec func(*threadRec) bool
}

// listIndex is the thread list index: a list per assignee (or any
// assignee), status set and place, each holding the threads that belong to
// it in list order (T3). Every listed thread is in its assignee's lists
// and in the any-assignee lists, once per status set it belongs to. A
// query walks 1 to 6 lists (lifecycle and category "any" merge the exact
// lists) and visits only matching threads, apart from expired mutes,
// threads outside the visibility window and the stale entries below.
//
// A list is a sequence of pointer-free blocks of entries (a SortTime key
// and a thread number) kept in log order, the reverse of list order, so
// that a thread moved to the top by a message written now is appended to
// the last block, which the latest writes keep in the processor's caches.
// An entry is not deleted when its thread leaves the list or moves inside
// it: it goes stale, which the thread's state (listState, by thread
// number) tells, and walks skip it. Each entry that goes stale owes its
// list a sweep of sweepRate entries: a cursor per list walks its blocks,
// dropping stale entries and merging small blocks, a block per step, so
// that every write does bounded work and stale entries stay a fraction of
// each list; a full last block is swept before a new one is started, so
// that a busy thread's stale entries do not pile up at the top. A moved
// thread thus costs no search in the list it leaves, and an append where
// it arrives (a search when its new place is not at the top: reading a
// muted thread, a favourite, an assignment).
//
// Entries whose SortTime is outside the range of UnixNano are ordered by
// the full time, which only the thread record has: they are deleted when
// they go stale, so that their order never depends on a time the thread
// no longer has.
type listIndex struct {
	recs   *[]*threadRec     // the store's threads, by number
	state  []listState       // by thread number
	agents map[string]uint32 // assignee → group number; "" is 0
	groups []*listGroup      // by group number
	any    listGroup         // every assignee
	owed   []*list           // lists owed a sweep by the current move
	spare  []*block          // blocks dropped, for reuse
	cap    int32             // entries a block holds: blockCap, fewer in tests
	// touched sums what touch read, so that the compiler keeps the reads.
	touched int64
}

// listGroup holds the lists of one assignee, or of any assignee, by status
// set and place.
type listGroup [nSets][nPlaces]*list

// listState is what the list index keeps of a thread: its log key, group
// number, status sets and place. An entry of list l is current when its
// key is at and the state belongs to l; else it is stale.
type listState struct {
	at    int64
	agent uint32
	sets  uint8
	place uint8
}

// list is one list of the index: blocks in log order, each with its first
// key in firsts (so that a search reads no block it does not need).
type list struct {
	firsts []int64
	blocks []*block
	agent  uint32 // the group's number, unless any
	any    bool
	set    uint8
	place  uint8
	owing  bool // in listIndex.owed
	stale  int  // stale entries
	debt   int  // entries the sweep owes; negative: ahead
	sweep  int  // the block the sweep checks next
}

// blockCap is the number of entries of a block: 12 bytes each, a block
// fits a 1,536-byte size class.
const blockCap = 127

// block is a run of entries of a list, in log order.
type block struct {
	n    int32
	ats  [blockCap]int64
	nums [blockCap]uint32
}

// sweepRate is the number of entries the sweep checks for each entry that
// goes stale. The sweep passes every stale entry within a pass over the
// list, during which at most a sweepRate-th of its entries go stale: stale
// entries stay below about two sweepRate-ths of a list.
const sweepRate = 6

func newListIndex(recs *[]*threadRec) *listIndex {
	return &listIndex{recs: recs, agents: map[string]uint32{"": 0}, groups: []*listGroup{new(listGroup)}, cap: blockCap}
}

// group returns the lists of assignee a, creating them when asked.
func (x *listIndex) group(a string, create bool) (uint32, *listGroup) {
	if a == "" {
		return 0, x.groups[0]
	}
	n, ok := x.agents[a]
	if !ok {
		if !create {
			return 0, nil
		}
		n = uint32(len(x.groups))
		x.agents[a] = n
		x.groups = append(x.groups, new(listGroup))
	}
	return n, x.groups[n]
}

// listOf returns list [set][place] of group g (number agent, or any),
// creating it when needed.
func listOf(g *listGroup, agent uint32, any bool, set int, place uint8) *list {
	l := g[set][place]
	if l == nil {
		l = &list{agent: agent, any: any, set: uint8(set), place: place}
		g[set][place] = l
	}
	return l
}

// current reports whether entry (at, num) of l is current.
func (x *listIndex) current(l *list, at int64, num uint32) bool {
	s := &x.state[num]
	return s.at == at && s.place == l.place && s.sets&(1<<l.set) != 0 && (l.any || s.agent == l.agent)
}

// probe is a place in log order: a key, the SortTime (compared only for
// keys outside the range of UnixNano) and the thread ID.
type probe struct {
	at int64
	t  time.Time
	id string
}

// cmp compares p with entry (at, num) in log order: -1 when p comes
// before it. Log order is the reverse of list order: ascending SortTime,
// then descending ID.
func (x *listIndex) cmp(p *probe, at int64, num uint32) int {
	switch {
	case p.at < at:
		return -1
	case p.at > at:
		return 1
	}
	r := (*x.recs)[num]
	if outside(at) {
		if c := p.t.Compare(r.t.SortTime); c != 0 {
			return c
		}
	}
	switch {
	case p.id > r.t.ID:
		return -1
	case p.id < r.t.ID:
		return 1
	}
	return 0
}

// lowerBound returns the position of the first entry of l that does not
// come before p in log order: block bi, index j (j may be the block's
// length: the end of the list, or the start of the next block). l has a
// block.
func (x *listIndex) lowerBound(l *list, p *probe) (bi, j int) {
	// The first block whose first entry does not come before p: the place
	// is in the block before it.
	lo, hi := 0, len(l.firsts)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.firsts[m] < p.at {
			lo = m + 1
		} else {
			hi = m
		}
	}
	// Among the blocks whose first key is p.at (many when many threads
	// share a SortTime), the first whose first entry does not come before
	// p, found by halving: a walk over them made inserting n threads with
	// one SortTime cost n².
	hi = len(l.firsts)
	for e := lo; e < hi; {
		m := int(uint(e+hi) >> 1)
		if l.firsts[m] == p.at {
			e = m + 1
		} else {
			hi = m
		}
	}
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.blocks[m].n > 0 && x.cmp(p, p.at, l.blocks[m].nums[0]) > 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo == 0 {
		return 0, 0
	}
	bi = lo - 1
	b := l.blocks[bi]
	lo, hi = 0, int(b.n)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x.cmp(p, b.ats[m], b.nums[m]) > 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return bi, lo
}

// entryAt returns the position (bi, j) as the block and index of an entry,
// moving from the end of a block to the start of the next; false at the
// end of the list.
func entryAt(l *list, bi, j int) (int, int, bool) {
	for j >= int(l.blocks[bi].n) {
		if bi+1 >= len(l.blocks) {
			return bi, j, false
		}
		bi, j = bi+1, 0
	}
	return bi, j, true
}

// touch reads the block of l that an entry at key at most likely goes to,
// and returns what it read (see listIndex.touched). l may be nil.
func touch(l *list, at int64) int64 {
	if l == nil || len(l.firsts) == 0 || l.firsts[len(l.firsts)-1] <= at {
		return 0 // no list, or its last block: read by every append
	}
	i, _ := slices.BinarySearch(l.firsts, at)
	b := l.blocks[max(i-1, 0)]
	// Two independent reads: the block's first line and its middle, where
	// the search within it starts.
	return int64(b.n) + b.ats[blockCap/2]
}

// insert adds the entry of thread num at p to l. A stale entry of the
// thread with the same key (it left the list and came back) is current
// again and is kept instead.
func (x *listIndex) insert(l *list, p *probe, num uint32) {
	if len(l.blocks) == 0 {
		l.blocks, l.firsts = append(l.blocks, x.newBlock()), append(l.firsts, p.at)
	}
	bi := len(l.blocks) - 1
	last := l.blocks[bi]
	j := int(last.n)
	if j == 0 || x.cmp(p, last.ats[j-1], last.nums[j-1]) <= 0 {
		// Not after every entry: search.
		bi, j = x.lowerBound(l, p)
		if ei, ej, ok := entryAt(l, bi, j); ok {
			if b := l.blocks[ei]; b.ats[ej] == p.at && b.nums[ej] == num {
				l.stale--
				return
			}
		}
	}
	b := l.blocks[bi]
	if b.n == x.cap {
		if bi == len(l.blocks)-1 && j == int(x.cap) {
			// Appending to a full last block: drop its stale entries
			// first, and start a new block when that frees little.
			x.sweepBlock(l, bi)
			if b.n > x.cap-max(x.cap/8, 1) {
				b = x.newBlock()
				l.blocks, l.firsts = append(l.blocks, b), append(l.firsts, p.at)
				bi++
			}
			j = int(b.n)
		} else {
			nb := x.newBlock()
			h := b.n / 2
			nb.n = int32(copy(nb.ats[:], b.ats[h:b.n]))
			copy(nb.nums[:], b.nums[h:b.n])
			b.n = h
			l.blocks, l.firsts = slices.Insert(l.blocks, bi+1, nb), slices.Insert(l.firsts, bi+1, nb.ats[0])
			if l.sweep > bi {
				l.sweep++
			}
			if j > int(h) {
				bi, j, b = bi+1, j-int(h), nb
			}
		}
	}
	n := int(b.n)
	copy(b.ats[j+1:n+1], b.ats[j:n])
	copy(b.nums[j+1:n+1], b.nums[j:n])
	b.ats[j], b.nums[j] = p.at, num
	b.n++
	if j == 0 {
		l.firsts[bi] = p.at
	}
}

// remove deletes the entry of thread num at p from l, when it has one.
func (x *listIndex) remove(l *list, p *probe, num uint32) {
	if len(l.blocks) == 0 {
		return
	}
	bi, j := x.lowerBound(l, p)
	bi, j, ok := entryAt(l, bi, j)
	if !ok {
		return
	}
	b := l.blocks[bi]
	if b.ats[j] != p.at || b.nums[j] != num {
		return
	}
	n := int(b.n)
	copy(b.ats[j:n-1], b.ats[j+1:n])
	copy(b.nums[j:n-1], b.nums[j+1:n])
	b.n--
	if b.n > 0 {
		l.firsts[bi] = b.ats[0]
	}
	x.tidy(l, bi)
}

// sweepBlock drops the stale entries of block bi of l.
func (x *listIndex) sweepBlock(l *list, bi int) {
	b := l.blocks[bi]
	n, k := int(b.n), 0
	for i := range n {
		at, num := b.ats[i], b.nums[i]
		b.ats[k], b.nums[k] = at, num
		if x.current(l, at, num) {
			k++
		}
	}
	l.stale -= n - k
	b.n = int32(k)
	if k > 0 {
		l.firsts[bi] = b.ats[0]
	}
}

// tidy drops block bi of l when it is empty (unless it is the only one),
// and merges it with a neighbour when both fit three quarters of a block.
func (x *listIndex) tidy(l *list, bi int) {
	b := l.blocks[bi]
	switch {
	case b.n == 0:
		if len(l.blocks) > 1 {
			x.drop(l, bi)
		}
	case b.n < x.cap/4:
		fill := 3 * x.cap / 4
		if bi > 0 && l.blocks[bi-1].n+b.n <= fill {
			x.append(l.blocks[bi-1], b)
			x.drop(l, bi)
		} else if bi+1 < len(l.blocks) && l.blocks[bi+1].n+b.n <= fill {
			x.append(b, l.blocks[bi+1])
			x.drop(l, bi+1)
		}
	}
}

// append moves the entries of b to the end of a.
func (x *listIndex) append(a, b *block) {
	copy(a.ats[a.n:], b.ats[:b.n])
	copy(a.nums[a.n:], b.nums[:b.n])
	a.n += b.n
	b.n = 0
}

// drop deletes block bi of l, keeping it for reuse.
func (x *listIndex) drop(l *list, bi int) {
	b := l.blocks[bi]
	l.blocks, l.firsts = slices.Delete(l.blocks, bi, bi+1), slices.Delete(l.firsts, bi, bi+1)
	if l.sweep > bi {
		l.sweep--
	}
	b.n = 0
	if len(x.spare) < 64 {
		x.spare = append(x.spare, b)
	}
}

func (x *listIndex) newBlock() *block {
	if n := len(x.spare); n > 0 {
		b := x.spare[n-1]
		x.spare = x.spare[:n-1]
		return b
	}
	return new(block)
}

// stale records that an entry of l went stale: l is owed a sweep.
func (x *listIndex) stale(l *list) {
	l.stale++
	l.debt += sweepRate
	if !l.owing {
		l.owing = true
		x.owed = append(x.owed, l)
	}
}

// pay sweeps the lists owed a sweep, a block at a time, until the debt is
// paid.
func (x *listIndex) pay() {
	for _, l := range x.owed {
		l.owing = false
		for l.debt > 0 && l.stale > 0 {
			if l.sweep >= len(l.blocks) {
				l.sweep = 0
			}
			bi := l.sweep
			l.debt -= max(int(l.blocks[bi].n), 1)
			x.sweepBlock(l, bi)
			l.sweep = bi + 1
			x.tidy(l, bi)
		}
		if l.stale == 0 {
			l.debt = min(l.debt, 0)
		}
	}
	clear(x.owed)
	x.owed = x.owed[:0]
}

// move stores nt as the state of rec, moving its entries; old is its
// state before, nil for a new thread, whose number must be the number of
// threads the index had.
func (x *listIndex) move(rec *threadRec, old, nt *store.Thread) {
	num := rec.num
	if old == nil {
		x.state = append(x.state, listState{})
	}
	was := x.state[num]
	agent, g := x.group(nt.Assignee, true)
	is := listState{at: logKey(nt.SortTime), agent: agent, sets: statusSets(nt), place: placeOf(nt)}
	// Entries of a list both states belong to stay where they are when the
	// key is the same.
	same := old != nil && was.at == is.at && was.place == is.place && (!outside(is.at) || old.SortTime.Equal(nt.SortTime))
	both := was.sets & is.sets
	if !same {
		both = 0
	}
	if old != nil && was.sets != 0 {
		p := probe{was.at, old.SortTime, old.ID}
		wg := x.groups[was.agent]
		for set := range nSets {
			if was.sets&(1<<set) == 0 {
				continue
			}
			for _, l := range [2]*list{x.any[set][was.place], wg[set][was.place]} {
				if both&(1<<set) != 0 && (l.any || was.agent == agent) {
					continue
				}
				if outside(was.at) {
					x.remove(l, &p, num)
				} else {
					x.stale(l)
				}
			}
		}
	}
	rec.t = *nt
	x.state[num] = is
	if is.sets != 0 {
		p := probe{is.at, nt.SortTime, nt.ID}
		// The blocks the entries go to are read first, together, so that
		// the processor fetches them at once rather than one insert after
		// the other: a block of a large list is rarely in its caches.
		for set := range nSets {
			if is.sets&(1<<set) == 0 {
				continue
			}
			if both&(1<<set) == 0 {
				x.touched += touch(x.any[set][is.place], is.at)
			}
			if both&(1<<set) == 0 || was.agent != agent {
				x.touched += touch(g[set][is.place], is.at)
			}
		}
		for set := range nSets {
			if is.sets&(1<<set) == 0 {
				continue
			}
			if both&(1<<set) == 0 {
				x.insert(listOf(&x.any, 0, true, set, is.place), &p, num)
			}
			if both&(1<<set) == 0 || was.agent != agent {
				x.insert(listOf(g, agent, false, set, is.place), &p, num)
			}
		}
	}
	x.pay()
}

// query answers a ThreadQuery but its search, with f as one more filter,
// tested after the others. With a budget, each entry the walk visits takes
// one from it (f may take more), and the walk gives up when it is spent:
// query then returns false.
func (x *listIndex) query(q store.ThreadQuery, f listFilter, budget *int) ([]*threadRec, bool) {
	var g *listGroup
	switch {
	case q.Assignee != "" && q.Unassigned:
		return nil, true // assigned to an agent and unassigned: nothing
	case q.Assignee != "":
		_, g = x.group(q.Assignee, false)
	case q.Unassigned:
		g = x.groups[0]
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
	var pivot *probe
	if q.After != nil {
		pivot = &probe{logKey(q.After.SortTime), q.After.SortTime, q.After.ID}
		if !q.After.Favourite {
			favs = favs[1:] // past every favourite
		}
	}
	w := walk{x: x, q: &q, f: f, budget: budget, out: make([]*threadRec, 0, min(q.Limit, 64))}
	for _, fv := range favs {
		var curs [6]cursor
		n := 0
		for _, lc := range lcs {
			for _, cat := range cats {
				l := g[set][fv+2*lc+4*cat]
				if l == nil || len(l.blocks) == 0 {
					continue
				}
				c := cursor{l: l, bi: len(l.blocks) - 1}
				c.j = int(l.blocks[c.bi].n)
				if pivot != nil {
					c.bi, c.j = x.lowerBound(l, pivot)
				}
				curs[n] = c
				n++
			}
		}
		if !w.merge(curs[:n]) {
			return w.out, false
		}
		pivot = nil
		if len(w.out) >= q.Limit {
			break
		}
	}
	return w.out, true
}

// cursor walks a list in list order (backwards in log order) from before
// position (bi, j); it holds the current entry it stopped at.
type cursor struct {
	l     *list
	bi, j int
	at    int64
	num   uint32
	ok    bool // at and num are an entry
}

// walk is the state of a query's walk.
type walk struct {
	x      *listIndex
	q      *store.ThreadQuery
	f      listFilter
	budget *int
	out    []*threadRec
}

// next moves c to its next current entry that f.num passes; false when
// the budget is spent first.
func (w *walk) next(c *cursor) bool {
	l := c.l
	for {
		for c.j == 0 {
			if c.bi == 0 {
				c.ok = false
				return true
			}
			c.bi--
			c.j = int(l.blocks[c.bi].n)
		}
		if w.budget != nil {
			if *w.budget <= 0 {
				return false
			}
			*w.budget--
		}
		c.j--
		b := l.blocks[c.bi]
		at, num := b.ats[c.j], b.nums[c.j]
		if w.f.num != nil && !w.f.num(num) || !w.x.current(l, at, num) {
			continue
		}
		c.at, c.num, c.ok = at, num, true
		return true
	}
}

// before reports whether the entry of a comes before that of b in list
// order.
func (w *walk) before(a, b *cursor) bool {
	if a.at != b.at {
		return a.at > b.at
	}
	ra, rb := (*w.x.recs)[a.num], (*w.x.recs)[b.num]
	if outside(a.at) && !ra.t.SortTime.Equal(rb.t.SortTime) {
		return ra.t.SortTime.After(rb.t.SortTime)
	}
	return ra.t.ID < rb.t.ID
}

// merge appends to w.out the threads of the cursors' lists that the
// filters keep, in list order, until it holds q.Limit threads or the lists
// are exhausted; false when the budget is spent first.
func (w *walk) merge(curs []cursor) bool {
	for i := range curs {
		if !w.next(&curs[i]) {
			return false
		}
	}
	q := w.q
	for len(w.out) < q.Limit {
		var best *cursor
		for i := range curs {
			if c := &curs[i]; c.ok && (best == nil || w.before(c, best)) {
				best = c
			}
		}
		if best == nil {
			break
		}
		t := (*w.x.recs)[best.num]
		if (q.Status != store.Muted || t.t.MutedAt(q.Now)) && (q.ActiveSince.IsZero() || !t.t.LastActivityAt.Before(q.ActiveSince)) &&
			(w.f.rec == nil || w.f.rec(t)) {
			w.out = append(w.out, t)
		}
		if !w.next(best) {
			return false
		}
	}
	return true
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
