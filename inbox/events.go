package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/inbox/store"
	"github.com/parleyhq/parley/status"
)

// EventType says what happened (T20).
type EventType uint8

// The event types.
const (
	// EventMessageReceived: an inbound message was stored.
	EventMessageReceived EventType = iota + 1
	// EventMessageSent: an outbound message was recorded.
	EventMessageSent
	// EventStatusChanged: a delivery's status rose (S2).
	EventStatusChanged
	// EventUnknownStatus: a status update named a provider ID no delivery
	// has, even after Options.StatusWait; it was acknowledged, not applied.
	// ProviderID, Status, Kind and Address (the recipient) say which.
	EventUnknownStatus
	// EventThreadStarted: a thread was created.
	EventThreadStarted
	// EventThreadRead: a thread was read.
	EventThreadRead
	// EventThreadChanged: a thread's flags changed (unread, mute,
	// favourite, archive, lifecycle, snapshot).
	EventThreadChanged
	// EventAssigned: a thread's assignee changed (T12).
	EventAssigned
	// EventTyping: an agent is typing in a thread until ExpiresAt (T16).
	EventTyping
	// EventTypingStopped: an agent stopped typing (it sent its message).
	EventTypingStopped
	// EventOptedOut and EventOptedIn: an address opted out of, or back
	// into, a channel kind (R5).
	EventOptedOut
	EventOptedIn
	// EventDeviceRetired: a push provider reported a device token dead
	// (channel.ErrAddressRetired); Address is the token, DeliveryID the
	// delivery that met it. The inbox no longer sends to it; the host should
	// remove it from the contact.
	EventDeviceRetired
	// EventResync: a subscriber that resumed after an event the inbox no
	// longer holds (or never published) missed events it cannot be given:
	// it must reload its state. Its Seq is the latest event published
	// when the subscription started; the events after it follow.
	EventResync
	// EventOutcomeUnknown: a send's outcome is not recorded, so the
	// delivery may have reached its recipient without the inbox knowing
	// (see Recover). ProviderID is set when the provider accepted the
	// message and the store refused the outcome for Options.OutcomeRetry:
	// it is kept in memory and written when the store or Recover allows.
	// ProviderID is empty when Recover could not ask the provider: the
	// delivery stays pending with the reason, until a status report that
	// carries its reference completes it. DeliveryID, MessageID, ThreadID,
	// Kind and Address say which.
	EventOutcomeUnknown
)

var eventNames = [...]string{"", "message-received", "message-sent", "status-changed", "unknown-status",
	"thread-started", "thread-read", "thread-changed", "assigned", "typing", "typing-stopped", "opted-out", "opted-in",
	"device-retired", "resync", "outcome-unknown"}

