package store

import (
	"context"
	"errors"
	"time"

	"github.com/parleyhq/parley/channel"
	"github.com/parleyhq/parley/status"
)

// Errors a Store returns, matched with errors.Is. A Store wraps them with
// context but never replaces them.
var (
	// ErrNotFound: no thread, message or delivery has that ID (or provider
	// ID, or subject).
	ErrNotFound = errors.New("not found")
	// ErrConflict: the version a write carried is not the stored one, or a
	// new thread's subject got another live thread meanwhile. The caller
	// reads again and retries.
	ErrConflict = errors.New("conflicting write")
	// ErrDuplicate: a message or delivery with that provider ID is already
	// stored in the same direction (M5; see WriteThread). Nothing was
	// written.
	ErrDuplicate = errors.New("duplicate provider message ID")
)

// Store is the storage an inbox runs on. It is plain storage: the inbox
// owns every rule (validation, status merging, timestamps, events) and asks
// the store only to keep values, find them through indexes, and apply each
// write atomically.
//
// The promises every implementation keeps:
//   - Every method takes a context first and returns ctx.Err() (possibly
//     wrapped) when it ends before the work is done.
//   - Values go in and out by copy: a Store never keeps or returns memory the
//     caller can change, and a caller's later changes to a value it wrote
//     never reach the store.
//   - A write that does not fit together (see ThreadWrite.Check) fails with
//     ErrInvalid, ErrConflict or ErrDuplicate before anything is looked at.
//   - Each write method is atomic: it applies all of its changes or none,
//     and a failed write leaves the store exactly as it was.
//   - Writes of threads and deliveries are checked against the Version the
//     caller read (optimistic concurrency); a stale version fails with
//     ErrConflict and changes nothing. A successful write stores
//     Version+1.
//   - Reads see every write that returned before they started.
//   - Methods are safe for concurrent use, also from several processes
//     sharing one database.
//   - Times keep at least microsecond precision (the inbox's clock is
//     truncated to microseconds, so every store returns the times it was
//     given); their location is not kept.
//
// The conformance suite in package storetest checks these promises and
// every inbox rule on an implementation.
type Store interface {
	// Thread returns the thread with the given ID, or ErrNotFound.
	Thread(ctx context.Context, id string) (Thread, error)

	// LiveThread returns the live thread of a subject: the most recently
	// created thread with that subject (T1). ErrNotFound when the subject
	// has none.
	LiveThread(ctx context.Context, s Subject) (Thread, error)

	// Threads returns up to q.Limit threads matching q, in list order (T3):
	// favourites first, then by SortTime newest first, then by ID
	// ascending; it starts after q.After when set. Dormant threads are never
	// returned. Paging with the Position of the last thread returned never
	// repeats or skips a thread that did not change meanwhile.
	Threads(ctx context.Context, q ThreadQuery) ([]Thread, error)

	// Counters returns the attention counters at time now (T15).
	Counters(ctx context.Context, now time.Time) (Counters, error)

	// Message returns the message with the given ID, or ErrNotFound.
	Message(ctx context.Context, id string) (Message, error)

	// MessageByProviderID returns the inbound message whose ProviderID is
	// id (M5), or ErrNotFound. Outbound messages are not looked up by it:
	// their provider IDs are another namespace, reached through
	// DeliveryByProviderID.
	MessageByProviderID(ctx context.Context, providerID string) (Message, error)

	// Messages returns up to q.Limit messages of one thread matching q,
	// ordered by CreatedAt then ID (newest first when q.Newest), starting
	// after q.After when set.
	Messages(ctx context.Context, q MessageQuery) ([]Message, error)

	// Assignments returns the ownership history of a thread, oldest first
	// (T12). An unknown thread has an empty history.
	Assignments(ctx context.Context, threadID string) ([]Assignment, error)

	// Delivery returns the delivery with the given ID, or ErrNotFound.
	Delivery(ctx context.Context, id string) (Delivery, error)

	// DeliveryByProviderID returns the delivery whose ProviderID is id, or
	// ErrNotFound.
	DeliveryByProviderID(ctx context.Context, providerID string) (Delivery, error)

	// Deliveries returns up to q.Limit deliveries of message q.MessageID in
	// ID order, after the delivery ID q.After when it is not "". A message
	// that does not exist gives ErrNotFound; one without deliveries an
	// empty list.
	Deliveries(ctx context.Context, q DeliveryQuery) ([]Delivery, error)

	// Sent returns up to q.Limit deliveries matching q, newest message
	// first (CreatedAt descending, then ID ascending), starting after
	// q.After (M7).
	Sent(ctx context.Context, q SentQuery) ([]Delivery, error)

	// WriteThread applies a change to one thread, atomically: the thread's
	// new state, and optionally a new message with its deliveries, a change
	// of its messages' unread flags and an ownership history entry.
	//
	// With w.Thread.Version == 0 the thread is created; it fails with
	// ErrConflict when w.Thread.ID exists, or when the subject's live thread
	// is not w.ReplacesLive ("" meaning the subject has none), and the new
	// thread becomes the subject's live thread. Otherwise the stored
	// version must equal w.Thread.Version (else ErrConflict; ErrNotFound
	// when the thread does not exist). The subject of a thread never
	// changes.
	//
	// Provider IDs are unique per direction (M5): inbound messages are one
	// namespace; outbound messages and deliveries are another, in which a
	// direct outbound message may share the provider ID of one of its own
	// deliveries. A message or delivery whose ProviderID is not empty and
	// already taken in its namespace fails with ErrDuplicate; an inbound
	// message that carries the provider ID of an outbound delivery (a mail
	// client's redirect keeps the Message-ID) is stored. Message and
	// deliveries must belong to w.Thread.ID.
	WriteThread(ctx context.Context, w ThreadWrite) error

	// WriteDelivery stores a changed delivery. The stored version must equal
	// d.Version (else ErrConflict; ErrNotFound for an unknown ID). A
	// ProviderID set on it must not belong to another delivery or to an
	// outbound message other than its own (ErrDuplicate); inbound messages
	// do not count. The store updates the Counts of the delivery's message
	// (S5). MessageID and ThreadID never change.
	WriteDelivery(ctx context.Context, d Delivery) error

	// ClaimDue claims up to limit deliveries whose status is
	// status.Scheduled, whose DueAt is at or before now and whose claim has
	// expired (ClaimedUntil at or before now), setting ClaimedUntil to until
	// and incrementing their Version, atomically, and returns them, earliest
	// DueAt first. Two concurrent calls never claim the same delivery (C8).
	ClaimDue(ctx context.Context, now, until time.Time, limit int) ([]Delivery, error)

	// Scheduled returns the deliveries still in status.Scheduled whose
	// Anchor is anchor (C15), in ID order.
	Scheduled(ctx context.Context, anchor string) ([]Delivery, error)

	// SetOptOut records that address opted out of (optedOut true) or back
	// into kind (R5).
	SetOptOut(ctx context.Context, kind channel.Kind, address string, optedOut bool) error

	// OptedOut returns the subset of addresses that are opted out of kind.
	OptedOut(ctx context.Context, kind channel.Kind, addresses []string) (map[string]bool, error)
}

