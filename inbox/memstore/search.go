package memstore

import (
	"math"
	"slices"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// bitset is a set of thread numbers.
type bitset []uint64

func newBitset(n int) bitset       { return make(bitset, n/64+1) }
func (b bitset) has(i uint32) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i uint32)      { b[i/64] |= 1 << (i % 64) }

// holds is has for a bitset that may be shorter than the thread numbers:
// numbers past its end are not in it.
func (b bitset) holds(i uint32) bool {
	w := int(i / 64)
	return w < len(b) && b[w]&(1<<(i%64)) != 0
}

// The word slots. The message words that first reach slotPostings
// postings get one of nSlots slots each. Each message keeps the bits of
// the slots of its words (msgRec.words), and each slot a bitset of the
// threads with a message holding its word (Store.slotCols, by thread
// number), set by the write that adds the message. A search for slotted
// words walks the list index and tests each entry's thread number against
// the slots' bitsets (for several words, against their intersection,
// computed first by streaming through them) before it reads anything of
// the thread: its cost follows the page it fills, not the number of
// threads holding the words, and a cold search reads few threads it does
// not return.
const (
	nSlots       = 256
	slotPostings = 4096
)

// slotBits is a set of word slots.
type slotBits [nSlots / 64]uint64

// set adds slot to b and reports whether it was not in b.
func (b *slotBits) set(slot uint16) bool {
	w, bit := &b[slot/64], uint64(1)<<(slot%64)
	if *w&bit != 0 {
		return false
	}
	*w |= bit
	return true
}

// hasAll reports whether b holds every slot of m.
func (b *slotBits) hasAll(m *slotBits) bool {
	return b[0]&m[0] == m[0] && b[1]&m[1] == m[1] && b[2]&m[2] == m[2] && b[3]&m[3] == m[3]
}

// markSlot records that thread rec has a message holding the word of
// slot.
func (s *Store) markSlot(rec *threadRec, slot uint16) {
	col := s.slotCols[slot]
	w := int(rec.num / 64)
	if w >= len(col) {
		// grown to the store's threads and a quarter more at once: a slot's
		// bitset costs an eighth of a byte per thread, its slack included
		n := max(w+1, (len(s.threadNum)/64+1)*5/4)
		col = append(col, make(bitset, n-len(col))...)
		s.slotCols[slot] = col
	}
	if !col.has(rec.num) {
		col.set(rec.num)
		s.slotThreads[slot]++
	}
}

// giveSlot gives message word id the next free slot and sets it in the
// messages of its postings and their threads.
func (s *Store) giveSlot(id uint32) {
	slot := uint16(s.slots)
	s.slots++
	s.slotOf[id] = slot + 1
	for _, m := range s.postings[id] {
		t := s.threadNum[s.msgThread[m]]
		for _, r := range t.msgs {
			if r.num == m {
				r.words.set(slot)
				break
			}
		}
		s.markSlot(t, slot)
	}
}

// getBitset returns an empty bitset for every thread, reused from an
// earlier search when one is free: a search allocates no memory in
// proportion to the store.
func (s *Store) getBitset() bitset {
	if b, ok := s.bitsets.Get().(*bitset); ok && len(*b) == len(s.threadNum)/64+1 {
		return *b
	}
	return newBitset(len(s.threadNum))
}

// putBitset clears b and keeps it for a later search.
func (s *Store) putBitset(b bitset) {
	clear(b)
	s.bitsets.Put(&b)
}

// candidates is the set of threads a search found in the indexes, before
// the other filters.
type candidates struct {
	set  bitset
	nums []uint32 // the members, while there are at most max
	n    int
	max  int
}

// maxListed is the default largest number of candidates up to which a
// search checks each one; beyond it, it walks the list index of the
// query's filters and keeps the threads in the set, which visits about
// Limit × listed / candidates threads instead of all candidates. Below it,
// the walk is chosen from 3 × √(Limit × listed) candidates on, where both
// cost about the same: a thread the walk visits costs several times a
// candidate checked (measured at 100k threads: 0.5 µs and 75 ns).
const maxListed = 32768

