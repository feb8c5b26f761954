package memstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/inbox/store"
)

// feed is the store's event feed (store.Feed) and rate limiter
// (store.Limiter). Its events are guarded by the store's mu, so that a
// write appends its events in the same critical section as its changes;
// watchers and buckets have locks of their own.
type feed struct {
	// The events, oldest first, in chunks of feedChunk: an append never
	// copies the events before it (one growing slice would copy them all,
	// under the store's lock, each time it grows), and pruning drops
	// whole chunks. The event numbered first is chunks[0][off]. An event
	// is kept compact and without pointers (feedEntry): a broadcast
	// writes one per delivery, and the collector does not scan them.
	chunks [][]feedEntry
	off    int
	n      int    // events held
	first  uint64 // Seq of the oldest event held, or of the next event when none
	// arenas hold the events' data back to back: one allocation per
	// feedArena bytes rather than one per event (a status event per
	// delivery change). Data longer than maxArenaData has an arena of its
	// own. arenas[0] is arena number base; the arenas of the events
	// held are numbered in their order, so that pruning drops the arenas
	// before the oldest event's. The first data of an arena is its key:
	// the data after it keeps only what follows its common prefix with the
	// key (the status events of a broadcast share the first half of their
	// JSON).
	arenas [][]byte
	base   uint32
	full   bool // the last arena takes no more data
	keyLen int  // the length of the last arena's key
	locs   locTable
	// exact holds the times of the events that have no stamp, by Seq.
	exact map[uint64]time.Time

	wmu      sync.Mutex
	watchers map[*watcher]struct{}
	// watching is len(watchers), changed under wmu: a write that finds it
	// 0 has no one to tell, and takes neither lock (a watcher that comes
	// after is told to read the feed when it comes, see Watch).
	watching atomic.Int32
	notifyMu sync.Mutex // held while watchers are called: one call at a time

	lmu     sync.Mutex
	buckets map[string]time.Time // key → theoretical arrival time (GCRA)
}

type watcher struct{ fn func(store.Notice) }

// feedEntry is an event of the feed, compact: its time as a stamp (see
// locTable; exact: kept in feed.exact) and where its data is.
type feedEntry struct {
	at    int64
	arena uint32 // its number
	n     uint32 // bytes at off
	off   uint16 // in the arena (feedArena bytes at most; 0 in an arena of its own)
	pre   uint16 // bytes of the arena's key before them
	loc   uint8
	exact bool
	null  bool // Data was nil
}

// init makes the feed ready, numbered from the time it was created, in
// microseconds of the real clock: the numbers of a store that replaces
// another (a restarted process) are above the old one's, so a subscriber
// that resumes across a restart with an old number is told to reload
// rather than given unrelated events.
func (f *feed) init() {
	f.first = 1
	if us := time.Now().UnixMicro(); us > 0 {
		f.first = uint64(us)
	}
	f.watchers, f.buckets = map[*watcher]struct{}{}, map[string]time.Time{}
}

// feedChunk is the number of events per chunk of the feed.
const feedChunk = 1024

// feedArena is the size of an arena of event data; data longer than
// maxArenaData is copied on its own.
const (
	feedArena    = 64 << 10
	maxArenaData = 2 << 10
)

// keep copies an event's data to the arenas and records where in e. The
// caller holds mu for writing.
func (f *feed) keep(e *feedEntry, data []byte) {
	e.null, e.n = data == nil, uint32(len(data))
	if len(data) == 0 {
		return
	}
	last := len(f.arenas) - 1
	switch {
	case len(data) > maxArenaData:
		f.arenas = append(f.arenas, slices.Clone(data))
		f.full = true
		e.arena = f.base + uint32(last+1)
		return
	case last < 0 || f.full || cap(f.arenas[last])-len(f.arenas[last]) < len(data):
		f.arenas = append(f.arenas, make([]byte, 0, feedArena))
		f.full, f.keyLen = false, len(data)
		last++
	}
	a := &f.arenas[last]
	pre := 0
	if len(*a) > 0 {
		pre = commonPrefix((*a)[:f.keyLen], data, math.MaxUint16)
	}
	e.arena, e.off, e.pre, e.n = f.base+uint32(last), uint16(len(*a)), uint16(pre), uint32(len(data)-pre)
	*a = append(*a, data[pre:]...)
}

