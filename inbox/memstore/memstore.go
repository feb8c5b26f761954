package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/btree"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/inbox/store/textindex"
	"github.com/parleyhq/parley/status"
)

// ErrInvalid reports a value the storage contract does not allow: an empty
// ID, an invalid subject kind, a message or delivery of another thread, a
// change of a thread's subject or of a delivery's message, a Limit below 1.
// Nothing was written. It is store.ErrInvalid.
var ErrInvalid = store.ErrInvalid

// btreeDegree is the degree of every B-tree of the store.
const btreeDegree = 32

var _ store.Store = (*Store)(nil)

// Store is an in-memory store.Store with indexes for every query. Create it
// with New; the zero Store is not usable.
type Store struct {
	mu sync.RWMutex

	threads keyIndex[threadRec] // by ID
	// lastRead is the thread Thread or LiveThread returned last: a write
	// of a thread most often follows its read, and finding it here spares
	// the map's random reads (see checkThread). Threads are never removed,
	// so it is always the record of its ID.
	lastRead  atomic.Pointer[threadRec]
	threadNum []*threadRec                          // by threadRec.num
	live      [store.Event + 1]strIndex[*threadRec] // by subject kind and ID: see liveOf

	msgs      keyIndex[msgRec] // by ID
	msgThread []uint32         // thread number by message number
	msgByPID  keyIndex[msgRec] // inbound messages by provider ID (M5)
	outByPID  keyIndex[msgRec] // outbound messages by provider ID, one namespace with delByPID

	dels     keyIndex[delRec]        // by ID
	delByPID pidIndex                // by provider ID, one namespace with outByPID
	due      *btree.BTreeG[*delRec]  // status.Scheduled, by (DueAt, ID)
	sent     *btree.BTreeG[sentItem] // all, by (CreatedAt desc, ID)
	anchors  map[string]map[string]*delRec
	sending  []*delRec // Sending not zero (the outbox), in no order (see markSending)
	delTabs  delTables
	mergeBuf []status.Change // MergeStatus's history, reused under the write lock

	lists    *listIndex
	baseline baseLister // nil but in benchmarks, see baseLister
	counters counterIndex
	subject  wordIndex         // subject words that are words (textindex.IsWord)
	chunks   wordIndex         // the other subject words (e-mail addresses, "jean-pierre")
	phones   wordIndex         // phone digit forms
	wordIDs  map[string]uint32 // message word → its number in postings
	postings [][]uint32        // by word number: message numbers, ascending
	slotOf   []uint16          // by word number: its slot + 1, 0 for none
	// slotCols are, by slot, the threads that have a message holding its
	// word, by thread number (see markSlot).
	slotCols [nSlots]bitset
	// slotThreads counts, by slot, the threads that have its bit.
	slotThreads  [nSlots]int
	slots        int // slots given
	slotPostings int // see slotPostings
	walkMin      int // see walkMin

	// The strings and records the store keeps for good, allocated many
	// at a time (see strArena and slab).
	strs       strArena
	msgRecs    slab[msgRec]
	msgOuts    slab[msgOut]
	delRecs    slab[delRec]
	threadRecs slab[threadRec]
	msgPtrs    slab[*msgRec] // the first two of each thread's messages
	delPtrs    slab[*delRec] // each message's deliveries

	optOuts map[optKey]struct{}
	locs    locTable // locations of the stamps of messages
	feed    feed     // the event feed and rate limiter (events.go)

	words     sync.Pool // *textindex.Splitter
	bitsets   sync.Pool // *bitset, cleared
	numBufs   sync.Pool // *[]uint32: the candidates' numbers of an earlier search, for reuse
	maxListed int       // see maxListed
	// warm sums what WriteThread reads early (see there), so that the
	// compiler keeps the reads.
	warm int64
	// collectOnly turns the word slot walks of searches off: benchmarks
	// compare them with collecting every match.
	collectOnly bool
}

type optKey struct {
	kind    channel.Kind
	address string
}

// threadRec is a stored thread with what hangs off it.
type threadRec struct {
	num     uint32
	t       store.Thread
	msgs    []*msgRec           // by (CreatedAt, ID)
	lastAt  int64               // the CreatedAt stamp of the last of msgs; math.MaxInt64 when it has none
	assigns *[]store.Assignment // nil until the first entry: most threads have none
}