// maxCandidates returns the number of candidates up to which a search for
// a page of limit threads checks each one.
func (s *Store) maxCandidates(limit int) int {
	return min(s.maxListed, max(64, 3*int(math.Sqrt(float64(limit)*float64(len(s.threadNum))))))
}

func (c *candidates) add(num uint32) {
	if c.set.has(num) {
		return
	}
	c.set.set(num)
	c.n++
	if c.n <= c.max {
		c.nums = append(c.nums, num)
	}
}

// search answers a ThreadQuery with a search (T13): threads with a phone
// form starting with q.Search.Phone; or threads with, for every term, a
// subject word it prefixes, or with one message holding every message word
// of the terms.
//
// The subject matches are collected from the word indexes. When the
// message words all have slots and the matches may be many, the list index
// of the query's filters is walked, each thread tested against the
// subject matches and its slot bits (for several words, then each of its
// messages against the message's bits): the walk stops after one page. A walk that
// visits more threads than collecting would cost gives up, and the matches
// are collected from the postings, intersected shortest first. Few
// matches are each checked against the other filters, a bounded heap
// keeping the first q.Limit after q.After in list order; many are looked
// up while walking the list index.
func (s *Store) search(q store.ThreadQuery) []*threadRec {
	c := candidates{set: s.getBitset(), max: s.maxCandidates(q.Limit)}
	if p, ok := s.numBufs.Get().(*[]uint32); ok {
		c.nums = (*p)[:0]
	}
	defer func() {
		s.putBitset(c.set)
		s.numBufs.Put(&c.nums)
	}()
	if q.Search.Phone != "" {
		s.phones.scanPrefix(q.Search.Phone, c.add)
		return s.pick(q, &c)
	}
	s.searchSubjects(q.Search.Terms, c.add)
	ms, ok := s.messageSide(textindex.MessageTerms(q.Search.Terms))
	if !ok {
		return s.pick(q, &c)
	}
	if ms.slotted && c.n+ms.est > c.max && !s.collectOnly {
		// the threads with every word, each in some message
		has := s.slotCols[ms.slots[0]].holds
		if len(ms.slots) > 1 {
			both := s.intersectSlots(ms.slots)
			defer s.putBitset(both)
			has = both.has
		}
		// The walk's work is counted in threads visited and messages
		// looked up; collecting costs about a posting of the shortest
		// list each. One word's bits are exact: collecting would find as
		// many matches and walk the same threads, so that walk has no
		// budget.
		budget := max(s.walkMin, len(ms.lists[0])/walkShare)
		limit := &budget
		if len(ms.lists) == 1 {
			limit = nil
		}
		page, done := s.queryList(q, listFilter{
			num: func(n uint32) bool { return c.set.has(n) || has(n) },
			rec: func(t *threadRec) bool { return c.set.has(t.num) || s.messageMatch(t, &ms, &budget) },
		}, limit)
		if done {
			return page
		}
	}
	s.collectMessages(ms.lists, c.add)
	return s.pick(q, &c)
}

// walkMin and walkShare bound the work of a search's list walk before it
// gives up: walkMin threads, or a walkShare-th of the shortest postings
// when that is more (a posting collected costs a few times less than a
// thread visited).
const (
	walkMin   = 2048
	walkShare = 8
)

// pick returns the first page of the candidates that pass q's filters.
func (s *Store) pick(q store.ThreadQuery, c *candidates) []*threadRec {
	if c.n > c.max {
		page, _ := s.queryList(q, listFilter{num: c.set.has}, nil)
		return page
	}
	var pivot *position
	if q.After != nil {
		pivot = &position{fav: q.After.Favourite, item: listItem{sortKey(q.After.SortTime), &threadRec{t: store.Thread{ID: q.After.ID, SortTime: q.After.SortTime}}}}
	}
	h := topK{limit: q.Limit}
	for _, num := range c.nums {
		t := s.threadNum[num]
		if !matchThread(&t.t, &q) {
			continue
		}
		p := position{fav: t.t.Favourite, item: listItem{sortKey(t.t.SortTime), t}}
		if pivot != nil && !pivot.before(p) {
			continue
		}
		h.push(p)
	}
	return h.sorted()
}