// String returns the event type's name ("message-received").
func (e EventType) String() string {
	if int(e) < len(eventNames) && e > 0 {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// DefaultEventHistory is the number of recent events an inbox keeps in
// memory for subscribers that resume (SubscribeOptions.After) without
// reading the store.
const DefaultEventHistory = 4096

// DefaultEventRetention is how long the event feed keeps events for
// subscribers that resume (see Options.EventRetention).
const DefaultEventRetention = 24 * time.Hour

// Event is one change in the inbox, for live UIs and notifications (T20).
type Event struct {
	// Seq is the event's number in the store's event feed, shared by every
	// Inbox on the store: each event gets one more than the previous one,
	// whichever instance wrote it, so a subscriber that reconnects — to
	// this instance or another, before or after a restart — passes the
	// last Seq it handled as SubscribeOptions.After and misses nothing.
	// Ephemeral events (typing) are not in the feed: they carry the Seq of
	// the latest event before them, and are not replayed.
	Seq        uint64
	Type       EventType
	ThreadID   string
	MessageID  string
	DeliveryID string
	ProviderID string
	// Agent is the agent of typing events.
	Agent string
	// Kind and Address are set on opt-out, device-retired and unknown-status
	// events.
	Kind    channel.Kind
	Address string
	// Status is the new status of status events.
	Status status.Status
	// At is when it happened; ExpiresAt when a typing indicator ends.
	At        time.Time
	ExpiresAt time.Time
	// Missed is the number of events this subscriber missed just before
	// this one because its buffer was full (T20). They can still be had
	// from the event feed: subscribe again with After set to the Seq of the
	// last event handled before this one.
	Missed uint64
}

// Subscription receives inbox events (T20). Read them from C. A subscriber
// that falls behind by more than its buffer misses events; it is never
// allowed to block the inbox: Lagged tells it at once, the next event it
// gets says how many it missed (Event.Missed), as does Missed.
type Subscription struct {
	c      chan Event
	lagged chan struct{}
	mu     sync.Mutex
	missed uint64 // not yet reported in an event
	total  uint64
	done   bool
	stop   func() bool // stops the context watch
	pos    uint64      // the Seq of the last feed event offered; guarded by the hub's mu
}

// C returns the channel of events. It is closed when the subscription's
// context ends or the inbox is closed.
func (s *Subscription) C() <-chan Event { return s.c }

// Lagged receives a value when the subscription has missed an event (one
// value however many were missed until it is read). A subscriber that
// cannot wait for the next event to learn of a gap selects on it, and
// resumes from the event feed with SubscribeWith(After: the Seq of the
// last event it handled).
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Missed returns how many events the subscriber has missed in all.
func (s *Subscription) Missed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// offer hands e to the subscriber, and reports false when it missed it.
func (s *Subscription) offer(e Event) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return true
	}
	e.Missed = s.missed
	select {
	case s.c <- e:
		s.missed = 0
	default:
		s.missed++
		s.total++
		select {
		case s.lagged <- struct{}{}:
		default:
		}
		return false
	}
	return true
}

func (s *Subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		close(s.c)
	}
}

// hub hands the events of the feed to this inbox's subscribers, in Seq
// order, and keeps the recent ones in a ring for subscribers that resume.
// Delivering holds mu, so every subscriber sees events in Seq order.
type hub struct {
	mu     sync.Mutex
	buf    int
	subs   map[*Subscription]struct{}
	closed bool
	quit   chan struct{} // closed by close

	known bool          // seq is the feed's
	ready chan struct{} // closed when known
	// started is known, read without the lock: every write with events
	// asks (Inbox.delivered), and before the first subscription the
	// answer is all it needs
	started atomic.Bool
	seq     uint64  // the Seq of the latest feed event delivered
	floor   uint64  // the ring holds every event after floor up to seq
	ring    []Event // the latest events, oldest at start
	start   int
	n       int

	obs *observer // counts missed events and resyncs
}

func newHub(buf, history int) *hub {
	if history == 0 {
		history = DefaultEventHistory
	}
	return &hub{buf: buf, subs: make(map[*Subscription]struct{}), quit: make(chan struct{}), ready: make(chan struct{}),
		ring: make([]Event, history)}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.closed = true
	close(h.quit)
	for s := range h.subs {
		s.stop()
		s.close()
		delete(h.subs, s)
	}
}

// position returns the Seq of the latest event delivered and whether it is
// known yet.
func (h *hub) position() (uint64, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq, h.known
}

// setKnown starts the hub at the feed's head.
func (h *hub) setKnown(head uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.known {
		h.known, h.seq, h.floor = true, head, head
		h.started.Store(true)
		close(h.ready)
	}
}

// push adds a delivered event to the ring. The caller holds mu.
func (h *hub) push(e Event) {
	if h.n < len(h.ring) {
		h.ring[(h.start+h.n)%len(h.ring)] = e
		h.n++
		return
	}
	h.floor = h.ring[h.start].Seq
	h.ring[h.start] = e
	h.start = (h.start + 1) % len(h.ring)
}

// covers reports whether the ring holds every event after after. The
// caller holds mu.
func (h *hub) covers(after uint64) bool { return h.known && h.floor <= after && after <= h.seq }

