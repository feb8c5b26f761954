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
	"thread-started", "thread-read", "thread-changed", "assigned", "typing", "typing-stopped", "opted-out", "opted-in", "device-retired", "outcome-unknown"}

// String returns the event type's name ("message-received").
func (e EventType) String() string {
	if int(e) < len(eventNames) && e > 0 {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// Event is one change in the inbox, for live UIs and notifications (T20).
type Event struct {
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
	// this one because its buffer was full (T20).
	Missed uint64
}

// Subscription receives inbox events (T20). Read them from C. A subscriber
// that falls behind by more than its buffer misses events; it is never
// allowed to block the inbox, and the next event it gets says how many it
// missed (Event.Missed), as does Missed.
type Subscription struct {
	c      chan Event
	mu     sync.Mutex
	missed uint64 // not yet reported in an event
	total  uint64
	done   bool
}

// C returns the channel of events. It is closed when the subscription's
// context ends or the inbox is closed.
func (s *Subscription) C() <-chan Event { return s.c }

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

type hub struct {
	mu     sync.RWMutex
	buf    int
	subs   map[*Subscription]struct{}
	closed bool
	done   chan struct{} // closed with the hub
}

func newHub(buf int) *hub {
	return &hub{buf: buf, subs: make(map[*Subscription]struct{}), done: make(chan struct{})}
}

func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	close(h.done)
	for s := range h.subs {
		s.close()
		delete(h.subs, s)
	}
}

// Subscribe returns a subscription to every event from now on; it ends
// when ctx ends or the inbox is closed. A goroutine watches ctx until then.
func (in *Inbox) Subscribe(ctx context.Context) *Subscription {
	h := in.events
	s := &Subscription{c: make(chan Event, h.buf)}
	h.mu.Lock()
	if h.closed || ctx.Err() != nil {
		h.mu.Unlock()
		s.close()
		return s
	}
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	go func() {
		select {
		case <-ctx.Done():
		case <-h.done:
		}
		h.mu.Lock()
		delete(h.subs, s)
		h.mu.Unlock()
		s.close()
	}()
	return s
}

func (in *Inbox) publish(e Event) {
	h := in.events
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.subs {
		s.offer(e)
	}
}