// searchSubjects calls fn with threads whose subject words are prefixed by
// every term: the longest term is scanned, the others are checked against
// sets built from their own scans.
func (s *Store) searchSubjects(terms []string, fn func(uint32)) {
	if len(terms) == 0 {
		return
	}
	longest := 0
	for i, t := range terms {
		if len(t) > len(terms[longest]) {
			longest = i
		}
	}
	var others []bitset
	defer func() {
		for _, b := range others {
			s.putBitset(b)
		}
	}()
	for i, t := range terms {
		if i == longest {
			continue
		}
		b := s.getBitset()
		others = append(others, b)
		s.scanSubject(t, b.set)
	}
	s.scanSubject(terms[longest], func(num uint32) {
		for _, b := range others {
			if !b.has(num) {
				return
			}
		}
		fn(num)
	})
}

// scanSubject calls fn with every thread that has a subject word term
// prefixes. A term that is a word can only prefix words (the chunks that
// start with it start with a word it prefixes, see textindex.IsWord);
// another may prefix either.
func (s *Store) scanSubject(term string, fn func(uint32)) {
	s.subject.scanPrefix(term, fn)
	if !textindex.IsWord(term) {
		s.chunks.scanPrefix(term, fn)
	}
}

// messageSide is the message part of a search: the postings of its words,
// shortest first; their slots when all have one (in slots, and as a set in
// mask); and est, the threads that may match: at most those of the word in
// the fewest threads.
type messageSide struct {
	lists   [][]uint32
	slots   []uint16
	mask    slotBits
	slotted bool
	est     int
}

// messageSide returns the message part of a search for words; false when
// no message can match (no words, or a word no message holds).
func (s *Store) messageSide(words []string) (messageSide, bool) {
	if len(words) == 0 {
		return messageSide{}, false
	}
	ms := messageSide{lists: make([][]uint32, len(words)), slotted: true, est: len(s.threadNum)}
	for i, w := range words {
		id, ok := s.wordIDs[w]
		if !ok {
			return messageSide{}, false
		}
		ms.lists[i] = s.postings[id]
		if sl := s.slotOf[id]; sl != 0 && ms.slotted {
			if ms.mask.set(sl - 1) {
				ms.slots = append(ms.slots, sl-1)
			}
			ms.est = min(ms.est, s.slotThreads[sl-1])
		} else {
			ms.slotted = false
		}
	}
	slices.SortFunc(ms.lists, func(a, b []uint32) int { return len(a) - len(b) })
	return ms, true
}

// intersectSlots returns the threads that are in the bitsets of all the
// slots (at least two), in a bitset to give back with putBitset.
func (s *Store) intersectSlots(slots []uint16) bitset {
	out := s.getBitset()
	n := len(out)
	for _, sl := range slots {
		n = min(n, len(s.slotCols[sl]))
	}
	copy(out[:n], s.slotCols[slots[0]])
	for _, sl := range slots[1:] {
		col := s.slotCols[sl][:n]
		for i := range col {
			out[i] &= col[i]
		}
	}
	return out
}

// messageMatch reports whether thread t, which has each word of ms (whose
// words all have slots) in some message, has a message holding every
// word: for one word it has; for more, each message's own bits tell, each
// message read taken from budget.
func (s *Store) messageMatch(t *threadRec, ms *messageSide, budget *int) bool {
	if len(ms.slots) == 1 {
		return true
	}
	for i := len(t.msgs) - 1; i >= 0; i-- {
		*budget--
		if t.msgs[i].words.hasAll(&ms.mask) {
			return true
		}
	}
	return false
}

