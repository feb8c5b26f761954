package inbox

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/parleyhq/parley/channel"
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

// DefaultEventHistory is the number of recent events an inbox keeps for
// subscribers that resume (SubscribeOptions.After).
const DefaultEventHistory = 4096

// Event is one change in the inbox, for live UIs and notifications (T20).
type Event struct {
	// Seq numbers the inbox's events: every event gets one more than the
	// previous one. A subscriber that reconnects passes the last Seq it
	// handled as SubscribeOptions.After. Numbering starts from the time the
	// Inbox was created, in microseconds, so the numbers of an inbox that
	// replaces another (a restarted process) are above the old ones and a
	// subscriber that resumes across the restart gets EventResync instead
	// of unrelated events.
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
	// from the inbox's history: subscribe again with After set to the Seq
	// of the last event handled before this one.
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
}

// C returns the channel of events. It is closed when the subscription's
// context ends or the inbox is closed.
func (s *Subscription) C() <-chan Event { return s.c }

// Lagged receives a value when the subscription has missed an event (one
// value however many were missed until it is read). A subscriber that
// cannot wait for the next event to learn of a gap selects on it, and
// resumes from the inbox's history with SubscribeWith(After: the Seq of
// the last event it handled).
func (s *Subscription) Lagged() <-chan struct{} { return s.lagged }

// Missed returns how many events the subscriber has missed in all.
func (s *Subscription) Missed() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

func (s *Subscription) offer(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return
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
	}
}

func (s *Subscription) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		close(s.c)
	}
}

// hub numbers events, keeps the recent ones in a ring and hands them to
// subscribers. Publishing holds mu, so every subscriber sees events in Seq
// order.
type hub struct {
	mu     sync.Mutex
	buf    int
	subs   map[*Subscription]struct{}
	closed bool

	seq   uint64  // Seq of the latest event published; base before the first
	ring  []Event // the latest events, oldest at start
	start int
	n     int
}

func newHub(buf, history int, created time.Time) *hub {
	if history == 0 {
		history = DefaultEventHistory
	}
	base := uint64(0)
	if us := created.UnixMicro(); us > 0 {
		base = uint64(us)
	}
	return &hub{buf: buf, subs: make(map[*Subscription]struct{}), seq: base, ring: make([]Event, history)}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.stop()
		s.close()
		delete(h.subs, s)
	}
}

// SubscribeOptions set where a subscription starts and its buffer.
type SubscribeOptions struct {
	// After, when not zero, is the Seq of the last event the subscriber
	// handled (an SSE client's Last-Event-ID). The subscription first gets
	// every later event the inbox still holds in its history, in order,
	// then live events; when the history no longer reaches back to After
	// (or After is not one of this inbox's numbers), it first gets one
	// EventResync instead. Zero starts with the next event published.
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
// given event, replaying what the subscriber missed from the inbox's
// history, or with the next event. It ends when ctx ends or the inbox is
// closed. A negative Buffer counts as zero.
func (in *Inbox) SubscribeWith(ctx context.Context, opts SubscribeOptions) *Subscription {
	h := in.events
	buf := opts.Buffer
	if buf <= 0 {
		buf = h.buf
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || ctx.Err() != nil {
		s := &Subscription{c: make(chan Event), lagged: make(chan struct{}, 1), stop: func() bool { return false }}
		s.close()
		return s
	}
	var replay []Event
	resync := false
	if opts.After != 0 && opts.After != h.seq {
		oldest := h.seq - uint64(h.n) // the Seq just before the oldest held
		if opts.After > h.seq || opts.After < oldest {
			resync = true
		} else {
			replay = h.since(opts.After)
		}
	}
	extra := len(replay)
	if resync {
		extra = 1
	}
	s := &Subscription{c: make(chan Event, buf+extra), lagged: make(chan struct{}, 1)}
	if resync {
		s.c <- Event{Seq: h.seq, Type: EventResync, At: in.now()}
	}
	for _, e := range replay {
		s.c <- e
	}
	h.subs[s] = struct{}{}
	s.stop = context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		s.close()
	})
	return s
}

// since returns the held events with Seq above after, oldest first. The
// caller holds mu and has checked that after is within the history.
func (h *hub) since(after uint64) []Event {
	k := int(h.seq - after) // how many to return, ≤ h.n
	out := make([]Event, 0, k)
	for i := h.n - k; i < h.n; i++ {
		out = append(out, h.ring[(h.start+i)%len(h.ring)])
	}
	return out
}

// LastEventSeq returns the Seq of the latest event published, or the number
// just below the first one when none was: a subscriber that loads the
// inbox's state after reading it and then subscribes with it as After
// misses nothing.
func (in *Inbox) LastEventSeq() uint64 {
	h := in.events
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.seq
}

func (in *Inbox) publish(e Event) {
	h := in.events
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	h.seq++
	e.Seq = h.seq
	if h.n < len(h.ring) {
		h.ring[(h.start+h.n)%len(h.ring)] = e
		h.n++
	} else {
		h.ring[h.start] = e
		h.start = (h.start + 1) % len(h.ring)
	}
	for s := range h.subs {
		s.offer(e)
	}
}