// ThreadWrite is one atomic change to a thread. See Store.WriteThread.
type ThreadWrite struct {
	// Thread is the thread's new state.
	Thread Thread
	// ReplacesLive is, when creating a thread, the ID of the subject's live
	// thread the caller saw ("" for none).
	ReplacesLive string
	// Message, when not nil, is inserted into the thread.
	Message *Message
	// Deliveries are inserted with Message.
	Deliveries []Delivery
	// ReadAll marks every message of the thread read (T5), Message
	// included.
	ReadAll bool
	// Unread lists IDs of messages of the thread to mark unread (T6). An ID
	// that is not a message of the thread fails with ErrNotFound.
	Unread []string
	// Assignment, when not nil, is appended to the ownership history (T12).
	Assignment *Assignment
	// Times, when not nil, sets the ScheduledFor and SentAt of a message of
	// the thread already stored (a scheduled message that moved or went, C8,
	// C15); nothing else of a stored message ever changes. A message that
	// is not of the thread fails with ErrNotFound.
	Times *MessageTimes
}

// MessageTimes are the new times of a stored message (ThreadWrite.Times).
type MessageTimes struct {
	MessageID    string
	ScheduledFor time.Time
	SentAt       time.Time
}

// StatusFilter is the status filter of T11. The zero value is All.
type StatusFilter uint8

// The five status filters of T11. Every filter but Archived leaves archived
// threads out.
const (
	All StatusFilter = iota
	Unread
	Favourites
	Muted
	Archived
)

// Lifecycle is the lifecycle filter of T11. The zero value is AnyLifecycle.
type Lifecycle uint8

// The lifecycle filters of T11.
const (
	AnyLifecycle Lifecycle = iota
	Open
	Closed
)

// Position is a thread's place in list order (T3), the keyset cursor of
// Threads.
type Position struct {
	Favourite bool
	SortTime  time.Time
	ID        string
}

// PositionOf returns the list position of t.
func PositionOf(t Thread) Position {
	return Position{Favourite: t.Favourite, SortTime: t.SortTime, ID: t.ID}
}

// Before reports whether p comes before q in list order (T3).
func (p Position) Before(q Position) bool {
	if p.Favourite != q.Favourite {
		return p.Favourite
	}
	if !p.SortTime.Equal(q.SortTime) {
		return p.SortTime.After(q.SortTime)
	}
	return p.ID < q.ID
}

