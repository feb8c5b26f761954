package pgstore

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
)

// Search keys. A thread's search_keys column holds, for its tenant, every
// prefix of every subject word ("w" keys) and every prefix of every phone
// digit form ("p" keys), so that the T13 rule
// "a term is a prefix of a subject word, a phone query a prefix of a digit
// form" becomes array containment (@>) served by one GIN index. A message's
// search_words column holds its whole words ("m" keys), and a thread's
// message_words column those of all its messages. Every key starts
// with the tenant number, so that the index answers one tenant's search
// without visiting another tenant's rows.

// keyPrefix returns the tenant part of the keys of one kind ("w", "p", "m").
func keyPrefix(tenant int64, kind string) string {
	return strconv.FormatInt(tenant, 10) + ":" + kind + ":"
}

// threadKeys returns the search keys of a thread's snapshot.
func threadKeys(tenant int64, s store.Snapshot) []string {
	seen := make(map[string]struct{})
	keys := []string{}
	add := func(k string) {
		if _, ok := seen[k]; !ok {
			seen[k] = struct{}{}
			keys = append(keys, k)
		}
	}
	wp := keyPrefix(tenant, "w")
	for _, w := range textindex.SubjectWords(s) {
		for i := range w {
			if i > 0 {
				add(wp + w[:i])
			}
		}
		add(wp + w)
	}
	pp := keyPrefix(tenant, "p")
	for _, f := range textindex.PhoneForms(s.Phone) {
		for n := 1; n <= len(f); n++ {
			add(pp + f[:n])
		}
	}
	return keys
}

// searchKeys returns the keys a thread must hold to match q through its
// subject, and the message keys a message must hold to match q's terms. A
// phone search has no message keys; terms that need no message word (only
// punctuation) match no message, as in every Parley store.
func searchKeys(tenant int64, q store.Search) (subject, message []string) {
	if q.Phone != "" {
		return []string{keyPrefix(tenant, "p") + validUTF8(q.Phone)}, nil
	}
	wp := keyPrefix(tenant, "w")
	for _, t := range q.Terms {
		subject = append(subject, wp+validUTF8(t))
	}
	return subject, messageKeys(tenant, textindex.MessageTerms(q.Terms))
}

// messageKeys returns the keys of message words.
func messageKeys(tenant int64, words []string) []string {
	if len(words) == 0 {
		return nil
	}
	mp := keyPrefix(tenant, "m")
	keys := make([]string, len(words))
	for i, w := range words {
		keys[i] = mp + w
	}
	return keys
}

// validUTF8 returns s when it is valid UTF-8, else s with each invalid byte
// replaced by U+FFFD, as internal/fold does when it folds.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		b = utf8.AppendRune(b, r)
		i += size
	}
	return string(b)
}

// Keyset ranks. The thread list is ordered favourites first, then by sort
// time newest first, then by ID ascending (T3). Mixed directions do not fit
// one row comparison, so every thread stores list_pin (NOT favourite) and
// list_rank (minus its sort time in microseconds): the list order is then
// (list_pin, list_rank, id) ascending, which one B-tree index serves and one
// row comparison pages through.

// micros returns t in microseconds since the Unix epoch, rounded down, the
// precision PostgreSQL keeps.
func micros(t time.Time) int64 { return t.UnixMicro() }

// listRank returns the list_rank of a sort time.
func listRank(sortTime time.Time) int64 { return -micros(sortTime) }

// Filter and window markers. A thread's filter_keys column (migration 6,
// computed by PostgreSQL from the thread's columns) holds its filter state
// as tenant-prefixed markers, in the GIN index of its search keys: "l"
// listed or "a" archived, "u" unread, "f" favourite and "m" muted (each
// only when not archived), "o" open or "c" closed, "k1" to "k3" the
// subject kind and "g:<agent>" the assignee ("g:" for none; no marker for
// an agent ID longer than maxMarkedAgent bytes). It also holds the
// thread's place in the list order as window markers: for each bit width w
// of windowLevels, "f<w>:<b>" for a favourite or "n<w>:<b>" for another
// thread, where b is list_rank >> w (arithmetic shift), the bucket of
// 2^w microseconds of sort time the thread is in. A window of the list
// (favourites first, then newest first) is a run of buckets of one width in
// each of the two groups. Dormant threads have no marker.