// commonPrefix returns the length of the common prefix of a and b, at most
// limit; it compares eight bytes at a time (the status events of a
// broadcast share some ninety).
func commonPrefix(a, b []byte, limit int) int {
	n := min(len(a), len(b), limit)
	a, b = a[:n], b[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		if x := binary.LittleEndian.Uint64(a[i:]) ^ binary.LittleEndian.Uint64(b[i:]); x != 0 {
			return i + bits.TrailingZeros64(x)/8
		}
	}
	for i < n && a[i] == b[i] {
		i++
	}
	return i
}

// data returns a copy of the data of e.
func (f *feed) data(e *feedEntry) []byte {
	switch {
	case e.null:
		return nil
	case e.n == 0 && e.pre == 0:
		return []byte{}
	}
	a := f.arenas[e.arena-f.base]
	out := make([]byte, int(e.pre)+int(e.n))
	copy(out, a[:e.pre])
	copy(out[e.pre:], a[int(e.off):int(e.off)+int(e.n)])
	return out
}

// event returns the i-th event held, its data copied.
func (f *feed) event(i int) store.FeedEvent {
	e := f.at(i)
	seq := f.first + uint64(i)
	at := f.locs.decode(e.at, e.loc)
	if e.exact {
		at = f.exact[seq]
	}
	return store.FeedEvent{Seq: seq, At: at, Data: f.data(e)}
}

// before reports whether the i-th event held happened before t.
func (f *feed) before(i int, t time.Time) bool {
	e := f.at(i)
	if e.exact {
		return f.exact[f.first+uint64(i)].Before(t)
	}
	return stampInstant(e.at).Before(t)
}

// head returns the Seq of the latest event appended. The caller holds mu.
func (f *feed) head() uint64 { return f.first + uint64(f.n) - 1 }

// at returns the i-th event held, oldest first. The caller holds mu.
func (f *feed) at(i int) *feedEntry {
	j := f.off + i
	return &f.chunks[j/feedChunk][j%feedChunk]
}

// drop removes the k oldest events. The caller holds mu for writing.
func (f *feed) drop(k int) {
	for i := range k {
		if f.at(i).exact {
			delete(f.exact, f.first+uint64(i))
		}
	}
	keep := len(f.arenas) // the arenas from the oldest event kept on
	if k < f.n {
		for i := k; i < f.n; i++ { // its first with data
			if e := f.at(i); e.n > 0 || e.pre > 0 {
				keep = int(e.arena - f.base)
				break
			}
		}
	}
	if keep == len(f.arenas) && keep > 0 && !f.full {
		keep-- // the arena the next event's data goes to
	}
	clear(f.arenas[:keep]) // let the collector have their data now
	f.arenas = f.arenas[keep:]
	f.base += uint32(keep)
	f.n -= k
	f.first += uint64(k)
	f.off += k
	whole := f.off / feedChunk
	clear(f.chunks[:whole])
	f.chunks = f.chunks[whole:]
	f.off -= whole * feedChunk
}

// appendEvents numbers and appends events, their data copied (the caller
// may reuse its own, store.FeedEvent); it returns the new head,
// 0 when there were none. The caller holds mu for writing.
func (f *feed) appendEvents(events []store.FeedEvent) uint64 {
	if len(events) == 0 {
		return 0
	}
	for _, e := range events {
		var k feedEntry
		var ok bool
		if k.at, k.loc, ok = f.locs.encode(e.At); !ok {
			if f.exact == nil {
				f.exact = make(map[uint64]time.Time)
			}
			k.exact, k.at = true, 0
			f.exact[f.head()+1] = e.At
		}
		f.keep(&k, e.Data)
		if len(f.chunks) == 0 || len(f.chunks[len(f.chunks)-1]) == feedChunk {
			f.chunks = append(f.chunks, make([]feedEntry, 0, feedChunk))
		}
		last := &f.chunks[len(f.chunks)-1]
		*last = append(*last, k)
		f.n++
	}
	return f.head()
}

