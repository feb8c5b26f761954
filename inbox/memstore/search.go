package memstore

import (
	"slices"
	"sync"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// bitset is a set of thread numbers.
type bitset []uint64

func newBitset(n int) bitset       { return make(bitset, n/64+1) }
func (b bitset) has(i uint32) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bitset) set(i uint32)      { b[i/64] |= 1 << (i % 64) }

// threadBits is the set of threads that have a message holding one word,
// kept for the frequent words that were searched (see frequentPostings): a
// search for such a word tests each thread of the list walk against it
// instead of collecting the threads of its postings. It is brought up to
// date with the postings when a search needs it, not by every write.
type threadBits struct {
	mu   sync.Mutex // held while the bits are brought up to date
	bits bitset     // may be shorter than the thread numbers: missing is unset
	n    int        // threads in bits
	upto int        // postings already in bits
}

// frequentPostings returns the number of postings from which a message
// word searched gets its threadBits, in a store of threads threads: an
// eighth of the threads, so that the bits take at most a quarter of the
// memory of the postings when they are made.
func frequentPostings(threads int) int { return max(64, threads/8) }

func (tb *threadBits) has(num uint32) bool {
	return int(num/64) < len(tb.bits) && tb.bits.has(num)
}

func (tb *threadBits) add(num uint32) {
	if tb.has(num) {
		return
	}
	if i := int(num / 64); i >= len(tb.bits) {
		tb.bits = append(tb.bits, make(bitset, i+1-len(tb.bits))...)
	}
	tb.bits.set(num)
	tb.n++
}

// frequentWord returns the threadBits of words, up to date, when they are
// one frequent word; else nil. Call it under the read lock: postings do
// not change while it is held, so once a search has brought the bits up to
// date, no other search changes them until the next write.
func (s *Store) frequentWord(words []string) *threadBits {
	if len(words) != 1 {
		return nil
	}
	id, ok := s.wordIDs[words[0]]
	if !ok {
		return nil
	}
	postings := s.postings[id]
	s.frequentMu.Lock()
	tb := s.frequent[id]
	if tb == nil {
		if len(postings) < frequentPostings(len(s.threadNum)) {
			s.frequentMu.Unlock()
			return nil
		}
		tb = &threadBits{bits: newBitset(len(s.threadNum))}
		s.frequent[id] = tb
	}
	s.frequentMu.Unlock()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, m := range postings[tb.upto:] {
		tb.add(s.msgThread[m])
	}
	tb.upto = len(postings)
	return tb
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

// maxListed is the default number of candidates up to which a search checks each
// one; beyond it, it walks the list index of the query's filters and keeps
// the threads in the set, which visits about Limit × listed / candidates
// threads instead of all candidates.
const maxListed = 4096

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

// search answers a ThreadQuery with a search (T13). The candidates come
// from the indexes, without touching the threads: threads with a phone
// form starting with q.Search.Phone; or threads with, for every term, a
// subject word it prefixes; or threads with one message holding every
// message word of the terms. Few candidates are each checked against the
// other filters, a bounded heap keeping the first q.Limit after q.After in
// list order; many are looked up while walking the list index.
func (s *Store) search(q store.ThreadQuery) []*threadRec {
	c := candidates{set: s.getBitset(), max: s.maxListed}
	defer s.putBitset(c.set)
	if q.Search.Phone != "" {
		s.phones.scanPrefix(q.Search.Phone, c.add)
	} else {
		s.searchSubjects(q.Search.Terms, c.add)
		words := textindex.MessageTerms(q.Search.Terms)
		if tb := s.frequentWord(words); tb != nil && c.n+tb.n > c.max {
			// Too many threads to collect: the list walk tests each
			// thread against both sets.
			return s.lists.query(q, func(t *threadRec) bool { return c.set.has(t.num) || tb.has(t.num) })
		}
		s.searchMessages(words, c.add)
	}
	if c.n > c.max {
		return s.lists.query(q, func(t *threadRec) bool { return c.set.has(t.num) })
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
	for i, t := range terms {
		if i == longest {
			continue
		}
		b := newBitset(len(s.threadNum))
		s.subject.scanPrefix(t, b.set)
		others = append(others, b)
	}
	s.subject.scanPrefix(terms[longest], func(num uint32) {
		for _, b := range others {
			if !b.has(num) {
				return
			}
		}
		fn(num)
	})
}

// searchMessages calls fn with the thread of every message that holds all
// words, intersecting their postings, shortest first. No words match no
// message.
func (s *Store) searchMessages(words []string, fn func(uint32)) {
	if len(words) == 0 {
		return
	}
	lists := make([][]uint32, len(words))
	for i, w := range words {
		id, ok := s.wordIDs[w]
		if !ok {
			return
		}
		lists[i] = s.postings[id]
	}
	slices.SortFunc(lists, func(a, b []uint32) int { return len(a) - len(b) })
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
// Lists of similar lengths are merged; a much shorter one is looked up in
// the longer one.
func intersect(a, b []uint32) []uint32 {
	var out []uint32
	if len(b) > 16*len(a) {
		for _, n := range a {
			i, found := slices.BinarySearch(b, n)
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
