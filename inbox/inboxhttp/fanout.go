package inboxhttp

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"

	"github.com/parleyhq/parley/inbox"
)

// fanout hands the events of one inbox to every event stream the handler
// serves for it: one subscription, each event encoded once into its SSE
// text, kept in a ring of the latest ones that each stream reads at its own
// position without a lock. A new entry wakes every waiting stream at once
// by closing a channel, not by a send to each.
type fanout struct {
	ib     *inbox.Inbox
	ctx    context.Context // ends when the last stream leaves
	cancel context.CancelFunc
	users  int // guarded by Handler.fanMu

	ring  []atomic.Pointer[entry]
	head  atomic.Uint64                 // the position of the next entry
	wake  atomic.Pointer[chan struct{}] // closed when head moves or the fanout ends
	ended atomic.Bool                   // the inbox was closed: no more entries

	mu    sync.Mutex // orders appends with position
	seq   uint64     // the Seq of the latest entry, or where the fanout started
	floor uint64     // the ring holds every event after floor up to seq
}

// entry is one event in the ring.
type entry struct {
	pos      uint64
	seq      uint64
	threadID string
	text     []byte // the event's SSE text
	// thread is read once for every stream that applies CanSee.
	once   sync.Once
	thread *inbox.Thread
}

// joinFanout returns the fanout of ib, started if no stream uses it yet.
// Each join is matched by a leaveFanout.
func (h *Handler) joinFanout(ib *inbox.Inbox) *fanout {
	h.fanMu.Lock()
	defer h.fanMu.Unlock()
	f := h.fanouts[ib]
	if f == nil || f.ended.Load() {
		start := ib.LastEventSeq()
		f = &fanout{ib: ib, ring: make([]atomic.Pointer[entry], h.opts.EventBuffer), seq: start, floor: start}
		f.ctx, f.cancel = context.WithCancel(context.Background())
		wake := make(chan struct{})
		f.wake.Store(&wake)
		if h.fanouts == nil {
			h.fanouts = make(map[*inbox.Inbox]*fanout)
		}
		h.fanouts[ib] = f
		go f.run(start, max(h.opts.EventBuffer, DefaultEventBuffer))
	}
	f.users++
	return f
}

// leaveFanout stops f when its last stream leaves.
func (h *Handler) leaveFanout(f *fanout) {
	h.fanMu.Lock()
	defer h.fanMu.Unlock()
	if f.users--; f.users == 0 {
		f.cancel()
		if h.fanouts[f.ib] == f {
			delete(h.fanouts, f.ib)
		}
	}
}

// run follows the inbox's events after after until the fanout is stopped
// or the inbox closed.
func (f *fanout) run(after uint64, buf int) {
	for f.ctx.Err() == nil {
		var open bool
		if after, open = f.follow(after, buf); !open {
			break
		}
	}
	if f.ctx.Err() == nil { // the inbox was closed
		f.ended.Store(true)
		f.broadcast()
	}
}

// follow appends the events after after to the ring from one subscription,
// until it falls behind (it returns the Seq of the latest event appended
// and true: subscribe again from there, the inbox's history replays the
// rest) or ends (false).
func (f *fanout) follow(after uint64, buf int) (uint64, bool) {
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	sub := f.ib.SubscribeWith(ctx, inbox.SubscribeOptions{After: after, Buffer: buf})
	batch := make([]inbox.Event, 0, buf)
	for {
		select {
		case <-sub.Lagged():
			return after, true
		case e, open := <-sub.C():
			if !open {
				return after, false
			}
			if e.Missed > 0 {
				return after, true
			}
			batch = append(batch[:0], e)
			lagged, closed := false, false
			for more := true; more && len(batch) < cap(batch); {
				select {
				case e, open := <-sub.C():
					switch {
					case !open:
						more, closed = false, true
					case e.Missed > 0:
						more, lagged = false, true
					default:
						batch = append(batch, e)
					}
				default:
					more = false
				}
			}
			after = f.append(batch)
			if lagged || closed {
				return after, lagged
			}
		}
	}
}

// append encodes events, adds them to the ring and wakes the streams. It
// returns the Seq of the last one.
func (f *fanout) append(events []inbox.Event) uint64 {
	entries := make([]*entry, len(events))
	for i, e := range events {
		var b bytes.Buffer
		writeEvent(&b, e.Type.String(), e.Seq, eventJSON(e))
		entries[i] = &entry{seq: e.Seq, threadID: e.ThreadID, text: b.Bytes()}
	}
	f.mu.Lock()
	size := uint64(len(f.ring))
	for _, e := range entries {
		e.pos = f.head.Load()
		slot := &f.ring[e.pos%size]
		if old := slot.Load(); old != nil {
			f.floor = old.seq
		}
		slot.Store(e)
		f.seq = e.seq
		f.head.Store(e.pos + 1)
	}
	seq := f.seq
	f.mu.Unlock()
	f.broadcast()
	return seq
}

// broadcast wakes every stream waiting for an entry.
func (f *fanout) broadcast() {
	next := make(chan struct{})
	close(*f.wake.Swap(&next))
}

// entry returns the entry at pos, or nil when it was overwritten.
func (f *fanout) entry(pos uint64) *entry {
	e := f.ring[pos%uint64(len(f.ring))].Load()
	if e == nil || e.pos != pos {
		return nil
	}
	return e
}

// position returns the position of the first entry after the event after,
// and false when the ring does not hold every event after it (it is older
// than the ring, or newer than the fanout has read) or the inbox was
// closed.
func (f *fanout) position(after uint64) (uint64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ended.Load() || after < f.floor || after > f.seq {
		return 0, false
	}
	head := f.head.Load()
	for p := head - min(head, uint64(len(f.ring))); p < head; p++ {
		if f.ring[p%uint64(len(f.ring))].Load().seq > after {
			return p, true
		}
	}
	return head, true
}