// New returns an empty in-memory store. It keeps everything in the memory of
// the process and nothing across restarts: when the process ends, every
// thread, message, delivery and opt-out is gone. Use inbox/pgstore, or a
// store of your own, to keep an inbox.
func New() *Store {
	hash := newHash()
	s := &Store{
		threads:      newKeyIndex(func(r *threadRec) string { return r.t.ID }, hash),
		msgs:         newKeyIndex(func(r *msgRec) string { return r.id }, hash),
		msgByPID:     newKeyIndex(func(r *msgRec) string { return r.providerID }, hash),
		outByPID:     newKeyIndex(func(r *msgRec) string { return r.providerID }, hash),
		dels:         newKeyIndex(func(d *delRec) string { return d.id }, hash),
		delByPID:     newPIDIndex(hash),
		due:          btree.NewG(btreeDegree, lessDue),
		sent:         btree.NewG(btreeDegree, lessSent),
		anchors:      make(map[string]map[string]*delRec),
		counters:     newCounterIndex(),
		subject:      newWordIndex(),
		chunks:       newWordIndex(),
		phones:       newWordIndex(),
		wordIDs:      make(map[string]uint32),
		optOuts:      make(map[optKey]struct{}),
		maxListed:    maxListed,
		slotPostings: slotPostings,
		walkMin:      walkMin,
	}
	for k := range s.live {
		s.live[k].hash = hash
	}
	s.subject.strs, s.chunks.strs, s.phones.strs = &s.strs, &s.strs, &s.strs
	s.lists = newListIndex(&s.threadNum)
	s.words.New = func() any { return new(textindex.Splitter) }
	s.feed.init()
	return s
}

// notFoundError is store.ErrNotFound with what was looked up. It is built
// with one allocation: a dedup lookup that finds nothing is on the path of
// every inbound message.
type notFoundError struct {
	what, id string
}

func (e *notFoundError) Error() string {
	return "memstore: " + e.what + " " + strconv.Quote(e.id) + ": " + store.ErrNotFound.Error()
}

func (e *notFoundError) Unwrap() error { return store.ErrNotFound }

func notFound(what, id string) error { return &notFoundError{what, id} }

func invalid(format string, args ...any) error {
	return fmt.Errorf("memstore: %w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Thread implements store.Store.
func (s *Store) Thread(ctx context.Context, id string) (store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return store.Thread{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.threads.get(id)
	if !ok {
		return store.Thread{}, notFound("thread", id)
	}
	s.lastRead.Store(rec)
	return rec.t, nil
}

// LiveThread implements store.Store.
func (s *Store) LiveThread(ctx context.Context, subj store.Subject) (store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return store.Thread{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec := s.liveOf(subj)
	if rec == nil {
		return store.Thread{}, notFound("live thread of", subj.String())
	}
	s.lastRead.Store(rec)
	return rec.t, nil
}

// liveOf returns the live thread of subj, nil for none. The live threads
// are kept by subject kind, then by ID (a string key is hashed and
// compared faster than a Subject), in a strIndex: on the path of every
// inbound message, finding the thread reads its slot, then its record and
// the key's bytes together, where a map read its control word, its slot
// and the key's bytes before the record, one cache miss after the other.
func (s *Store) liveOf(subj store.Subject) *threadRec {
	if !subj.Kind.Valid() {
		return nil
	}
	r, _ := s.live[subj.Kind].get(subj.ID)
	return r
}

// Threads implements store.Store. Without a search it walks the list index
// of the query's filter combination from q.After and stops after q.Limit
// threads; with one it looks the candidates up in the search indexes.
func (s *Store) Threads(ctx context.Context, q store.ThreadQuery) ([]store.Thread, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if q.Limit < 1 {
		return nil, invalid("thread query limit %d", q.Limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var recs []*threadRec
	if q.Search.IsZero() {
		recs, _ = s.queryList(q, listFilter{}, nil)
	} else {
		recs = s.search(q)
	}
	out := make([]store.Thread, len(recs))
	for i, r := range recs {
		out[i] = r.t
	}
	return out, nil
}

// Counters implements store.Store.
func (s *Store) Counters(ctx context.Context, now time.Time) (store.Counters, error) {
	if err := ctx.Err(); err != nil {
		return store.Counters{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.counters.at(now), nil
}

// Assignments implements store.Store.
func (s *Store) Assignments(ctx context.Context, threadID string) ([]store.Assignment, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	rec, ok := s.threads.get(threadID)
	if !ok {
		return []store.Assignment{}, nil
	}
	if rec.assigns == nil {
		return nil, nil
	}
	return slices.Clone(*rec.assigns), nil
}

// SetOptOut implements store.Store.
func (s *Store) SetOptOut(ctx context.Context, kind channel.Kind, address string, optedOut bool, events ...store.FeedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	k := optKey{kind, address}
	if optedOut {
		s.optOuts[k] = struct{}{}
	} else {
		delete(s.optOuts, k)
	}
	head := s.feed.appendEvents(events)
	s.mu.Unlock()
	s.notify(head)
	return nil
}

// OptedOut implements store.Store.
func (s *Store) OptedOut(ctx context.Context, kind channel.Kind, addresses []string) (map[string]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]bool)
	for _, a := range addresses {
		if _, ok := s.optOuts[optKey{kind, a}]; ok {
			out[a] = true
		}
	}
	return out, nil
}

// countsAdd adds delta deliveries in status st to c, counting an
// out-of-range status as Unknown as status.Counts.Add does.
func countsAdd(c *status.Counts, st status.Status, delta int) {
	if int(st) >= len(c) {
		st = status.Unknown
	}
	c[st] += delta
}