// since returns the ring's events with Seq above after, oldest first. The
// caller holds mu and has checked that the ring covers after.
func (h *hub) since(after uint64) []Event {
	i := sort.Search(h.n, func(i int) bool { return h.ring[(h.start+i)%len(h.ring)].Seq > after })
	out := make([]Event, 0, h.n-i)
	for ; i < h.n; i++ {
		out = append(out, h.ring[(h.start+i)%len(h.ring)])
	}
	return out
}

// deliver hands feed events, read in order after h.seq, to the
// subscribers.
func (h *hub) deliver(recs []store.FeedEvent, log *slog.Logger) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	for _, r := range recs {
		if r.Seq <= h.seq {
			continue
		}
		h.seq = r.Seq
		e, err := decodeEvent(r.Data)
		if err != nil {
			log.Warn("inbox: an event of the feed cannot be read; skipped", "seq", r.Seq, "err", err)
			continue
		}
		e.Seq = r.Seq
		h.push(e)
		missed := 0
		for s := range h.subs {
			if e.Seq > s.pos {
				s.pos = e.Seq
				if !s.offer(e) {
					missed++
				}
			}
		}
		h.obs.missedEvents(missed)
	}
}

// skipTo moves the hub to head when the events after its position were
// pruned before it read them: every subscriber is told to resync.
func (h *hub) skipTo(head uint64, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || head <= h.seq {
		return
	}
	h.seq, h.floor, h.start, h.n = head, head, 0, 0
	for s := range h.subs {
		s.pos = head
		s.offer(Event{Seq: head, Type: EventResync, At: at})
		h.obs.resynced()
	}
}

// ephemeral hands an event that is not in the feed to the subscribers.
func (h *hub) ephemeral(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || !h.known {
		return
	}
	e.Seq = h.seq
	missed := 0
	for s := range h.subs {
		if !s.offer(e) {
			missed++
		}
	}
	h.obs.missedEvents(missed)
}

// attach makes s a live subscriber from position pos. The caller holds mu.
func (h *hub) attach(ctx context.Context, s *Subscription, pos uint64) {
	s.pos = pos
	h.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		s.close()
	})
}

// SubscribeOptions set where a subscription starts and its buffer.
type SubscribeOptions struct {
	// After, when not zero, is the Seq of the last event the subscriber
	// handled (an SSE client's Last-Event-ID), on this instance or any
	// other on the same store, before or after a restart. The subscription
	// first gets every later event of the feed, in order — from the
	// inbox's memory (Options.EventHistory) when it still holds them, else
	// from the store — then live events. When the feed no longer holds the
	// events after After (they were pruned, Options.EventRetention), or
	// After is not a number of the feed, it first gets one EventResync
	// instead. Zero starts with the next event.
	After uint64
	// Buffer is how many events the subscriber may fall behind before it
	// misses some, beyond the replayed ones. Zero means Options.EventBuffer.
	Buffer int
}

// Subscribe returns a subscription to every event from now on; it ends
// when ctx ends or the inbox is closed.
func (in *Inbox) Subscribe(ctx context.Context) *Subscription {
	return in.SubscribeWith(ctx, SubscribeOptions{})
}

