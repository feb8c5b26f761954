package store

import (
	"context"
	"errors"
	"time"
)

// ErrPruned: ReadEvents was asked for events after a sequence number whose
// successors were pruned (PruneEvents): the reader cannot be given what it
// missed and must reload its state.
var ErrPruned = errors.New("events pruned")

// MaxEphemeral is the largest ephemeral event PublishEphemeral takes, in
// bytes (PostgreSQL's NOTIFY payload is below 8,000 bytes).
const MaxEphemeral = 4096

// FeedEvent is one event of a store's event feed (T20): what the inbox
// published, in a form only the inbox reads. Stores keep Data as opaque
// bytes, and a copy of it: the caller of a write may reuse the Data it
// passed once the write returned.
type FeedEvent struct {
	// Seq is the event's sequence number, set by the store when it appends
	// the event (see Feed); it is ignored on the way in.
	Seq uint64
	// At is when the event happened, on the inbox's clock; PruneEvents
	// judges age by it.
	At time.Time
	// Data is the event, encoded by the inbox.
	Data []byte
}

// Notice is what Feed.Watch reports.
type Notice struct {
	// Ephemeral, when not nil, is the Data of an ephemeral event published
	// with PublishEphemeral. Otherwise the notice says that events may have
	// been appended: the watcher reads them with ReadEvents.
	Ephemeral []byte
	// Seq, on a notice of appended events, is the Seq of the latest event
	// appended as far as the store knows; zero when it does not know (it
	// started watching, or reconnected and may have missed notices), which
	// tells the watcher to read in any case.
	Seq uint64
}

// Feed is the event feed of a store: the place where several inboxes on one
// store (several app instances on one database) meet, so that a subscriber
// of any of them sees every event of the store, once, in one order (T20).
//
// The promises every implementation keeps:
//   - Events are appended with the write that causes them, in the same
//     transaction (ThreadWrite.Events, the events of WriteDelivery and
//     SetOptOut), or on their own with AppendEvents; a write that fails
//     appends nothing.
//   - Sequence numbers are consecutive: each event appended gets one more
//     than the previous event appended to the store, whichever instance
//     appended it. The first number is the store's choice (above zero).
//   - Events become visible in Seq order: once ReadEvents returns an event,
//     it returns every event with a lower Seq that was not pruned, so a
//     reader that resumes after the last Seq it read misses nothing.
//   - Pruning removes the oldest events only (a prefix of the feed), so
//     what remains is consecutive.
type Feed interface {
	// AppendEvents appends events that no stored change causes (a status
	// report for an unknown message, say), atomically, numbered in order.
	AppendEvents(ctx context.Context, events ...FeedEvent) error

	// ReadEvents returns up to limit events with Seq above after, in Seq
	// order; none when after is the latest or beyond it. When events above
	// after are not in the feed any more — they were pruned, or after is
	// below the number just before the first the store gave — it fails
	// with ErrPruned. A limit below 1 fails with ErrInvalid.
	ReadEvents(ctx context.Context, after uint64, limit int) ([]FeedEvent, error)

	// LastEventSeq returns the Seq of the latest event appended (pruned or
	// not), or the number just below the first one the store will give when
	// it has none.
	LastEventSeq(ctx context.Context) (uint64, error)

	// PruneEvents removes the oldest events, those whose At is before
	// before, and returns how many it removed. It stops at the first event
	// that is not that old (in Seq order), so that the feed loses only a
	// prefix; ReadEvents after a removed event then fails with ErrPruned.
	PruneEvents(ctx context.Context, before time.Time) (int, error)

	// Watch calls fn until ctx ends: with a notice of appended events
	// (Notice.Ephemeral nil) after events were appended through any store
	// on the same data (this one included) — several appends may make one
	// notice — and with each ephemeral event published through any of them
	// (this one included). It first calls fn with a notice of Seq zero once
	// it watches, and again whenever it may have missed notices (a lost
	// connection), so that a watcher that reads on every notice misses no
	// event. Ephemeral events are best-effort: one published while a
	// watcher reconnects is lost. fn is called from one goroutine at a
	// time, must not block and must not call the store. Watch returns an
	// error only when it cannot start watching.
	Watch(ctx context.Context, fn func(Notice)) error

	// PublishEphemeral hands data (at most MaxEphemeral bytes, else
	// ErrInvalid) to the watchers of the store, this one included, without
	// storing it (typing indicators, T16).
	PublishEphemeral(ctx context.Context, data []byte) error
}

// Limiter spreads sends over time across every inbox on a store, so that a
// sender identity's rate holds whatever the number of app instances (C9).
type Limiter interface {
	// ReserveSends reserves n consecutive sends under the token bucket key,
	// which lets perSecond sends through per second with bursts of burst
	// (at least 1), and returns how long the caller waits before the first
	// of them; the i-th (counted from 0) waits i/perSecond longer. A wait
	// below zero is no wait. Reservations are never given back: a caller
	// that does not send leaves a gap. Time is measured on the store's
	// clock, one clock for every instance sharing the store (the database's
	// for a database), not on the inbox's. n and burst below 1 or a rate
	// that is not above zero fail with ErrInvalid.
	//
	// Every sequence of sends that waits as told stays within the bucket:
	// over any span of d, at most burst + d×perSecond of them start.
	ReserveSends(ctx context.Context, key string, perSecond float64, burst, n int) (time.Duration, error)
}