// notify tells the watchers that events up to head were appended; with no
// watcher (feed.watching), it does nothing. It is called without mu held.
func (s *Store) notify(head uint64) {
	if head != 0 && s.feed.watching.Load() > 0 {
		s.call(store.Notice{Seq: head})
	}
}

func (s *Store) call(n store.Notice) {
	f := &s.feed
	f.notifyMu.Lock()
	defer f.notifyMu.Unlock()
	f.wmu.Lock()
	ws := make([]*watcher, 0, len(f.watchers))
	for w := range f.watchers {
		ws = append(ws, w)
	}
	f.wmu.Unlock()
	for _, w := range ws {
		if n.Ephemeral != nil {
			n.Ephemeral = slices.Clone(n.Ephemeral)
		}
		w.fn(n)
	}
}

// AppendEvents implements store.Store.
func (s *Store) AppendEvents(ctx context.Context, events ...store.FeedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	head := s.feed.appendEvents(events)
	s.mu.Unlock()
	s.notify(head)
	return nil
}

// ReadEvents implements store.Store.
func (s *Store) ReadEvents(ctx context.Context, after uint64, limit int) ([]store.FeedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if limit < 1 {
		return nil, invalid("event limit %d", limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	f := &s.feed
	if after+1 < f.first {
		return nil, fmt.Errorf("memstore: events after %d: %w", after, store.ErrPruned)
	}
	i := after + 1 - f.first
	if i >= uint64(f.n) {
		return nil, nil
	}
	out := make([]store.FeedEvent, 0, min(uint64(f.n)-i, uint64(limit)))
	for j := int(i); j < f.n && len(out) < limit; j++ {
		out = append(out, f.event(j))
	}
	return out, nil
}

// LastEventSeq implements store.Store.
func (s *Store) LastEventSeq(ctx context.Context) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.feed.head(), nil
}

// PruneEvents implements store.Store.
func (s *Store) PruneEvents(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f := &s.feed
	n := 0
	for n < f.n && f.before(n, before) {
		n++
	}
	if n == 0 {
		return 0, nil
	}
	f.drop(n)
	return n, nil
}

// Watch implements store.Store: fn is called by the goroutine that wrote,
// once the write is done, or that published.
func (s *Store) Watch(ctx context.Context, fn func(store.Notice)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f := &s.feed
	w := &watcher{fn: fn}
	f.notifyMu.Lock()
	f.wmu.Lock()
	f.watchers[w] = struct{}{}
	f.watching.Store(int32(len(f.watchers)))
	f.wmu.Unlock()
	fn(store.Notice{})
	f.notifyMu.Unlock()
	context.AfterFunc(ctx, func() {
		f.wmu.Lock()
		delete(f.watchers, w)
		f.watching.Store(int32(len(f.watchers)))
		f.wmu.Unlock()
	})
	return nil
}

// PublishEphemeral implements store.Store.
func (s *Store) PublishEphemeral(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(data) > store.MaxEphemeral {
		return invalid("ephemeral event of %d bytes", len(data))
	}
	if data == nil {
		data = []byte{}
	}
	s.call(store.Notice{Ephemeral: data})
	return nil
}

// ReserveSends implements store.Store with the generic cell rate algorithm
// on the real clock: the bucket keeps the theoretical arrival time of the
// next send.
func (s *Store) ReserveSends(ctx context.Context, key string, perSecond float64, burst, n int) (time.Duration, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if n < 1 || burst < 1 || !(perSecond > 0) {
		return 0, invalid("reserve %d sends at %v/s, burst %d", n, perSecond, burst)
	}
	interval := time.Duration(float64(time.Second) / perSecond)
	f := &s.feed
	f.lmu.Lock()
	defer f.lmu.Unlock()
	now := time.Now()
	base := f.buckets[key]
	if base.Before(now) {
		base = now
	}
	f.buckets[key] = base.Add(time.Duration(n) * interval)
	return base.Sub(now) - time.Duration(burst-1)*interval, nil
}