// ThreadQuery selects threads (T11, T12, T13, T17).
type ThreadQuery struct {
	// Status, Lifecycle and Category (zero: any) are the T11 filters.
	Status    StatusFilter
	Lifecycle Lifecycle
	Category  SubjectKind
	// Assignee keeps threads assigned to that agent; Unassigned keeps
	// unassigned ones; neither keeps all (T12).
	Assignee   string
	Unassigned bool
	// Search, when not empty, keeps threads that match it (T13); see
	// Search.
	Search Search
	// ActiveSince, when not zero, keeps threads whose LastActivityAt is at
	// or after it (T17).
	ActiveSince time.Time
	// Now is the time mutes are judged at (T7).
	Now time.Time
	// After, when not nil, starts the page after that position.
	After *Position
	// Limit is the largest number of threads returned; at least 1.
	Limit int
}

// Search is a parsed search query (T13). The inbox builds it with
// textindex.ParseQuery (package inbox/store/textindex), and a thread matches
// it as textindex.MatchThread says, so that every store matches the same
// way.
type Search struct {
	// Terms are folded words: a thread matches when every term is a prefix
	// of one of the textindex.SubjectWords of its snapshot (names, email,
	// audience or event name), or when one of its messages holds every word
	// of textindex.MessageTerms(Terms) as a whole word.
	Terms []string
	// Phone, when not empty, is a digit string: a thread matches when it is
	// a prefix of one of the textindex.PhoneForms of the snapshot's phone
	// (E.164 digits, national number with and without trunk prefix). Terms
	// is then empty.
	Phone string
}

// IsZero reports whether s matches everything.
func (s Search) IsZero() bool { return len(s.Terms) == 0 && s.Phone == "" }

// Counters are the attention counters of T15.
type Counters struct {
	// Attention is the number of threads with unread messages that are
	// neither muted nor archived (nor dormant).
	Attention int
	// Contacts, Audiences and Events are the same count per category:
	// threads whose subject is a contact, an audience or an event (T11).
	Contacts, Audiences, Events int
}

// Category returns the count of the category of subject kind k, 0 for an
// invalid kind.
func (c Counters) Category(k SubjectKind) int {
	switch k {
	case Contact:
		return c.Contacts
	case Audience:
		return c.Audiences
	case Event:
		return c.Events
	}
	return 0
}

// Add counts n more threads of subject kind k: in its category and in
// Attention. An invalid kind counts nowhere.
func (c *Counters) Add(k SubjectKind, n int) {
	switch k {
	case Contact:
		c.Contacts += n
	case Audience:
		c.Audiences += n
	case Event:
		c.Events += n
	default:
		return
	}
	c.Attention += n
}

// MessageQuery selects messages of one thread (M6, T14).
type MessageQuery struct {
	// ThreadID is required.
	ThreadID string
	// Kinds, when not empty, keeps messages of those channel kinds.
	Kinds []channel.Kind
	// Since and Until, when not zero, keep messages created at or after
	// Since and before Until.
	Since, Until time.Time
	// Direction, when not zero, keeps messages of that direction.
	Direction Direction
	// Origin, when not zero, keeps messages of that origin.
	Origin Origin
	// Groups, when not empty, keeps messages sent to one of those event
	// groups.
	Groups []string
	// Terms, when not empty, keeps messages whose text holds every folded
	// term as a whole word (T14), as textindex.MatchMessage says.
	Terms []string
	// Newest orders newest first.
	Newest bool
	// After, when not "", is the ID of the last message of the previous
	// page.
	After string
	// Limit is the largest number of messages returned; at least 1.
	Limit int
}

// DeliveryQuery selects the deliveries of one message (M2).
type DeliveryQuery struct {
	// MessageID is required.
	MessageID string
	// After, when not "", is the ID of the last delivery of the previous
	// page.
	After string
	// Limit is the largest number of deliveries returned; at least 1.
	Limit int
}

// SentQuery selects deliveries of outbound messages across all threads
// (M7). Zero fields do not filter.
type SentQuery struct {
	Address  string
	Campaign string
	Kind     channel.Kind
	Status   status.Status
	// CheckInFrom/To and CheckOutFrom/To keep deliveries whose booking dates
	// fall in [From, To).
	CheckInFrom, CheckInTo   time.Time
	CheckOutFrom, CheckOutTo time.Time
	// SendingBefore, when not zero, keeps deliveries whose Sending is not
	// zero and before it: the outbox's attempts whose outcome is not
	// recorded (see Delivery.Sending). A store finds them without reading
	// the other deliveries.
	SendingBefore time.Time
	// After is the ID of the last delivery of the previous page.
	After string
	// Limit is the largest number of deliveries returned; at least 1.
	Limit int
}