// maxMarkedAgent is the longest agent ID (in bytes) that has a marker.
const maxMarkedAgent = 64

// filterMarkers returns the markers a thread must hold to pass q's
// filters, which a search intersects with its keys in the GIN index, the
// conditions on parley_threads' columns of the filters it leaves to the
// rows, and whether the assignee filter is left to the column (an agent ID
// too long for a marker).
//
// Reading a marker costs the index scan the decoding of its posting list
// wherever candidates fall, which for a marker of most of the list is
// nearly all of it, while checking a column costs a visit of each
// candidate's row. A filter that keeps a small share of a typical list
// (archived, unread, favourites, muted, audiences, events, one agent) is
// always a marker. One that keeps most of it (the listed threads, the
// contacts) is always a column (at 1,000,000 threads, "helene dup" among
// the listed threads took 8.4 ms with the marker, 0.8 ms with the column,
// and "dupont" closed and assigned to an agent 7.5 ms with the listed,
// closed and agent markers, 1.4 ms with the agent's alone). One that keeps
// about half of it (a lifecycle, the unassigned threads) is a marker only
// when half is true and no other filter is a marker: for a collection of
// many matches, whose rows the marker spares, and which another marker
// does not narrow already.
func filterMarkers(tenant int64, q *store.ThreadQuery, half bool) (markers, cols []string, assignee bool) {
	mark := func(m string) { markers = append(markers, strconv.FormatInt(tenant, 10)+":"+m) }
	switch q.Status {
	case store.Archived:
		mark("a")
	case store.Unread:
		mark("u")
	case store.Favourites:
		mark("f")
	case store.Muted:
		mark("m")
	default:
		cols = append(cols, "NOT archived")
	}
	switch q.Category {
	case 0:
	case store.Contact:
		cols = append(cols, "subject_kind = "+strconv.Itoa(int(q.Category)))
	default:
		mark("k" + strconv.Itoa(int(q.Category)))
	}
	switch {
	case q.Assignee != "" && len(q.Assignee) <= maxMarkedAgent:
		mark("g:" + q.Assignee)
	case q.Assignee != "":
		assignee = true
	}
	half = half && len(markers) == 0
	switch {
	case q.Lifecycle == store.Open && half:
		mark("o")
	case q.Lifecycle == store.Open:
		cols = append(cols, "NOT closed")
	case q.Lifecycle == store.Closed && half:
		mark("c")
	case q.Lifecycle == store.Closed:
		cols = append(cols, "closed")
	}
	switch {
	case q.Assignee == "" && q.Unassigned && half:
		mark("g:")
	case q.Assignee == "" && q.Unassigned:
		cols = append(cols, "assignee = ''")
	}
	return markers, cols, assignee
}

// windowLevels are the bit widths of the window markers' buckets: 2^32 µs
// (72 minutes) to 2^47 µs (4.5 years), eight times wider each.
var windowLevels = [...]uint{32, 35, 38, 41, 44, 47}

// maxWindowBuckets is the most buckets a window names in each group: the
// narrowest width that needs no more is taken, so that a window holds at
// most about twice the entries it should (a bucket of that width is at
// most about half the window's span). More buckets fit the window closer,
// but the planner prices each marker as an index search: at 64 buckets it
// chose a sequential scan of 10,000 threads, whose array checks took
// 390 ms.
const maxWindowBuckets = 16

// windowKeys returns the window markers of the threads of one group
// (favourites when pin is false) whose list rank is from `from` to `to`, or
// nil when the span needs more than maxWindowBuckets buckets of the widest
// width.
func windowKeys(tenant int64, pin bool, from, to int64) []string {
	for _, w := range windowLevels {
		lo, hi := from>>w, to>>w
		if hi-lo >= maxWindowBuckets {
			continue
		}
		keys := make([]string, 0, hi-lo+1)
		for b := lo; b <= hi; b++ {
			keys = append(keys, windowKey(tenant, pin, w, b))
		}
		return keys
	}
	return nil
}

// windowKey returns the window marker of bucket b of width w in one group
// (favourites when pin is false).
func windowKey(tenant int64, pin bool, w uint, b int64) string {
	group := ":n"
	if !pin {
		group = ":f"
	}
	return strconv.FormatInt(tenant, 10) + group + strconv.FormatUint(uint64(w), 10) + ":" + strconv.FormatInt(b, 10)
}