// SubscribeWith returns a subscription that starts where opts say: after a
// given event, replaying what the subscriber missed from the event feed,
// or with the next event. It ends when ctx ends or the inbox is closed. A
// negative Buffer counts as zero.
//
// What the inbox holds in memory is replayed at once; what it must read
// from the store is read by a goroutine of the subscription, at the
// subscriber's pace (it cannot miss those events), before the live events
// follow.
func (in *Inbox) SubscribeWith(ctx context.Context, opts SubscribeOptions) *Subscription {
	h := in.events
	buf := opts.Buffer
	if buf <= 0 {
		buf = h.buf
	}
	if ctx.Err() == nil {
		in.startFeed(ctx)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || ctx.Err() != nil {
		s := &Subscription{c: make(chan Event), lagged: make(chan struct{}, 1), stop: func() bool { return false }}
		s.close()
		return s
	}
	if h.known && (opts.After == 0 || h.covers(opts.After)) {
		var replay []Event
		if opts.After != 0 {
			replay = h.since(opts.After)
		}
		s := &Subscription{c: make(chan Event, buf+len(replay)), lagged: make(chan struct{}, 1)}
		for _, e := range replay {
			s.c <- e
		}
		h.attach(ctx, s, h.seq)
		return s
	}
	s := &Subscription{c: make(chan Event, buf), lagged: make(chan struct{}, 1), stop: func() bool { return false }}
	in.feed.wg.Add(1)
	go in.catchUp(ctx, s, opts.After)
	return s
}

// catchUp feeds s from the store (or the ring) until it reaches the hub's
// position, then attaches it. Until then it owns s.c: it blocks on the
// subscriber, not the inbox, and closes s.c if it ends first.
func (in *Inbox) catchUp(ctx context.Context, s *Subscription, cur uint64) {
	defer in.feed.wg.Done()
	h := in.events
	attached := false
	defer func() {
		if !attached {
			s.close()
		}
	}()
	select {
	case <-h.ready:
	case <-ctx.Done():
		return
	case <-h.quit:
		return
	}
	send := func(e Event) bool {
		select {
		case s.c <- e:
			return true
		case <-ctx.Done():
		case <-h.quit:
		}
		return false
	}
	ahead := false // cur is beyond the hub's position and a number of the feed
	pause := firstOutcomePause
	for {
		h.mu.Lock()
		if h.closed || ctx.Err() != nil {
			h.mu.Unlock()
			return
		}
		if cur == 0 || cur == h.seq || (ahead && cur > h.seq) {
			if cur == 0 {
				cur = h.seq
			}
			h.attach(ctx, s, cur)
			attached = true
			h.mu.Unlock()
			return
		}
		if h.covers(cur) {
			replay, to := h.since(cur), h.seq
			h.mu.Unlock()
			for _, e := range replay {
				if !send(e) {
					return
				}
			}
			cur = to
			continue
		}
		beyond := cur > h.seq
		h.mu.Unlock()
		var recs []store.FeedEvent
		var err error
		if beyond {
			// a number of the feed that this inbox has not read yet, or none
			recs, err = in.store.ReadEvents(ctx, cur-1, 1)
			if err == nil && len(recs) == 1 {
				ahead = true
				continue
			}
		} else {
			recs, err = in.store.ReadEvents(ctx, cur, pullBatch)
			if err == nil {
				for _, r := range recs {
					e, derr := decodeEvent(r.Data)
					cur = r.Seq
					if derr != nil {
						continue
					}
					e.Seq = r.Seq
					if !send(e) {
						return
					}
				}
				if len(recs) > 0 {
					continue
				}
			}
		}
		switch {
		case err == nil || errors.Is(err, store.ErrPruned):
			// pruned, or not a number of the feed: the subscriber reloads
			h.mu.Lock()
			cur = h.seq
			h.mu.Unlock()
			in.obs.resynced()
			if !send(Event{Seq: cur, Type: EventResync, At: in.now()}) {
				return
			}
		case ctx.Err() != nil:
			return
		default:
			in.log.Warn("inbox: a subscriber's catch-up cannot read the event feed; trying again", "err", err)
			t := time.NewTimer(jitter(pause))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			case <-h.quit:
				t.Stop()
				return
			}
			pause = min(2*pause, maxOutcomePause)
		}
	}
}

// LastEventSeq returns the Seq of the latest event of the feed this inbox
// has delivered: a subscriber that loads the inbox's state after reading
// it and then subscribes with it as After misses nothing. Right after New
// it waits until the inbox has read where the store's feed stands (a store
// read that is retried while the store fails); after Close it returns 0.
func (in *Inbox) LastEventSeq() uint64 {
	h := in.events
	in.startFeed(nil)
	select {
	case <-h.ready:
	case <-h.quit:
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}