// collectMessages calls fn with the thread of every message in all the
// lists of postings (shortest first), intersecting them.
func (s *Store) collectMessages(lists [][]uint32, fn func(uint32)) {
	hits := lists[0]
	for _, l := range lists[1:] {
		hits = intersect(hits, l)
		if len(hits) == 0 {
			return
		}
	}
	for _, n := range hits {
		fn(s.msgThread[n])
	}
}

// intersect returns the numbers in both ascending lists; a is the shorter.
// Lists of similar lengths are merged; in a much longer one, each number of
// the shorter is found by galloping from where the last one was.
func intersect(a, b []uint32) []uint32 {
	var out []uint32
	if len(b) > 16*len(a) {
		for _, n := range a {
			// Gallop: double the step until b[hi] >= n, then search
			// between.
			hi := 1
			for hi < len(b) && b[hi-1] < n {
				hi *= 2
			}
			i, found := slices.BinarySearch(b[:min(hi, len(b))], n)
			if found {
				out = append(out, n)
			}
			b = b[i:]
		}
		return out
	}
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	return out
}

// matchThread applies every filter of q but the search and the position.
func matchThread(t *store.Thread, q *store.ThreadQuery) bool {
	if t.Dormant {
		return false
	}
	switch q.Status {
	case store.Archived:
		if !t.Archived {
			return false
		}
	case store.Unread:
		if t.Archived || t.Unread == 0 {
			return false
		}
	case store.Favourites:
		if t.Archived || !t.Favourite {
			return false
		}
	case store.Muted:
		if t.Archived || !t.MutedAt(q.Now) {
			return false
		}
	default:
		if t.Archived {
			return false
		}
	}
	switch q.Lifecycle {
	case store.Open:
		if t.Closed {
			return false
		}
	case store.Closed:
		if !t.Closed {
			return false
		}
	}
	if q.Category != 0 && t.Subject.Kind != q.Category {
		return false
	}
	if q.Assignee != "" && t.Assignee != q.Assignee || q.Unassigned && t.Assignee != "" {
		return false
	}
	return q.ActiveSince.IsZero() || !t.LastActivityAt.Before(q.ActiveSince)
}

// listItem is a thread at its place in list order inside one favourite
// group: key orders by SortTime, newest first; ties fall back to the
// thread.
type listItem struct {
	key int64
	t   *threadRec
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

// position is a thread's place in list order across favourite groups.
type position struct {
	fav  bool
	item listItem
}

func (p position) before(o position) bool {
	if p.fav != o.fav {
		return p.fav
	}
	return lessList(p.item, o.item)
}

// topK keeps the first limit positions pushed, in a max-heap whose root is
// the last of them.
type topK struct {
	limit int
	h     []position
}

func (k *topK) push(p position) {
	if len(k.h) < k.limit {
		k.h = append(k.h, p)
		for i := len(k.h) - 1; i > 0; {
			parent := (i - 1) / 2
			if !k.h[parent].before(k.h[i]) {
				break
			}
			k.h[parent], k.h[i] = k.h[i], k.h[parent]
			i = parent
		}
		return
	}
	if !p.before(k.h[0]) {
		return
	}
	k.h[0] = p
	for i := 0; ; {
		l, r, big := 2*i+1, 2*i+2, i
		if l < len(k.h) && k.h[big].before(k.h[l]) {
			big = l
		}
		if r < len(k.h) && k.h[big].before(k.h[r]) {
			big = r
		}
		if big == i {
			return
		}
		k.h[i], k.h[big] = k.h[big], k.h[i]
		i = big
	}
}

func (k *topK) sorted() []*threadRec {
	slices.SortFunc(k.h, func(a, b position) int {
		if a.before(b) {
			return -1
		}
		return 1
	})
	out := make([]*threadRec, len(k.h))
	for i, p := range k.h {
		out[i] = p.item.t
	}
	return out
}
